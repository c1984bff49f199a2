"""The publish-all / unpublish-all kinds: one order, then progress from the harvester's counts."""

from datetime import UTC, datetime, timedelta

import pytest

from portaladmin.harvesters.jobs_kinds import HarvesterPublishAll, HarvesterUnpublishAll
from portaladmin.jobs.registry import get_kind
from portaladmin.portals.client.schemas import Harvester

from .conftest import harvester_json

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def h(published, attached=10):
    return Harvester.from_dict(harvester_json(published_datasets_count=published, attached_datasets_count=attached))


def test_kinds_are_registered_with_harvester_audit_actions():
    assert get_kind("harvesters.publish_all").audit_action == "harvester.publish"
    assert get_kind("harvesters.unpublish_all").audit_action == "harvester.unpublish"
    assert get_kind("harvesters.publish_all").pollable


def test_publish_progress_until_every_attached_dataset_is_published():
    kind = HarvesterPublishAll()
    view = kind.progress_view(h(3), {}, now=NOW)
    assert not view.terminal and view.state == "publishing" and view.message == "3 of 10 datasets published."
    assert (view.details["progress_done"], view.details["progress_total"]) == (3, 10)
    done = kind.progress_view(h(10), view.details, now=NOW + timedelta(seconds=5))
    assert done.terminal and kind.postcondition(None, done) and done.message == "10 of 10 datasets published."


def test_unpublish_counts_down():
    kind = HarvesterUnpublishAll()
    view = kind.progress_view(h(4), {}, now=NOW)
    assert not view.terminal and view.details["progress_done"] == 6 and "6 of 10 datasets unpublished" in view.message
    assert kind.postcondition(None, kind.progress_view(h(0), view.details, now=NOW))


@pytest.mark.parametrize("minutes, terminal", [(29, False), (31, True)])
def test_a_count_that_stops_moving_ends_as_a_clear_failure(settings, minutes, terminal):
    settings.HARVESTERS_PUBLISH_STALL_MINUTES = 30
    kind = HarvesterPublishAll()
    first = kind.progress_view(h(7), {}, now=NOW)
    moved = kind.progress_view(h(8), first.details, now=NOW + timedelta(minutes=20))
    assert moved.details["unchanged_since"] == (NOW + timedelta(minutes=20)).isoformat()
    later = kind.progress_view(h(8), moved.details, now=NOW + timedelta(minutes=20 + minutes))
    assert later.terminal is terminal
    if terminal:
        assert not kind.postcondition(None, later) and "8 of 10" in later.message and "did not get published" in later.message
