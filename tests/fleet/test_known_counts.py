"""Every figure of the overview is true: two sandbox portals with known contents, synced over live HTTP."""

import pytest
from django.urls import reverse

from portaladmin.audit.services import audit_record
from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.datasets.services import catalogue_sync_run, snapshot_refresh
from portaladmin.fleet.services import harvester_snapshot_refresh
from portaladmin.portals.client import client_for
from portaladmin.portals.models import Membership, Role
from portaladmin.portals.services import connection_test
from portaladmin.sandbox.models import SandboxDataset

from .conftest import figure

pytestmark = pytest.mark.live


def expected_counts(name: str, *, busy: int = 0) -> dict:
    """What the sandbox holds, read from its own tables (not from the snapshot under test)."""
    rows = SandboxDataset.objects.filter(portal__name=name)
    return {"datasets": rows.count(), "published": rows.filter(is_published=True).count(),
            "unpublished": rows.filter(is_published=False).count(), "in-error": rows.filter(status="error").count(),
            "limit-reached": rows.filter(status="limit_reached").count(), "processing": busy}


def sync_everything(connection) -> None:
    connection_test(connection=connection)
    catalogue_sync_run(connection=connection)
    for uid in DatasetSnapshot.objects.filter(connection=connection).values_list("uid", flat=True):
        snapshot_refresh(connection=connection, uid=uid, with_status=True)  # statuses: the list carries none
    harvester_snapshot_refresh(connection=connection)


def test_the_overview_shows_exactly_the_portals_contents(live_portal, sandbox_clock, client_as, make_user):
    # given: two portals with different, known contents
    alpha = live_portal("alpha", datasets=40, harvesters=3, users=3, groups=1, pages=0)
    beta = live_portal("beta", datasets=70, harvesters=1, users=3, groups=1, pages=0)
    # two datasets of alpha are being published right now (unpublished, idle, no fate)
    candidates = list(SandboxDataset.objects.filter(portal__name="alpha", status="idle", is_published=False, fate="ok")
                      .order_by("id").values_list("uid", flat=True)[:2])
    assert len(candidates) == 2
    for uid in candidates:
        client_for(alpha).dataset_publish(uid)
    sandbox_clock.advance(0.6)  # past the publish race: the portal now says "queued"
    for conn in (alpha, beta):
        sync_everything(conn)
    audit_record(action="dataset.publish", actor=None, connection=alpha, target="alpha-00002")
    admin = make_user("root", superuser=True)

    # when
    html = client_as(admin).get(reverse("home")).content.decode()

    # then: every figure, on each card
    for conn, busy in ((alpha, 2), (beta, 0)):
        for name, value in expected_counts(conn.slug, busy=busy).items():
            assert figure(html, conn.slug, name) == str(value), (conn.slug, name)
    # the seed is what we think it is: 40 / 70 own datasets, every 17th in error, every 23rd at its limit
    own = SandboxDataset.objects.filter(harvester_uid="")
    assert own.filter(portal__name="alpha").count() == 40 and own.filter(portal__name="beta").count() == 70
    assert own.filter(portal__name="alpha", status="error").count() == 2
    assert own.filter(portal__name="beta", status="error").count() == 4
    assert own.filter(portal__name="beta", status="limit_reached").count() == 3
    assert figure(html, "alpha", "datasets") != figure(html, "beta", "datasets")
    assert figure(html, "alpha", "harvesters-with-errors") == "1"  # the last seeded harvester fails
    assert figure(html, "beta", "harvesters-with-errors") == "0"  # a single harvester never fails
    alpha_card = html[html.index('id="card-alpha"'):html.index('id="card-beta"')]
    assert 'data-health="ok"' in alpha_card and "Last successful call" in alpha_card
    assert "alpha-00002" in alpha_card  # last activity
    assert "3 harvesters (0 running)" in alpha_card


def test_a_viewer_sees_only_the_portals_they_have_a_role_on(live_portal, client_as, make_user):
    alpha = live_portal("alpha", datasets=5, harvesters=0, users=2, groups=0, pages=0)
    beta = live_portal("beta", datasets=7, harvesters=0, users=2, groups=0, pages=0)
    for conn in (alpha, beta):
        catalogue_sync_run(connection=conn)
    viewer = make_user("vera")
    Membership.objects.create(user=viewer, connection=beta, role=Role.VIEWER)

    html = client_as(viewer).get(reverse("home")).content.decode()
    assert 'id="card-alpha"' not in html and "Portal alpha" not in html
    assert figure(html, "beta", "datasets") == "7"
    board = client_as(viewer).get(reverse("fleet:datasets")).content.decode()
    assert "beta-00001" in board and "alpha-00001" not in board
