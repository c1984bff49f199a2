"""Harvesters: runs over (fake) time, failures, attached datasets, schedules."""

from portaladmin.sandbox.services import set_faults


def harvesters(api):
    return api.get("/harvesters/").json["results"]


def attached(api, uid):
    datasets = api.get("/datasets/", query={"limit": 1000}).json["results"]
    return [d for d in datasets if d["dataset_id"].startswith(uid + "-")]


def test_seeded_harvesters_one_of_which_failed(api):
    good, bad = harvesters(api)
    assert good["status"] == "idle" and good["has_error"] is False
    assert good["attached_datasets_count"] == good["harvested_datasets_count"] == good["remote_datasets_count"] == 3
    assert bad["has_error"] is True and bad["resource_errors_count"] == 2
    errors = api.get(f"/harvesters/{bad['uid']}/errors/").json
    assert errors["harvester"] and len(errors["resources"]) == 2
    assert api.get(f"/harvesters/{good['uid']}/errors/").json == {"harvester": None, "resources": {}}


def test_start_runs_queued_processing_idle_and_creates_datasets(api, sandbox_clock):
    set_faults("acme", queue_seconds=1, harvest_seconds=2)
    created = api.post("/harvesters/", {"type": "ckan", "name": "Helsinki", "url": "https://www.hri.fi/api/3"})
    assert created.status == 201 and created.json["status"] == "new"
    uid = created.json["uid"]
    started = api.post(f"/harvesters/{uid}/start/")
    assert started.status == 200 and started.json["status"] == "queued"
    assert started.json["last_started_at"] is not None
    again = api.post(f"/harvesters/{uid}/start/")
    assert again.status == 400 and again.json == {"error_code": "invalid_harvester_status",
                                                  "message": "Invalid transition from queued to processing"}
    sandbox_clock.advance(1.5)
    assert api.get(f"/harvesters/{uid}/").json["status"] == "processing"
    sandbox_clock.advance(2)
    done = api.get(f"/harvesters/{uid}/").json
    assert done["status"] == "idle" and done["has_error"] is False and done["last_success_at"]
    assert done["attached_datasets_count"] == 5 == len(attached(api, uid))
    assert done["published_datasets_count"] == 0
    # a second run updates the same datasets rather than duplicating them
    api.post(f"/harvesters/{uid}/start/")
    sandbox_clock.advance(5)
    assert api.get(f"/harvesters/{uid}/").json["attached_datasets_count"] == 5


def test_failing_harvester_run_sets_has_error(api, sandbox_clock):
    bad = harvesters(api)[1]
    api.post(f"/harvesters/{bad['uid']}/start/")
    sandbox_clock.advance(60)
    after = api.get(f"/harvesters/{bad['uid']}/").json
    assert after["status"] == "idle" and after["has_error"] is True and after["resource_errors_count"] == 2


def test_abort_and_invalid_transitions(api, sandbox_clock):
    set_faults("acme", queue_seconds=1, harvest_seconds=10, aborting_seconds=1)
    uid = harvesters(api)[0]["uid"]
    idle_abort = api.post(f"/harvesters/{uid}/abort/")
    assert idle_abort.json == {"error_code": "invalid_harvester_status",
                               "message": "Invalid transition from idle to aborting"}
    api.post(f"/harvesters/{uid}/start/")
    sandbox_clock.advance(2)
    aborted = api.post(f"/harvesters/{uid}/abort/")
    assert aborted.json["status"] == "aborting"
    sandbox_clock.advance(2)
    assert api.get(f"/harvesters/{uid}/").json["status"] == "idle"


def test_publish_and_unpublish_all_attached_datasets(api, sandbox_clock):
    set_faults("acme", publish_race_seconds=0, queue_seconds=1, processing_seconds_min=1, processing_seconds_max=1,
               deleting_seconds=1)
    uid = harvesters(api)[0]["uid"]
    assert api.post(f"/harvesters/{uid}/publish/").json == {"detail": "ok"}
    sandbox_clock.advance(3)
    assert api.get(f"/harvesters/{uid}/").json["published_datasets_count"] == 3
    assert all(d["is_published"] for d in attached(api, uid))
    api.post(f"/harvesters/{uid}/unpublish/")
    sandbox_clock.advance(3)
    assert api.get(f"/harvesters/{uid}/").json["published_datasets_count"] == 0


def test_preview_and_unsaved_preview(api):
    uid = harvesters(api)[0]["uid"]
    preview = api.get(f"/harvesters/{uid}/preview/").json
    assert preview["total_count"] == 3 and preview["results"][0]["id"]
    unsaved = api.post(f"/harvesters/{uid}/unsaved_preview/", {"type": "ckan", "name": "Renamed",
                                                               "url": "https://x.example.org"})
    assert unsaved.json["results"][0]["title"].startswith("Renamed")


def test_one_schedule_per_harvester(api):
    uid = harvesters(api)[0]["uid"]
    schedules = api.get(f"/harvesters/{uid}/schedules/").json
    assert schedules["total_count"] == 1
    second = api.post(f"/harvesters/{uid}/schedules/", {"cron_schedule": "0 5 * * *", "timezone": "UTC"},
                      check_request=False)
    assert second.status == 400
    suid = schedules["results"][0]["uid"]
    updated = api.put(f"/harvesters/{uid}/schedules/{suid}/", {"uid": suid, "cron_schedule": "0 6 * * *",
                                                               "timezone": "UTC"})
    assert updated.json["cron_schedule"] == "0 6 * * *"
    assert api.delete(f"/harvesters/{uid}/schedules/{suid}/").status == 204
    created = api.post(f"/harvesters/{uid}/schedules/", {"cron_schedule": "0 5 * * *", "timezone": "UTC"},
                       check_request=False)
    assert created.status == 201


def test_update_and_delete_with_or_without_attached_datasets(api):
    good, bad = harvesters(api)
    renamed = api.put(f"/harvesters/{good['uid']}/", {"type": good["type"], "name": "Renamed", "url": good["url"]})
    assert renamed.json["name"] == "Renamed"
    assert api.post("/harvesters/", {"type": "nope", "name": "x"}, check_request=False).status == 400
    assert api.delete(f"/harvesters/{good['uid']}/", check_request=False).status == 400
    assert api.delete(f"/harvesters/{good['uid']}/", query={"delete_attached_datasets": "false"}).status == 204
    assert len(attached(api, good["uid"])) == 3  # detached, kept
    assert api.delete(f"/harvesters/{bad['uid']}/", query={"delete_attached_datasets": "true"}).status == 204
    assert attached(api, bad["uid"]) == []
