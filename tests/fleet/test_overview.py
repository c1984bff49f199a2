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


def test_job_figures_count_exactly_what_the_jobs_list_shows(cast, connection, other, make_connection, make_job):
    """The figures (one SQL statement) against job_list, the jobs page's own rule, per person, connection, status."""
    import random

    from django.contrib.auth.models import AnonymousUser

    from portaladmin.fleet.selectors.overview import JOB_FIGURES, job_figures
    from portaladmin.jobs.selectors import job_list
    from portaladmin.portals.permissions import connections_visible_to

    third = make_connection("third")
    rnd = random.Random(5)
    statuses = [s for s, _ in JOB_FIGURES] + [JobStatus.SUCCEEDED, JobStatus.CANCELLED]
    for _ in range(40):
        conns = rnd.sample([connection, other, third], rnd.randint(1, 3))
        make_job(conns, status=rnd.choice(statuses), by=cast["operator"])
    make_job([connection], status=JobStatus.FAILED, total=0).connections.clear()  # a job on no connection
    for who in ("viewer", "operator", "admin", "superuser", "outsider"):
        user = cast[who]
        conns = list(connections_visible_to(user))
        want: dict = {}
        for job in job_list(user=user).filter(status__in=[s for s, _ in JOB_FIGURES]).prefetch_related("connections"):
            for conn in job.connections.all():
                if conn in conns:
                    want.setdefault(conn.pk, {}).setdefault(job.status, 0)
                    want[conn.pk][job.status] += 1
        assert job_figures(user=user, connections=conns) == want, who
    assert job_figures(user=AnonymousUser(), connections=[connection]) == {}


def test_watchdog_jobs_are_what_the_jobs_list_rule_gives_in_order(cast, connection, other, make_connection,
                                                                   make_job):
    """The watchdog's job lists (one SQL statement) against the same lists read through job_list and the ORM."""
    import random
    from datetime import timedelta

    from django.db.models import Q
    from django.utils import timezone

    from portaladmin.fleet.selectors.overview import JOB_FAILED, _watchdog_jobs
    from portaladmin.jobs.models import JOB_ACTIVE, Job
    from portaladmin.jobs.selectors import job_list
    from portaladmin.portals.permissions import connections_visible_to

    third = make_connection("third")
    rnd = random.Random(11)
    now = timezone.now()
    for _ in range(60):
        conns = rnd.sample([connection, other, third], rnd.randint(1, 3))
        status = rnd.choice([*JOB_ACTIVE, *JOB_FAILED, JobStatus.SUCCEEDED])
        job = make_job(conns, status=status, by=cast["operator"], failed=rnd.choice([0, 1]), total=1,
                       deadline=now + timedelta(minutes=rnd.randint(-600, 600)),
                       finished_minutes_ago=rnd.choice([None, 5, 60, 23 * 60, 25 * 60]))
        if rnd.random() < 0.15:
            Job.objects.filter(pk=job.pk).update(stuck_at=now)
        if rnd.random() < 0.15:
            retry = make_job(conns, status=JobStatus.RUNNING, by=cast["operator"])
            Job.objects.filter(pk=retry.pk).update(retry_of=job)
    for who in ("viewer", "operator", "superuser", "outsider"):
        user = cast[who]
        assert list(connections_visible_to(user)) or who == "outsider"
        jobs = job_list(user=user)
        want_stuck = list(jobs.filter(status__in=JOB_ACTIVE).filter(Q(deadline__lt=now) | Q(stuck_at__isnull=False))
                          .order_by("deadline", "pk").values_list("pk", flat=True)[:7])
        want_failed = list(jobs.filter(status__in=JOB_FAILED, failed_count__gt=0, retries__isnull=True,
                                       finished_at__gte=now - timedelta(hours=24))
                           .order_by("-finished_at", "-pk").values_list("pk", flat=True)[:7])
        stuck, failed = _watchdog_jobs(user=user, now=now, limit=7)
        assert [j.pk for j in stuck] == want_stuck and [j.pk for j in failed] == want_failed, who
        if who == "superuser":
            assert want_stuck and want_failed  # the data exercises both lists
        for job in stuck + failed:  # the connections come prefetched: asking cancel/retry rights reads nothing
            assert "connections" in job._prefetched_objects_cache


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
