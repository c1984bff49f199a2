"""The dataset status machine over (fake) time: no test sleeps."""

from portaladmin.sandbox.models import SandboxDataset
from portaladmin.sandbox.services import portal_datasets_with_fate, set_faults
from tests.sandbox.helpers import new_dataset_body

PUBLISH_MESSAGE = "Invalid precondition, dataset status is '{}' but must be one of 'idle, error, limit_reached'"


def fresh(api, dataset_id="fresh", processing=None):
    uid = api.post("/datasets/", new_dataset_body(dataset_id)).json["uid"]
    if processing is not None:
        SandboxDataset.objects.filter(uid=uid).update(processing_seconds=processing)
    return uid


def status(api, uid):
    answer = api.get(f"/datasets/{uid}/status/")
    assert answer.status == 200
    return answer.json


def test_publish_goes_queued_processing_idle_and_published(api, sandbox_clock):
    set_faults("acme", publish_race_seconds=0.3, queue_seconds=1, processing_seconds_min=2, processing_seconds_max=2)
    uid = fresh(api)
    before = status(api, uid)
    assert before["status"] == "idle" and before["is_published"] is False
    published_at = sandbox_clock()
    assert api.post(f"/datasets/{uid}/publish/").json == {"detail": "ok"}

    race = status(api, uid)  # the real API's race: the old status for a moment
    assert race["status"] == "idle" and race["since"] == before["since"]

    sandbox_clock.advance(0.5)
    queued = status(api, uid)
    assert queued["status"] == "queued" and queued["previous"] == "idle" and queued["next"] == "processing"
    assert queued["since"] > before["since"]

    sandbox_clock.advance(1.0)
    processing = status(api, uid)
    assert processing["status"] == "processing" and processing["previous"] == "queued"
    assert processing["is_published"] is False

    sandbox_clock.advance(2.0)
    done = status(api, uid)
    assert done["status"] == "idle" and done["previous"] == "processing" and done["is_published"] is True
    assert done["message"] is None and done["records_errors"] == [] and done["params"] == {}
    assert done["since"] > published_at.isoformat()[:19]
    assert api.get(f"/datasets/{uid}/").json["is_published"] is True


def test_publish_is_refused_while_queued_or_processing(api, sandbox_clock):
    set_faults("acme", publish_race_seconds=0.3, queue_seconds=1, processing_seconds_min=5, processing_seconds_max=5)
    uid = fresh(api)
    api.post(f"/datasets/{uid}/publish/")
    during_race = api.post(f"/datasets/{uid}/publish/")  # the order is already received: queued
    assert during_race.status == 400
    assert during_race.json == {"error_code": "invalid_dataset_status", "message": PUBLISH_MESSAGE.format("queued")}
    sandbox_clock.advance(2)
    refused = api.post(f"/datasets/{uid}/publish/")
    assert refused.json["message"] == PUBLISH_MESSAGE.format("processing")
    assert api.post(f"/datasets/{uid}/unpublish/").status == 400


def test_abort_while_processing_goes_aborting_then_idle(api, sandbox_clock):
    set_faults("acme", publish_race_seconds=0, queue_seconds=1, processing_seconds_min=10, processing_seconds_max=10,
               aborting_seconds=0.5)
    uid = fresh(api)
    idle_abort = api.post(f"/datasets/{uid}/abort/")
    assert idle_abort.status == 400 and idle_abort.json["error_code"] == "invalid_dataset_status"
    assert idle_abort.json["message"].startswith("Invalid precondition, dataset status is 'idle' but must be one of")
    api.post(f"/datasets/{uid}/publish/")
    assert api.post(f"/datasets/{uid}/abort/").status == 400  # queued is not processing
    sandbox_clock.advance(2)
    assert api.post(f"/datasets/{uid}/abort/").json == {"detail": "ok"}
    aborting = status(api, uid)
    assert aborting["status"] == "aborting_processing" and aborting["previous"] == "processing"
    sandbox_clock.advance(1)
    after = status(api, uid)
    assert after["status"] == "idle" and after["previous"] == "aborting_processing"
    assert after["is_published"] is False


