"""The harvester snapshot (refreshed in the background) and the harvester health board across connections."""

from unittest import mock

import pytest
from django.urls import reverse

from portaladmin.fleet.models import HarvesterRefresh, HarvesterSnapshot
from portaladmin.fleet.selectors import fleet_harvesters, harvester_error_groups
from portaladmin.fleet.services import harvester_snapshot_refresh
from portaladmin.fleet.tasks import harvester_refresh_all_task, harvester_refresh_task


@pytest.mark.live
def test_refresh_copies_the_harvesters_and_their_errors(live_portal, live_server, make_connection):
    alpha = live_portal("alpha", datasets=2, harvesters=3, users=1, groups=0, pages=0)
    ref = harvester_snapshot_refresh(connection=alpha)
    assert ref.error == "" and ref.ok_at is not None and ref.count == 3
    rows = {h.uid: h for h in HarvesterSnapshot.objects.filter(connection=alpha)}
    assert len(rows) == 3
    failing = [h for h in rows.values() if h.has_error]
    assert len(failing) == 1  # the sandbox's last harvester fails
    assert failing[0].error_message or failing[0].resource_errors
    assert all(h.last_started_at is not None for h in rows.values())

    # a second refresh after a harvester disappeared removes its row; the others keep their ids
    from portaladmin.sandbox.models import SandboxHarvester

    gone = next(iter(rows))
    SandboxHarvester.objects.filter(portal__name="alpha", uid=gone).delete()
    harvester_snapshot_refresh(connection=alpha)
    assert set(HarvesterSnapshot.objects.filter(connection=alpha).values_list("uid", flat=True)) == set(rows) - {gone}

    # an unreachable portal: the error is recorded on its refresh row, the old rows stay
    broken = make_connection("broken", base_url=f"{live_server.url}/sandbox/alpha", api_key="wrong-key-000000")
    ref = harvester_snapshot_refresh(connection=broken)
    assert "refused the connection's key" in ref.error and ref.ok_at is None
    assert "wrong-key" not in ref.error


def test_the_tasks_take_ids_and_fan_out_per_connection(connection, other):
    with mock.patch("portaladmin.fleet.tasks.harvester_refresh_task.delay") as delay:
        assert harvester_refresh_all_task() == 2
    assert sorted(c.kwargs["connection_id"] for c in delay.call_args_list) == sorted([connection.pk, other.pk])
    with mock.patch("portaladmin.fleet.services.harvester_snapshot_refresh",
                    return_value=HarvesterRefresh(error="")) as refresh:
        assert harvester_refresh_task(connection_id=connection.pk) == "ok"
    refresh.assert_called_once_with(connection=connection)
    assert harvester_refresh_task(connection_id=999999) == "gone"


def test_the_beat_schedule_has_the_refresh():
    from portaladmin.celery import app
    from portaladmin.fleet import tasks  # noqa: F401 - what autodiscovery imports in beat

    entry = app.conf.beat_schedule["fleet.harvester_refresh_all"]
    assert entry["task"] == "fleet.harvester_refresh_all" and entry["schedule"] > 0


def test_board_groups_error_messages_across_connections(cast, connection, other, make_harvester, client_as):
    from portaladmin.portals.models import Membership, Role

    Membership.objects.create(user=cast["viewer"], connection=other, role=Role.VIEWER)
    make_harvester(connection, "h1", has_error=True, error_message="Source unreachable",
                   resource_errors={"r1": "Bad CSV", "r2": "Bad CSV", "r3": "Timeout"})
    make_harvester(other, "h2", has_error=True, error_message="Source unreachable", resource_errors={"x": "Bad CSV"})
    make_harvester(other, "h3", status="processing")
    make_harvester(connection, "h4")

    rows = fleet_harvesters(user=cast["viewer"])
    groups = {g.message: g for g in harvester_error_groups(rows)}
    assert groups["Bad CSV"].occurrences == 3 and {h.uid for h in groups["Bad CSV"].harvesters} == {"h1", "h2"}
    assert groups["Source unreachable"].occurrences == 2
    assert groups["Timeout"].occurrences == 1
    assert [g.message for g in harvester_error_groups(rows)][0] == "Bad CSV"  # most frequent first

    assert {h.uid for h in fleet_harvesters(user=cast["viewer"], health="errors")} == {"h1", "h2"}
    assert {h.uid for h in fleet_harvesters(user=cast["viewer"], health="running")} == {"h3"}
    assert {h.uid for h in fleet_harvesters(user=cast["viewer"], health="ok")} == {"h4"}
    assert {h.uid for h in fleet_harvesters(user=cast["viewer"], connection_slug="other")} == {"h2", "h3"}
    assert {h.uid for h in fleet_harvesters(user=cast["operator"])} == {"h1", "h4"}  # no role on other

    html = client_as(cast["viewer"]).get(reverse("fleet:harvesters") + "?health=errors").content.decode()
    assert 'data-harvester="demo:h1"' in html and 'data-harvester="other:h2"' in html
    assert 'data-harvester="other:h3"' not in html
    assert "Bad CSV" in html and "Source unreachable" in html


def test_overview_harvester_figure_matches_the_board(cast, connection, make_harvester, client_as):
    from .conftest import figure

    make_harvester(connection, "h1", has_error=True)
    make_harvester(connection, "h2", resource_errors={"a": "x"})
    make_harvester(connection, "h3")
    html = client_as(cast["viewer"]).get(reverse("home")).content.decode()
    assert figure(html, "demo", "harvesters-with-errors") == "2"
    assert 'href="/fleet/harvesters/?connection=demo&amp;health=errors"' in html
    assert len(fleet_harvesters(user=cast["viewer"], connection_slug="demo", health="errors")) == 2


@pytest.mark.live
def test_watchdog_abort_of_a_stuck_harvester_end_to_end(live_portal, sandbox_clock, make_user, client_as, settings,
                                                        monkeypatch):
    """A busy harvester shows on the overview; one click starts a harvester.abort job that really stops it."""
    from portaladmin.jobs import engine, tasks
    from portaladmin.jobs.models import Job, JobItem
    from portaladmin.portals.client import client_for
    from portaladmin.portals.models import Membership, Role
    from portaladmin.sandbox.services import set_faults

    monkeypatch.setattr(tasks, "enqueue_process", lambda item_ids: None, raising=False)
    settings.WATCHDOG_BUSY_MINUTES = 0
    alpha = live_portal("alpha", datasets=1, harvesters=2, users=1, groups=0, pages=0)
    set_faults("alpha", harvest_seconds=600)
    operator = make_user("oscar")
    Membership.objects.create(user=operator, connection=alpha, role=Role.OPERATOR)
    uid = client_for(alpha).harvester_list(limit=1).results[0].uid
    client_for(alpha).harvester_start(uid)
    sandbox_clock.advance(5)
    harvester_snapshot_refresh(connection=alpha)
    c = client_as(operator)
    html = c.get(reverse("home")).content.decode()
    assert f'data-stuck-harvester="{uid}"' in html and ">Abort</button>" in html

    response = c.post(reverse("fleet:watchdog-harvester-abort", kwargs={"conn": "alpha", "uid": uid}))
    job = Job.objects.get(kind="harvester.abort")
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    item = JobItem.objects.get(job=job)
    engine.items_process([item.pk])
    sandbox_clock.advance(30)
    engine.poll_batch(connection_id=alpha.pk, item_ids=[item.pk])
    job.refresh_from_db()
    assert job.status == "succeeded", JobItem.objects.get(pk=item.pk).message
    assert client_for(alpha).harvester_get(uid).is_idle
