"""The sandbox's real-world quirks (issue: jobs tell the truth), each behind its fault-injection switch:
a portal clock off ours, whole-second `since`, latency jitter, a write applied whose answer is lost, an `error`
shown once then `idle` unpublished, a lying `total_count`."""

from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest

from portaladmin.portals.client import PortalClient
from portaladmin.portals.client.errors import PortalUnavailable
from portaladmin.sandbox import clock
from portaladmin.sandbox.models import SandboxDataset
from portaladmin.sandbox.services import request_counts, seed_portal, set_dataset_behaviour, set_faults
from tests.sandbox.helpers import SANDBOX_KEY


def _uid(name="acme", n=0):
    return SandboxDataset.objects.filter(portal__name=name, fate="ok").order_by("id").values_list("uid", flat=True)[n]


def test_the_date_header_and_since_follow_the_portal_clock_with_whole_seconds(api, sandbox_clock):
    set_faults("acme", clock_offset_seconds=-420, whole_second_since=True, publish_race_seconds=0, queue_seconds=1)
    uid = _uid()
    sent = api.post(f"/datasets/{uid}/publish/")
    date = parsedate_to_datetime(sent.headers["Date"])
    assert abs((date - (sandbox_clock() - timedelta(seconds=420))).total_seconds()) < 1.01
    sandbox_clock.advance(0.5)
    status = api.get(f"/datasets/{uid}/status/").json
    since = clock.parse(status["since"])
    assert status["status"] == "queued" and since.microsecond == 0
    assert abs((since - (sandbox_clock() - timedelta(seconds=420, milliseconds=500))).total_seconds()) < 1.01


def test_error_then_idle_shows_error_then_settles_unpublished(api, sandbox_clock):
    set_faults("acme", publish_race_seconds=0, queue_seconds=1, processing_seconds_min=1, processing_seconds_max=1)
    uid = _uid()
    SandboxDataset.objects.filter(uid=uid).update(is_published=False)
    set_dataset_behaviour("acme", uid, fate="error_then_idle")
    api.post(f"/datasets/{uid}/publish/")
    sandbox_clock.advance(2.5)
    seen = api.get(f"/datasets/{uid}/status/").json
    assert seen["status"] == "error" and "error_then_idle" in seen["message"]
    sandbox_clock.advance(3)
    after = api.get(f"/datasets/{uid}/status/").json
    assert after["status"] == "idle" and after["is_published"] is False


@pytest.mark.live
def test_a_lost_answer_leaves_the_write_applied_and_the_client_sees_the_connection_drop(
        transactional_db, live_server, sandbox_clock):
    seed_portal("lossy", datasets=3, users=1, groups=0, harvesters=0, pages=0, api_key=SANDBOX_KEY, reset=True)
    set_faults("lossy", lost_answer_rate=1.0, publish_race_seconds=0, queue_seconds=5)
    client = PortalClient(base_url=f"{live_server.url}/sandbox/lossy", api_key=SANDBOX_KEY, timeout=(2.0, 5.0),
                          allow_private=True)
    uid = _uid("lossy")
    with pytest.raises(PortalUnavailable):
        client.dataset_publish(uid)
    set_faults("lossy", lost_answer_rate=0.0, publish_race_seconds=0, queue_seconds=5)
    assert client.dataset_status(uid).status == "queued"  # it was applied
    assert request_counts("lossy", method="POST", status=599) == 1  # logged as "answer lost"


@pytest.mark.live
def test_a_lying_total_count_does_not_make_the_client_loop(transactional_db, live_server):
    seed_portal("liar", datasets=30, users=1, groups=0, harvesters=0, pages=0, api_key=SANDBOX_KEY, reset=True)
    set_faults("liar", inflated_total_count=True)
    client = PortalClient(base_url=f"{live_server.url}/sandbox/liar", api_key=SANDBOX_KEY, timeout=(2.0, 5.0),
                          allow_private=True)
    assert client.dataset_list(limit=10).total_count == 30_000
    assert len(list(client.dataset_iter(page_size=10))) == 30
    assert request_counts("liar", method="GET", path_contains="/datasets/") == 1 + 3  # 3 pages, next: null
    assert len(list(client.dataset_iter())) == 30
    assert request_counts("liar", method="GET", path_contains="/datasets/") == 1 + 3 + 1


def _listed(api, uid):
    return next(d for d in api.get("/datasets/?limit=1000").json["results"] if d["uid"] == uid)


def test_the_end_of_processing_moves_the_listed_updated_at_on_the_portal_clock(api, sandbox_clock):
    set_faults("acme", clock_offset_seconds=-90, publish_race_seconds=0, queue_seconds=1, processing_seconds_min=3,
               processing_seconds_max=3)
    uid = _uid()
    before = _listed(api, uid)["updated_at"]
    api.post(f"/datasets/{uid}/publish/")
    sandbox_clock.advance(2)
    assert _listed(api, uid)["updated_at"] == before  # still processing: nothing moved yet
    sandbox_clock.advance(3)
    moved = clock.parse(_listed(api, uid)["updated_at"])
    end = api.get(f"/datasets/{uid}/status/").json
    assert end["status"] == "idle" and clock.parse(end["since"]) == moved  # the same instant as the final state
    assert abs((moved - (sandbox_clock() - timedelta(seconds=1 + 90))).total_seconds()) < 0.01
    assert api.get(f"/datasets/{uid}/").json["updated_at"] == _listed(api, uid)["updated_at"]  # settled: it stays


def test_a_portal_whose_list_does_not_show_processing_keeps_updated_at(api, sandbox_clock):
    set_faults("acme", processing_moves_updated_at=False, publish_race_seconds=0, queue_seconds=1,
               processing_seconds_min=1, processing_seconds_max=1)
    uid = _uid()
    before = _listed(api, uid)["updated_at"]
    api.post(f"/datasets/{uid}/publish/")
    sandbox_clock.advance(5)
    assert api.get(f"/datasets/{uid}/status/").json["status"] == "idle"
    assert _listed(api, uid)["updated_at"] == before