def test_unpublish_goes_queued_deleting_idle(api, sandbox_clock):
    set_faults("acme", publish_race_seconds=0, queue_seconds=1, processing_seconds_min=1, processing_seconds_max=1,
               deleting_seconds=2)
    uid = fresh(api)
    api.post(f"/datasets/{uid}/publish/")
    sandbox_clock.advance(3)
    assert status(api, uid)["is_published"] is True
    api.post(f"/datasets/{uid}/unpublish/")
    assert status(api, uid)["status"] == "queued"
    sandbox_clock.advance(1.5)
    deleting = status(api, uid)
    assert deleting["status"] == "deleting" and deleting["is_published"] is True
    sandbox_clock.advance(2)
    done = status(api, uid)
    assert done["status"] == "idle" and done["previous"] == "deleting" and done["is_published"] is False


def test_seeded_error_and_limit_reached_datasets_end_that_way_every_time(api, sandbox_clock):
    set_faults("acme", publish_race_seconds=0, queue_seconds=1, processing_seconds_min=1, processing_seconds_max=1)
    error_uid = portal_datasets_with_fate("acme", "error")[0]
    limit_uid = portal_datasets_with_fate("acme", "limit_reached")[0]
    seeded_error = status(api, error_uid)
    assert seeded_error["status"] == "error" and seeded_error["message"] and seeded_error["records_errors"]
    assert status(api, limit_uid)["params"]["error"]["limit_type"] == "records"

    for _ in range(2):  # publish is allowed from error and limit_reached, and ends the same way again
        assert api.post(f"/datasets/{error_uid}/publish/").status == 200
        assert api.post(f"/datasets/{limit_uid}/publish/").status == 200
        sandbox_clock.advance(3)
        failed = status(api, error_uid)
        assert failed["status"] == "error" and failed["is_published"] is False
        assert "could not be processed" in failed["message"]
        assert {"record_id", "field_uid", "processor_uid", "message"} <= set(failed["records_errors"][0])
        limited = status(api, limit_uid)
        assert limited["status"] == "limit_reached" and limited["is_published"] is True
        assert limited["params"]["error"] == {"limit_type": "records", "limit": 100000, "value": 100000}


def test_durations_per_dataset_override_the_portal(api, sandbox_clock):
    set_faults("acme", publish_race_seconds=0, queue_seconds=1, processing_seconds_min=100,
               processing_seconds_max=100)
    slow, quick = fresh(api, "slow"), fresh(api, "quick", processing=1)
    api.post(f"/datasets/{slow}/publish/")
    api.post(f"/datasets/{quick}/publish/")
    sandbox_clock.advance(5)
    assert status(api, quick)["status"] == "idle"
    assert status(api, slow)["status"] == "processing"
    sandbox_clock.advance(100)
    assert status(api, slow)["is_published"] is True


def test_publish_metadata_runs_and_keeps_the_published_flag(api, sandbox_clock):
    set_faults("acme", publish_race_seconds=0, queue_seconds=1, processing_seconds_min=1, processing_seconds_max=1)
    uid = fresh(api)
    assert api.post(f"/datasets/{uid}/publish_metadata/").json == {"detail": "ok"}
    assert status(api, uid)["status"] == "queued"
    sandbox_clock.advance(3)
    assert status(api, uid) | {"since": None} == {
        "status": "idle", "previous": "processing", "next": None, "since": None, "is_published": False,
        "message": None, "records_errors": [], "params": {}}


def test_settled_state_survives_in_the_row(api, sandbox_clock):
    set_faults("acme", publish_race_seconds=0, queue_seconds=1, processing_seconds_min=1, processing_seconds_max=1)
    uid = fresh(api)
    api.post(f"/datasets/{uid}/publish/")
    sandbox_clock.advance(5)
    status(api, uid)
    row = SandboxDataset.objects.get(uid=uid)
    assert row.op == "" and row.status == "idle" and row.is_published is True
