"""One walk through all 181 operations of the spec, each answer validated by the oracle (success paths)."""

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.oracle import all_operations, requires_spec
from tests.sandbox.helpers import new_dataset_body

RULESET_USER = {"user": {"username": "admin"}, "permissions": []}
RULESET_GROUP = {"group": {"uid": "analysts"}, "permissions": []}


def ok(answer, status=None):
    assert 200 <= answer.status < 300, answer
    if status is not None:
        assert answer.status == status, answer
    return answer.json


def rulesets(api, base: str, user_perms: list[str], create_status: int):
    """List, create, get, update, delete a user and a group ruleset under `base` (…/security/)."""
    for kind, body, key in (("users", {**RULESET_USER, "permissions": user_perms}, "admin"),
                            ("groups", {**RULESET_GROUP, "permissions": user_perms}, "analysts")):
        ok(api.get(f"{base}{kind}/"))
        ok(api.post(f"{base}{kind}/", body), create_status)
        ok(api.get(f"{base}{kind}/{key}/"))
        ok(api.put(f"{base}{kind}/{key}/", body))
        ok(api.delete(f"{base}{kind}/{key}/"), 204)


def datasets_walk(api):
    ok(api.get("/datasets/", query={"limit": 5}))
    ds = ok(api.post("/datasets/", new_dataset_body("walk")), 201)
    uid = ds["uid"]
    d = f"/datasets/{uid}"
    ok(api.get(f"{d}/"))
    ok(api.put(f"{d}/", {"dataset_id": "walk", "is_restricted": True, "metadata": ds["metadata"]}))
    ok(api.get(f"{d}/status/"))
    for action in ("publish_metadata",):
        ok(api.post(f"{d}/{action}/"))
    copy = ok(api.post(f"{d}/copy/"), 201)

    # metadata
    everything = ok(api.get(f"{d}/metadata/"))
    ok(api.put(f"{d}/metadata/", everything))
    ok(api.get(f"{d}/metadata/default/"))
    ok(api.put(f"{d}/metadata/default/", everything["default"]))
    ok(api.put(f"{d}/metadata/default/publisher/", {"value": "Walker"}))
    ok(api.get(f"{d}/metadata/default/publisher/"))
    ok(api.delete(f"{d}/metadata/default/publisher/"), 204)

    # resources and files
    ok(api.get("/extractors/"))
    file = ok(api.call("POST", f"{d}/resources/files/",
                       files={"file": SimpleUploadedFile("a.csv", b"x;y\n1;2\n", content_type="text/csv")}))
    ok(api.get(f"{d}/resources/files/{file['uid']}/"))
    ok(api.get(f"{d}/resources/files/{file['uid']}/download/"))
    source = {"type": "uploaded_file", "file": {"uid": file["uid"]}}
    ok(api.post(f"{d}/resources/guess_extractors/", {"datasource": source}))
    ok(api.post(f"{d}/resources/guess_extractor_params/", {"type": "csvfile", "datasource": source}))
    ok(api.post(f"{d}/resources/preview/", {"type": "csvfile", "datasource": source}))
    resource = ok(api.post(f"{d}/resources/", {"type": "csvfile", "title": "A", "datasource": source}), 201)
    r = f"{d}/resources/{resource['uid']}"
    ok(api.get(f"{d}/resources/"))
    ok(api.get(f"{r}/"))
    ok(api.put(f"{r}/", {"type": "csvfile", "title": "B", "datasource": source}))
    ok(api.get(f"{r}/guess_extractors/"))
    ok(api.get(f"{r}/guess_extractors_params/"))
    ok(api.get(f"{r}/preview/"))
    ok(api.post(f"{r}/clean_cache/"), 204)
    realtime = ok(api.post(f"{d}/resources/", {"type": "realtime", "title": "RT", "datasource": {
        "type": "http", "connection": {"uid": "co_sandbx"}}}), 201)
    from portaladmin.sandbox.models import SandboxDataset

    SandboxDataset.objects.filter(uid=uid).update(is_published=True)  # recovering realtime data needs it published
    for action in ("recover", "delete_recover_data", "enable", "disable", "renew_api_key"):
        ok(api.post(f"{d}/resources/{realtime['uid']}/{action}/"))
    ok(api.delete(f"{r}/"), 204)

    # processors, fields, schedules
    ok(api.get("/processors/"))
    for base, body, changed in (
            ("processors", {"type": "string_replace", "label": "p", "field": "x", "old": "a", "new": "b"}, "q"),
            ("fields", {"type": "delete", "label": "f", "field": "x"}, "g")):
        item = ok(api.post(f"{d}/{base}/", body), 201)
        ok(api.get(f"{d}/{base}/"))
        ok(api.get(f"{d}/{base}/{item['uid']}/"))
        ok(api.put(f"{d}/{base}/{item['uid']}/", {**body, "label": changed}))
        ok(api.delete(f"{d}/{base}/{item['uid']}/"), 204)
    schedule = ok(api.post(f"{d}/schedules/", {"cron_schedule": "0 1 * * *"}), 201)
    ok(api.get(f"{d}/schedules/"))
    ok(api.get(f"{d}/schedules/{schedule['uid']}/"))
    ok(api.put(f"{d}/schedules/{schedule['uid']}/", {"cron_schedule": "0 2 * * *"}))
    ok(api.delete(f"{d}/schedules/{schedule['uid']}/"), 204)

    # versions
    versions = ok(api.get(f"{d}/versions/"))
    first = versions["results"][-1]["uid"]
    ok(api.get(f"{d}/versions/{first}/"))
    ok(api.post(f"{d}/versions/{first}/restore/"))

    # attachments, alternative exports
    attachment = ok(api.call("POST", f"{d}/attachments/",
                             files={"file": SimpleUploadedFile("n.txt", b"note", content_type="text/plain")}), 201)
    ok(api.get(f"{d}/attachments/"))
    ok(api.get(f"{d}/attachments/{attachment['uid']}/"))
    ok(api.get(f"{d}/attachments/{attachment['uid']}/download/"))
    ok(api.delete(f"{d}/attachments/{attachment['uid']}/"), 204)
    export = ok(api.call("POST", f"{d}/alternative_exports/", files={
        "title": "Zip", "type": "uploaded_file",
        "file": SimpleUploadedFile("e.zip", b"PK", content_type="application/zip")}), 201)
    e = f"{d}/alternative_exports/{export['uid']}"
    ok(api.get(f"{d}/alternative_exports/"))
    ok(api.get(f"{e}/"))
    ok(api.put(f"{e}/", {"title": "Zip 2", "type": "uploaded_file"}))
    ok(api.get(f"{e}/download/"))
    ok(api.delete(f"{e}/"), 204)

    # security, feedbacks
    rulesets(api, f"{d}/security/", ["edit_dataset"], 201)
    seeded = api.get("/datasets/", query={"limit": 1}).json["results"][0]["uid"]
    feedback = ok(api.get(f"/datasets/{seeded}/feedbacks/"))["results"][0]["uid"]
    ok(api.get(f"/datasets/{seeded}/feedbacks/{feedback}/"))
    ok(api.post(f"/datasets/{seeded}/feedbacks/{feedback}/archive/"))

    # status actions last (they need idle / processing)
    ok(api.post(f"/datasets/{copy['uid']}/publish/"))
    return uid, copy["uid"]


