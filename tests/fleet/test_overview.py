"""The overview's figures: one aggregate query for all cards, jobs and activity, HTMX polling."""

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portaladmin.audit.services import audit_record
from portaladmin.jobs.models import JobStatus
from portaladmin.portals.models import Membership, Role

from .conftest import figure


def overview_queries(c) -> list[str]:
    with CaptureQueriesContext(db) as ctx:
        response = c.get(reverse("home"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def test_queries_do_not_grow_with_the_number_of_connections(cast, connection, make_connection, make_snapshots,
                                                           client_as):
    viewer = cast["viewer"]
    make_snapshots(connection, 3)
    c = client_as(viewer)
    overview_queries(c)  # warm-up: session, user
    few = overview_queries(c)
    for i in range(5):
        conn = make_connection(f"more-{i}")
        Membership.objects.create(user=viewer, connection=conn, role=Role.VIEWER)
        make_snapshots(conn, 2)
    many = overview_queries(c)
    assert len(many) == len(few)
    # the dataset figures of every card: ONE query of the maintained counts, no recount of the snapshot rows
    assert not [q for q in many if "datasets_datasetsnapshot" in q and "COUNT(" in q.upper()]
    assert len([q for q in many if "fleet_snapshotcount" in q]) == 1
    html = c.get(reverse("home")).content.decode()
    assert all(figure(html, f"more-{i}", "datasets") == "2" for i in range(5))


def test_dataset_figures_per_card(cast, connection, other, make_snapshots, client_as):
    make_snapshots(connection, 5, prefix="pub", is_published=True, status="idle")
    make_snapshots(connection, 3, prefix="unp", is_published=False, status="error")
    make_snapshots(connection, 2, prefix="busy", is_published=True, status="queued")
    make_snapshots(connection, 1, prefix="lim", is_published=None, status="limit_reached")
    make_snapshots(other, 4, is_published=True)
    html = client_as(cast["superuser"]).get(reverse("home")).content.decode()
    expected = {"datasets": 11, "published": 7, "unpublished": 3, "in-error": 3, "processing": 2, "limit-reached": 1}
    for name, value in expected.items():
        assert figure(html, "demo", name) == str(value), name
    assert figure(html, "other", "datasets") == "4" and figure(html, "other", "in-error") == "0"


def test_job_figures_link_to_exact_lists(cast, connection, other, make_job, client_as):
    op = cast["operator"]
    make_job([connection], status=JobStatus.RUNNING, by=op)
    make_job([connection], status=JobStatus.WAITING, by=op)
    make_job([connection], status=JobStatus.FAILED, by=op, failed=1)
    make_job([connection], status=JobStatus.SUCCEEDED, by=op)
    make_job([connection, other], status=JobStatus.RUNNING, by=op)  # touches a connection the viewer cannot see
    html = client_as(cast["viewer"]).get(reverse("home")).content.decode()
    card = html[html.index('id="card-demo"'):]
    assert '<a href="/jobs/?connection=demo&amp;status=running" data-figure="jobs-running"' in card
    assert ">1 running</a>" in card and ">1 waiting for the portal</a>" in card and ">1 failed</a>" in card
    # the superuser sees the cross-portal job too, on both cards
    html = client_as(cast["superuser"]).get(reverse("home")).content.decode()
    assert ">2 running</a>" in html[html.index('id="card-demo"'):html.index('id="card-other"')]
    assert ">1 running</a>" in html[html.index('id="card-other"'):]


def test_last_activity_and_health(cast, connection, client_as):
    from django.utils import timezone

    connection.health, connection.health_message = "auth_failed", "The portal refused the key (401)."
    connection.last_ok_at, connection.last_latency_ms = timezone.now(), 123
    connection.save()
    audit_record(action="dataset.unpublish", actor=cast["operator"], connection=connection, target="da_x")
    html = client_as(cast["viewer"]).get(reverse("home")).content.decode()
    assert 'data-health="auth_failed"' in html and "The portal refused the key (401)." in html
    assert "123 ms" in html and "Last successful call" in html
    assert "oscar" in html and "dataset.unpublish" in html


@pytest.mark.parametrize("partial", [True, False])
def test_overview_polls_itself(cast, connection, client_as, partial):
    headers = {"HX-Request": "true"} if partial else {}
    body = client_as(cast["viewer"]).get(reverse("home"), headers=headers).content.decode()
    assert f'hx-get="{reverse("home")}" hx-trigger="every 15s"' in body
    assert ("<nav" in body) is not partial
    assert "style=" not in body and "<script>" not in body and "hx-on" not in body  # strict CSP
