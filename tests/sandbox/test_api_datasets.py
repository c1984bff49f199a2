"""Datasets and their parts, auth, errors and pagination — every answer checked against the spec."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portaladmin.sandbox.services import seed_portal
from tests.sandbox.helpers import SANDBOX_KEY, SandboxApi, new_dataset_body


def first_uid(api) -> str:
    return api.get("/datasets/", query={"limit": 1}).json["results"][0]["uid"]


# ---------------------------------------------------------------- auth and errors

def test_it_refuses_requests_without_a_valid_key(api):
    assert api.get("/datasets/", key=False).status == 401
    assert api.get("/datasets/", key=False).json["error_code"] == "unauthorized"
    assert api.get("/datasets/", key=False, headers={"Authorization": "apikey wrong"}).status == 401
    assert api.get("/datasets/", key=False, headers={"Authorization": "Bearer " + SANDBOX_KEY}).status == 401


def test_it_accepts_the_key_in_any_case_of_scheme_or_as_a_parameter(api):
    for scheme in ("apikey", "Apikey", "ApiKey", "APIKEY"):
        assert api.get("/datasets/", key=False, headers={"Authorization": f"{scheme} {SANDBOX_KEY}"}).status == 200
    answer = api.get("/datasets/", key=False, query={"apikey": SANDBOX_KEY}, check_request=False)
    assert answer.status == 200


def test_unknown_portal_and_unknown_ids_answer_not_found(api, client):
    assert SandboxApi(client, "nope", SANDBOX_KEY).get("/datasets/").status == 404
    answer = api.get("/datasets/da_unknown/")
    assert answer.status == 404
    assert answer.json == {"error_code": "not_found", "message": "Not found."}
    assert api.get("/datasets/da_unknown/status/").status == 404


def test_paths_need_their_trailing_slash_and_a_known_method(api):
    uid = first_uid(api)
    assert api.call("GET", f"/datasets/{uid}", check_request=False, check_response=False).status == 404
    assert api.call("PATCH", f"/datasets/{uid}/", check_request=False, check_response=False).status == 405


# ---------------------------------------------------------------- list and pagination

def test_list_pages_with_absolute_next_and_previous(api):
    first = api.get("/datasets/", query={"limit": 15})
    assert first.json["total_count"] == 40 + 3 + 2  # seeded + what the two harvesters attached (one fails 2)
    assert len(first.json["results"]) == 15
    assert first.json["previous"] is None
    assert first.json["next"].startswith("http://testserver/sandbox/acme/api/automation/v1.0/datasets/?")
    assert "offset=15" in first.json["next"] and "limit=15" in first.json["next"]
    second = api.get("/datasets/", query={"limit": 15, "offset": 15})
    assert "offset=0" in second.json["previous"]
    assert {d["uid"] for d in first.json["results"]}.isdisjoint({d["uid"] for d in second.json["results"]})
    last = api.get("/datasets/", query={"limit": 15, "offset": 30})
    assert last.json["next"] is None and len(last.json["results"]) == 15


def test_limit_zero_only_counts_and_bad_limits_are_refused(api):
    answer = api.get("/datasets/", query={"limit": 0})
    assert answer.json["results"] == [] and answer.json["total_count"] == 45 and answer.json["next"] is None
    bad = api.get("/datasets/", query={"limit": 1001}, check_request=False)
    assert bad.status == 400 and "limit" in bad.json["detail"]
    assert api.get("/datasets/", query={"offset": -1}, check_request=False).status == 400


def test_dataset_id_filter_finds_the_exact_dataset(api):
    answer = api.get("/datasets/", query={"dataset_id": "acme-00007"})
    assert answer.json["total_count"] == 1
    assert answer.json["results"][0]["dataset_id"] == "acme-00007"
    assert api.get("/datasets/", query={"dataset_id": "acme-0000"}).json["total_count"] == 0


def test_listing_5000_datasets_at_limit_1000_costs_a_constant_number_of_queries(db, client, sandbox_clock):
    seed_portal("big", datasets=5000, users=2, groups=1, harvesters=0, pages=0, api_key="big-key", reset=True)
    api = SandboxApi(client, "big", "big-key")
    with CaptureQueriesContext(connection) as queries:
        answer = api.get("/datasets/", query={"limit": 1000, "offset": 3000})
    assert answer.status == 200 and len(answer.json["results"]) == 1000
    assert answer.json["total_count"] == 5000
    assert len(queries.captured_queries) < 12


# ---------------------------------------------------------------- CRUD

def test_create_retrieve_update_delete(api):
    created = api.post("/datasets/", new_dataset_body("fresh-data"))
    assert created.status == 201
    uid = created.json["uid"]
    assert uid.startswith("da_") and created.json["is_published"] is False
    assert api.get(f"/datasets/{uid}/").json["dataset_id"] == "fresh-data"
    body = created.json | {"metadata": {"default": {**created.json["metadata"]["default"],
                                                    "title": {"value": "Renamed"}}}}
    updated = api.put(f"/datasets/{uid}/", body, check_request=False)
    assert updated.status == 200
    assert updated.json["metadata"]["default"]["title"]["value"] == "Renamed"
    assert api.delete(f"/datasets/{uid}/").status == 204
    assert api.get(f"/datasets/{uid}/").status == 404


def test_create_refuses_missing_metadata_and_duplicate_ids(api):
    body = new_dataset_body("x")
    del body["metadata"]["default"]["title"]
    del body["metadata"]["default"]["language"]
    answer = api.post("/datasets/", body, check_request=False)
    assert answer.status == 400 and answer.json["error_code"] == "validation_error"
    assert set(answer.json["detail"]["metadata"]["default"]) == {"title", "language"}
    body = new_dataset_body("x")
    body["metadata"]["default"]["modified"] = {"value": "yesterday"}
    assert "modified" in api.post("/datasets/", body, check_request=False).json["detail"]["metadata"]["default"]
    body = new_dataset_body("x")
    body["metadata"]["default"]["language"] = {"value": "xx"}
    assert api.post("/datasets/", body, check_request=False).status == 400
    duplicate = api.post("/datasets/", new_dataset_body("acme-00001"))
    assert duplicate.status == 400 and "dataset_id" in duplicate.json["detail"]


def test_copy_creates_an_unpublished_copy_with_a_new_id(api):
    uid = first_uid(api)
    copy = api.post(f"/datasets/{uid}/copy/")
    assert copy.status == 201
    assert copy.json["uid"] != uid and copy.json["dataset_id"] == "acme-00001-copy"
    assert copy.json["is_published"] is False
    assert api.post(f"/datasets/{uid}/copy/").json["dataset_id"] == "acme-00001-copy-2"
    assert api.get(f"/datasets/{copy.json['uid']}/resources/").json["total_count"] == 1


# ---------------------------------------------------------------- metadata

def test_metadata_by_template_and_field(api):
    uid = first_uid(api)
    everything = api.get(f"/datasets/{uid}/metadata/").json
    assert everything["default"]["title"]["value"]
    default = api.get(f"/datasets/{uid}/metadata/default/").json
    assert default == everything["default"]
    assert api.get(f"/datasets/{uid}/metadata/default/publisher/").json["value"]
    put = api.put(f"/datasets/{uid}/metadata/default/publisher/", {"value": "Someone else"})
    assert put.json == {"value": "Someone else"}
    assert api.get(f"/datasets/{uid}/metadata/default/publisher/").json["value"] == "Someone else"
    assert api.delete(f"/datasets/{uid}/metadata/default/publisher/").status == 204
    assert api.get(f"/datasets/{uid}/metadata/default/publisher/").status == 404
    assert api.delete(f"/datasets/{uid}/metadata/default/title/").status == 400
    assert api.get(f"/datasets/{uid}/metadata/no_such_template/").status == 404
    internal = api.put(f"/datasets/{uid}/metadata/internal/", {"license_id": {"value": "odbl"}})
    assert internal.status == 200


def test_metadata_templates_and_fields(api):
    templates = api.get("/metadata/templates/").json
    names = {t["name"] for t in templates["results"]}
    assert {"default", "internal", "visualization"} <= names
    fields = api.get("/metadata/templates/default/fields/").json
    assert "title" in {f["name"] for f in fields["results"]}
    assert api.get("/metadata/templates/default/fields/title/").json["requirement_level"] == "mandatory"
    assert api.get("/metadata/templates/default/fields/nope/").status == 404
    assert api.delete("/metadata/templates/default/").status == 400
    created = api.post("/metadata/templates/", {"name": "extra", "title": "Extra", "type": "basic",
                                                "is_active": True, "schema": [{"name": "owner", "type": "text"}]})
    assert created.status == 201
    assert api.get("/metadata/templates/", query={"type": "basic"}).json["total_count"] == 2


def test_templates_have_realistic_typed_fields_and_values_are_checked_against_them(api):
    templates = {t["name"]: t for t in api.get("/metadata/templates/", query={"limit": 100}).json["results"]}
    assert {"default", "internal", "visualization", "dcat", "inspire"} <= set(templates)
    types = {t: {f["name"]: f["type"] for f in templates[t]["schema"]} for t in ("default", "dcat", "inspire")}
    assert types["default"]["keyword"] == "list" and types["default"]["modified"] == "datetime"
    assert types["default"]["theme"] == "enumlist" and types["default"]["bbox"] == "geo_shape"
    assert types["dcat"]["accrualperiodicity"] == "uri_enum" and types["dcat"]["created"] == "date"
    assert types["inspire"]["type"] == "enum" and types["inspire"]["extent"] == "geo_area"
    assert {f["requirement_level"] for f in templates["inspire"]["schema"]} == {"mandatory", "recommended",
                                                                                  "optional"}
    uid = first_uid(api)
    refusals = {("default", "keyword"): "Paris, France", ("default", "language"): "xx",
                ("default", "geographic_reference_auto"): "yes", ("dcat", "created"): "31/01/2026",
                ("dcat", "contact_email"): "not-an-address", ("inspire", "spatial_resolution"): 2.5,
                ("inspire", "topic_category"): ["nope"]}
    for (template, field), value in refusals.items():
        answer = api.put(f"/datasets/{uid}/metadata/{template}/{field}/", {"value": value})
        assert answer.status == 400 and answer.json["detail"]["value"], (template, field)
    kept = ["Paris, France", 'say "hi"', "Zürich, 東京", ""]
    assert api.put(f"/datasets/{uid}/metadata/dcat/spatial/", {"value": kept}).status == 200
    assert api.get(f"/datasets/{uid}/metadata/dcat/spatial/").json == {"value": kept}
    template_put = api.put(f"/datasets/{uid}/metadata/dcat/", {"created": {"value": "soon"}})
    assert template_put.status == 400 and "created" in template_put.json["detail"]


# ---------------------------------------------------------------- versions

def test_every_write_creates_a_version_and_restore_brings_metadata_back(api):
    uid = api.post("/datasets/", new_dataset_body("versioned")).json["uid"]
    versions = api.get(f"/datasets/{uid}/versions/").json
    assert versions["total_count"] == 1
    original = versions["results"][0]["uid"]
    api.put(f"/datasets/{uid}/metadata/default/title/", {"value": "Second title"})
    api.post(f"/datasets/{uid}/processors/", {"type": "string_replace", "label": "fix", "field": "a",
                                              "old": "x", "new": "y"})
    versions = api.get(f"/datasets/{uid}/versions/").json
    assert versions["total_count"] == 3
    assert versions["results"][0]["sections"] == ["processors"]  # newest first
    assert api.get(f"/datasets/{uid}/versions/{original}/").json["uid"] == original
    restored = api.post(f"/datasets/{uid}/versions/{original}/restore/")
    assert restored.status == 200
    assert restored.json["metadata"]["default"]["title"]["value"] == "My data"
    assert api.get(f"/datasets/{uid}/versions/").json["total_count"] == 4
    assert api.post(f"/datasets/{uid}/versions/ch_nope/restore/").status == 404


# ---------------------------------------------------------------- resources and files

def test_file_upload_resource_and_records_preview(api):
    uid = api.post("/datasets/", new_dataset_body("with-file")).json["uid"]
    upload = SimpleUploadedFile("cheese.csv", b"name;region;price\nComte;Jura;12\nBrie;Ile-de-France;9.5\n",
                                content_type="text/csv")
    stored = api.call("POST", f"/datasets/{uid}/resources/files/", files={"file": upload})
    assert stored.status == 200
    assert stored.json["filename"] == "cheese.csv" and stored.json["mimetype"] == "text/csv"
    file_uid = stored.json["uid"]
    assert api.get(f"/datasets/{uid}/resources/files/{file_uid}/").json["uid"] == file_uid
    download = api.get(f"/datasets/{uid}/resources/files/{file_uid}/download/")
    assert download.content.startswith(b"name;region")
    resource = api.post(f"/datasets/{uid}/resources/", {
        "type": "csvfile", "title": "Cheeses", "params": {"separator": ";"},
        "datasource": {"type": "uploaded_file", "file": {"uid": file_uid}}})
    assert resource.status == 201
    assert resource.json["uid"].startswith("re_") and resource.json["display_name"] == file_uid
    preview = api.get(f"/datasets/{uid}/resources/{resource.json['uid']}/preview/")
    assert [f["name"] for f in preview.json["fields"]] == ["name", "region", "price"]
    assert preview.json["fields"][2]["type"] == "double"
    assert preview.json["records"][0] == {"name": "Comte", "region": "Jura", "price": "12"}
    unsaved = api.post(f"/datasets/{uid}/resources/preview/", {
        "type": "csvfile", "datasource": {"type": "uploaded_file", "file": {"uid": file_uid}}})
    assert len(unsaved.json["records"]) == 2
    assert api.get(f"/datasets/{uid}/resources/").json["total_count"] == 1
    assert api.delete(f"/datasets/{uid}/resources/{resource.json['uid']}/").status == 204
    assert api.get(f"/datasets/{uid}/resources/").json["total_count"] == 0


def test_resource_validation(api):
    uid = first_uid(api)
    missing = api.post(f"/datasets/{uid}/resources/", {"type": "csvfile"}, check_request=False)
    assert missing.status == 400 and {"title", "datasource"} <= set(missing.json["detail"])
    bad_file = api.post(f"/datasets/{uid}/resources/", {
        "type": "csvfile", "title": "x", "datasource": {"type": "uploaded_file", "file": {"uid": "nope.csv"}}})
    assert bad_file.status == 400
    no_file = api.call("POST", f"/datasets/{uid}/resources/files/", files={}, check_request=False)
    assert no_file.status == 400 and "file" in no_file.json["detail"]


def test_static_catalogues_of_extractors_and_processors(api):
    assert {e["type"] for e in api.get("/extractors/").json} >= {"csvfile", "jsonfile"}
    processors = {p["type"]: p for p in api.get("/processors/").json}
    assert "string_replace" in processors
    # each with its parameter definitions, in the shape /extractors/ uses
    assert {"name": "old", "label": "Text to find", "type": "string", "is_mandatory": True} in \
        processors["string_replace"]["parameters"]


# ---------------------------------------------------------------- processors, fields, schedules

def test_processors_fields_and_schedules(api):
    uid = api.post("/datasets/", new_dataset_body("parts")).json["uid"]
    missing = api.post(f"/datasets/{uid}/processors/", {"type": "concat", "label": "join", "fields": ["a", "b"]})
    assert missing.status == 400 and "output_field" in missing.json["detail"]  # a required parameter
    unknown = api.post(f"/datasets/{uid}/processors/", {"type": "explode", "label": "x"})
    assert unknown.status == 400 and "type" in unknown.json["detail"]
    processor = api.post(f"/datasets/{uid}/processors/", {"type": "concat", "label": "join", "fields": ["a", "b"],
                                                          "output_field": "ab"})
    assert processor.status == 201 and processor.json["uid"].startswith("pr_")
    puid = processor.json["uid"]
    replaced = api.put(f"/datasets/{uid}/processors/{puid}/", {"type": "set_field", "label": "joined",
                                                              "output_field": "c"}).json
    assert replaced == {"uid": puid, "type": "set_field", "label": "joined", "output_field": "c"}  # PUT replaces
    assert api.get(f"/datasets/{uid}/processors/").json["total_count"] == 1
    assert api.post(f"/datasets/{uid}/processors/", {"label": "no type"}, check_request=False).status == 400
    assert api.delete(f"/datasets/{uid}/processors/{puid}/").status == 204
    assert api.get(f"/datasets/{uid}/processors/{puid}/").status == 404

    field = api.post(f"/datasets/{uid}/fields/", {"type": "rename", "label": "rename", "from_name": "a",
                                                  "to_name": "b", "field_label": "B"})
    assert field.status == 201
    assert api.get(f"/datasets/{uid}/fields/{field.json['uid']}/").json["to_name"] == "b"
    incomplete = api.post(f"/datasets/{uid}/fields/", {"type": "rename", "label": "x"}, check_request=False)
    assert incomplete.status == 400 and "from_name" in incomplete.json["detail"]

    schedule = api.post(f"/datasets/{uid}/schedules/", {"cron_schedule": "0 * * * *"})
    assert schedule.status == 201 and schedule.json["uid"].startswith("sc_")
    assert api.post(f"/datasets/{uid}/schedules/", {"cron_schedule": "every day"}).status == 400
    assert api.get(f"/datasets/{uid}/schedules/").json["results"] == [schedule.json]


# ---------------------------------------------------------------- attachments, exports, security, feedbacks

def test_attachments_and_alternative_exports(api):
    uid = first_uid(api)
    upload = SimpleUploadedFile("notice.pdf", b"%PDF-1.4 sandbox", content_type="application/pdf")
    attachment = api.call("POST", f"/datasets/{uid}/attachments/", files={"file": upload})
    assert attachment.status == 201
    auid = attachment.json["uid"]
    assert api.get(f"/datasets/{uid}/attachments/").json["total_count"] == 1
    assert api.get(f"/datasets/{uid}/attachments/{auid}/download/").content == b"%PDF-1.4 sandbox"
    assert api.delete(f"/datasets/{uid}/attachments/{auid}/").status == 204

    export_file = SimpleUploadedFile("export.geojson", b"{}", content_type="application/geo+json")
    export = api.call("POST", f"/datasets/{uid}/alternative_exports/",
                      files={"title": "GeoJSON", "type": "uploaded_file", "file": export_file})
    assert export.status == 201 and export.json["uid"].startswith("ae_")
    listed = api.get(f"/datasets/{uid}/alternative_exports/").json
    assert listed["total_count"] == 1 and listed["results"][0]["title"] == "GeoJSON"
    renamed = api.put(f"/datasets/{uid}/alternative_exports/{export.json['uid']}/",
                      {"title": "Shapes", "type": "uploaded_file"})
    assert renamed.json["title"] == "Shapes"


def test_security_rulesets(api):
    uid = first_uid(api)
    created = api.post(f"/datasets/{uid}/security/users/", {
        "user": {"username": "admin"}, "permissions": ["edit_dataset"],
        "security": {"is_data_visible": True, "filter_query": "year>2020"}})
    assert created.status == 201
    again = api.post(f"/datasets/{uid}/security/users/", {"user": {"username": "admin"}})
    assert again.status == 400
    assert api.get(f"/datasets/{uid}/security/users/admin/").json["permissions"] == ["edit_dataset"]
    assert api.put(f"/datasets/{uid}/security/users/admin/", {"user": {"username": "admin"},
                                                              "permissions": []}).json["permissions"] == []
    group = api.post(f"/datasets/{uid}/security/groups/", {"group": {"uid": "analysts"}, "permissions": []})
    assert group.status == 201
    assert api.get(f"/datasets/{uid}/security/groups/").json["total_count"] == 1
    assert api.delete(f"/datasets/{uid}/security/groups/analysts/").status == 204


def test_feedbacks_list_and_archive(api):
    uid = first_uid(api)  # dataset 0 has a seeded feedback
    feedbacks = api.get(f"/datasets/{uid}/feedbacks/").json
    assert feedbacks["total_count"] == 1
    fuid = feedbacks["results"][0]["uid"]
    archived = api.post(f"/datasets/{uid}/feedbacks/{fuid}/archive/")
    assert archived.json["is_archived"] is True
    assert api.get(f"/datasets/{uid}/feedbacks/", query={"is_archived": "false"}).json["total_count"] == 0


def test_built_in_templates_only_switch_on_and_off_and_custom_ones_are_validated_per_field(api):
    # given the platform's templates: they may be enabled or disabled, nothing else
    internal = {k: v for k, v in api.get("/metadata/templates/internal/").json.items()
                if k in ("name", "title", "type", "is_active", "schema")}
    refused = api.put("/metadata/templates/internal/", {**internal, "title": "Mine now"})
    assert refused.status == 400 and "title" in refused.json["detail"]
    assert api.put("/metadata/templates/internal/", {**internal, "is_active": False}).json["is_active"] is False
    default = {k: v for k, v in api.get("/metadata/templates/default/").json.items()
               if k in ("name", "title", "type", "is_active", "schema")}
    assert api.put("/metadata/templates/default/", {**default, "is_active": False}).json["detail"]["is_active"]
    assert api.delete("/metadata/templates/inspire/").status == 400
    # a custom template's schema errors come per field, in order (a nested list serializer)
    bad = api.post("/metadata/templates/", {"name": "ops", "title": "Ops", "type": "basic", "is_active": True,
                                            "schema": [{"name": "owner", "type": "text"},
                                                       {"name": "owner", "type": "colour"},
                                                       {"name": "tier", "type": "enum"}]},
                   check_request=False)
    assert bad.status == 400
    schema_errors = bad.json["detail"]["schema"]
    assert schema_errors[0] == {} and set(schema_errors[1]) == {"name", "type"} and "choices" in schema_errors[2]
    assert api.post("/metadata/templates/", {"name": "ops", "title": "Ops", "type": "interop",
                                             "schema": []}, check_request=False).json["detail"]["type"]
    created = api.post("/metadata/templates/", {"name": "ops", "title": "Ops", "type": "admin", "is_active": True,
                                                "schema": [{"name": "tier", "type": "enum", "choices": ["a", "b"]}]})
    assert created.status == 201 and created.json["schema"][0]["requirement_level"] == "optional"
    changed = api.put("/metadata/templates/ops/", {"name": "ops", "title": "Operations", "type": "admin",
                                                   "is_active": True, "schema": [
        {"name": "tier", "type": "enum", "choices": ["a", "b", "c"], "requirement_level": "mandatory"}]})
    assert changed.status == 200 and changed.json["schema"][0]["choices"] == ["a", "b", "c"]
    assert api.delete("/metadata/templates/ops/").status == 204
    assert api.get("/metadata/templates/ops/").status == 404


def test_a_saved_resources_preview_follows_processors_and_field_configurations(api):
    uid = api.post("/datasets/", new_dataset_body("processed")).json["uid"]
    upload = SimpleUploadedFile("t.csv", b"name;zip\nLyon;69000\n", content_type="text/csv")
    file_uid = api.call("POST", f"/datasets/{uid}/resources/files/", files={"file": upload}).json["uid"]
    resource = api.post(f"/datasets/{uid}/resources/", {"type": "csvfile", "title": "t", "params": {},
                                                        "datasource": {"type": "uploaded_file",
                                                                       "file": {"uid": file_uid}}}).json["uid"]
    api.post(f"/datasets/{uid}/processors/", {"type": "concat", "label": "j", "fields": ["name", "zip"],
                                              "separator": "-", "output_field": "both"})
    api.post(f"/datasets/{uid}/fields/", {"type": "rename", "label": "r", "from_name": "zip", "to_name": "postcode",
                                          "field_label": "Post code"})
    api.post(f"/datasets/{uid}/fields/", {"type": "type", "label": "t", "field": "zip", "type_param": "text"})
    preview = api.get(f"/datasets/{uid}/resources/{resource}/preview/").json
    fields = {f["name"]: f for f in preview["fields"]}
    assert set(fields) == {"name", "postcode", "both"}
    assert fields["postcode"]["label"] == "Post code" and fields["postcode"]["type"] == "text"  # found by old name
    assert preview["records"] == [{"name": "Lyon", "postcode": "69000", "both": "Lyon-69000"}]