def status_actions_walk(api, sandbox_clock, copy_uid):
    sandbox_clock.advance(2)  # past the race and the queue: processing
    ok(api.post(f"/datasets/{copy_uid}/abort/"))
    sandbox_clock.advance(5)
    ok(api.post(f"/datasets/{copy_uid}/unpublish/"))
    sandbox_clock.advance(5)
    ok(api.delete(f"/datasets/{copy_uid}/"), 204)


def people_walk(api):
    ok(api.get("/users/"))
    ok(api.get("/users/admin/"))
    ok(api.get("/users/export/"))
    invited = ok(api.post("/users/invite/", [{"email": "walker@example.org"}]))
    username = invited["0"]["data"]["username"]
    ok(api.put(f"/users/{username}/", {"email": "walker@example.org", "first_name": "Walk"}))
    ok(api.post("/users/provision/", {"email": "sso@example.org", "identity_provider": {"uid": "opendatasoft"}}))
    group = ok(api.post("/groups/", {"title": "Walkers"}), 201)
    g = f"/groups/{group['uid']}"
    ok(api.get("/groups/"))
    ok(api.get(f"{g}/"))
    ok(api.put(f"{g}/", {"uid": group["uid"], "title": "Walkers 2"}))
    ok(api.post(f"{g}/users/", {"username": username}), 201)
    ok(api.post(f"{g}/users/batch/", [{"username": "admin"}]))
    ok(api.get(f"{g}/users/"))
    ok(api.delete(f"{g}/users/{username}/"), 204)
    ok(api.delete(f"{g}/"), 204)
    ok(api.delete(f"/users/{username}/"), 204)


def harvesters_walk(api, sandbox_clock):
    harvester = ok(api.post("/harvesters/", {"type": "ckan", "name": "Walk", "url": "https://x.example.org"}), 201)
    h = f"/harvesters/{harvester['uid']}"
    ok(api.get("/harvesters/"))
    ok(api.get(f"{h}/"))
    ok(api.put(f"{h}/", {"type": "ckan", "name": "Walk 2", "url": "https://x.example.org"}))
    ok(api.get(f"{h}/preview/"))
    ok(api.post(f"{h}/unsaved_preview/", {"type": "ckan", "name": "W", "url": "https://y.example.org"}))
    ok(api.post(f"{h}/start/"))
    ok(api.post(f"{h}/abort/"))
    sandbox_clock.advance(5)
    ok(api.post(f"{h}/start/"))
    sandbox_clock.advance(10)
    ok(api.get(f"{h}/errors/"))
    ok(api.post(f"{h}/publish/"))
    ok(api.post(f"{h}/unpublish/"))
    schedule = ok(api.post(f"{h}/schedules/", {"uid": "sc_new", "cron_schedule": "0 3 * * *",
                                               "timezone": "UTC"}), 201)
    ok(api.get(f"{h}/schedules/"))
    ok(api.get(f"{h}/schedules/{schedule['uid']}/"))
    ok(api.put(f"{h}/schedules/{schedule['uid']}/", {"uid": schedule["uid"], "cron_schedule": "0 4 * * *",
                                                     "timezone": "UTC"}))
    ok(api.delete(f"{h}/schedules/{schedule['uid']}/"), 204)
    sandbox_clock.advance(10)
    ok(api.delete(f"{h}/", query={"delete_attached_datasets": "true"}), 204)


def pages_walk(api):
    page = ok(api.post("/studio_pages/", {"slug": "walk"}), 201)
    s = f"/studio_pages/{page['uid']}"
    ok(api.get("/studio_pages/"))
    ok(api.get(f"{s}/"))
    ok(api.put(f"{s}/", {"slug": "walk-2"}))
    ok(api.post(f"{s}/publish/"))
    ok(api.post(f"{s}/unpublish/"))
    rulesets(api, f"{s}/security/", ["edit_page"], 200)
    ok(api.delete(f"{s}/"), 204)

    body = {"slug": "walk", "title": {"en": "Walk"}, "content": {"html": {"en": "<p/>"}, "css": {"en": ""}}}
    ok(api.post("/code_editor_pages/", body), 201)
    ok(api.get("/code_editor_pages/"))
    ok(api.get("/code_editor_pages/walk/"))
    ok(api.put("/code_editor_pages/walk/", body))
    ok(api.post("/code_editor_pages/walk/archive/"))
    ok(api.post("/code_editor_pages/walk/unarchive/"))
    rulesets(api, "/code_editor_pages/walk/security/", ["edit_page"], 200)
    ok(api.delete("/code_editor_pages/walk/"), 204)
    ok(api.delete("/code_editor_pages/", query={"slug": "home"}))


def misc_walk(api):
    key = ok(api.post("/apikeys/", {"label": "walk", "permissions": []}), 201)
    ok(api.get("/apikeys/"))
    ok(api.get(f"/apikeys/{key['uid']}/"))
    ok(api.put(f"/apikeys/{key['uid']}/", {"label": "walk 2"}))
    ok(api.post("/apikeys/search_key/", {"key": key["key"]}))
    ok(api.post(f"/apikeys/{key['uid']}/revoke/", {"reason": "done"}))

    connection = ok(api.post("/datasource_connections/", {"type": "http", "url": "https://c.example.org"}), 201)
    c = f"/datasource_connections/{connection['uid']}"
    ok(api.get("/datasource_connections/"))
    ok(api.get(f"{c}/"))
    ok(api.put(f"{c}/", {"type": "http", "url": "https://d.example.org"}))
    rulesets(api, f"{c}/security/", ["manage_connection"], 200)
    ok(api.delete(f"{c}/"), 204)

    template = {"name": "walk", "title": "Walk", "type": "basic", "is_active": True,
                "schema": [{"name": "owner", "type": "text"}]}
    ok(api.post("/metadata/templates/", template), 201)
    ok(api.get("/metadata/templates/"))
    ok(api.get("/metadata/templates/walk/"))
    ok(api.put("/metadata/templates/walk/", {**template, "title": "Walk 2"}))
    ok(api.get("/metadata/templates/walk/fields/"))
    ok(api.get("/metadata/templates/walk/fields/owner/"))
    # the spec's suggestion schema is a oneOf whose branches overlap: no body can match exactly one of them
    suggested = api.get("/metadata/templates/default/fields/publisher/suggest/", query={"query": "city"},
                        check_response=False)
    assert suggested.json["hits"] == [{"value": "City Council"}]
    assert api.get("/metadata/templates/default/fields/publisher/suggest/", check_request=False).status == 400
    api.seen.add(("GET", "/metadata/templates/{template_name}/fields/{template_field_name}/suggest/"))
    ok(api.delete("/metadata/templates/walk/"), 204)

    ok(api.get("/medias/images/"))
    ok(api.call("POST", "/medias/images/", check_request=False,
                files={"file": SimpleUploadedFile("w.png", b"\x89PNG", content_type="image/png")}), 201)


@requires_spec
def test_every_operation_answers_as_the_spec_says(api, sandbox_clock):
    _uid, copy_uid = datasets_walk(api)
    status_actions_walk(api, sandbox_clock, copy_uid)
    people_walk(api)
    harvesters_walk(api, sandbox_clock)
    pages_walk(api)
    misc_walk(api)
    assert set(all_operations()) - api.seen == set()
