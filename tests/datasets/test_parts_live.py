"""Against the sandbox over real HTTP: a processor from the catalogue, the schema showing its new field, a schema
edit, reorder, schedule edit, exports, feedback, images — and bad input refused before anything is sent."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.datasets.models import DatasetSnapshot, FeedbackCount
from portaladmin.jobs.models import Job, JobStatus
from portaladmin.portals.client import client_for
from portaladmin.portals.models import Role
from portaladmin.sandbox.models import SandboxObject
from portaladmin.sandbox.services import request_counts, reset_request_log
from tests.sandbox_fixtures import run_worker_and_poller

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
KEY = "sandbox-parts-key-0123456789abc"


def url(name, **kw):
    return reverse(f"datasets:{name}", kwargs={"conn": "demo", **kw})


def writes(portal):
    return sum(request_counts(portal, method=m) for m in ("POST", "PUT", "DELETE"))


@pytest.fixture
def conn(sandbox_connection):
    return sandbox_connection("parts", slug="demo", api_key=KEY, datasets=1, users=1, groups=0, harvesters=0,
                              pages=0)


def test_upload_processor_from_catalogue_schema_shows_field_publish_idle(conn, sandbox_clock, make_user,
                                                                         no_enqueue, client):
    client.force_login(make_user("olga", role=Role.OPERATOR, connection=conn))
    response = client.post(url("create"), {"dataset_id": "towns", "title": "Towns", "language": "en"})
    uid = re.search(r"/datasets/([^/]+)/$", response["Location"]).group(1)
    csv = SimpleUploadedFile("towns.csv", b"name;zip\nLyon;69000\nBrest;29200\n", "text/csv")
    # upload → the portal's guess and preview → save (the resource screens' draft)
    draft = client.post(url("resource_new_upload", uid=uid), {"file": csv}, headers={"HX-Request": "true"})
    client.post(url("resource_draft_save", uid=uid), dict(draft.context["form"].data), headers={"HX-Request": "true"})
    assert [r.title for r in client_for(conn).resource_list(uid).results]

    # the catalogue lists the portal's types; a type's form is generated from its definitions
    page = client.get(url("processor_new", uid=uid)).content.decode()
    assert 'data-type="concat"' in page and 'data-type="geo_join"' in page
    form = client.get(url("processor_new", uid=uid), {"type": "concat"}).content.decode()
    assert 'name="p_fields"' in form and 'name="p_output_field"' in form and 'value=" "' in form  # the default

    # an unknown type is refused before sending; a missing required parameter lands on its field
    reset_request_log("parts")
    refused = client.post(url("processor_new", uid=uid), {"type": "explode", "label": "x"})
    assert refused.status_code == 400 and "offers no processor of type" in refused.content.decode()
    missing = client.post(url("processor_new", uid=uid), {"type": "concat", "p_fields": "name, zip",
                                                          "p_separator": " "}).content.decode()
    assert "This field is required" in missing
    bad_field = client.post(url("processor_new", uid=uid), {"type": "concat", "p_fields": "name, nope",
                                                            "p_output_field": "label"}).content.decode()
    assert "The dataset has no field" in bad_field
    assert writes("parts") == 0

    # a valid one is appended; the schema shows the new field and the preview its values
    response = client.post(url("processor_new", uid=uid), {"type": "concat", "label": "Label",
                                                           "p_fields": "name, zip", "p_separator": " - ",
                                                           "p_output_field": "label"})
    assert response.status_code == 302 and response["Location"].endswith(url("schema", uid=uid))
    processors = client_for(conn).processor_list(uid).results
    assert processors[-1].raw["fields"] == ["name", "zip"] and processors[-1].raw["output_field"] == "label"
    schema = client.get(url("schema", uid=uid)).content.decode()
    assert 'data-field="label"' in schema and "Lyon - 69000" in schema

    # the schema edit renames and retypes a field with field configurations; the preview follows
    response = client.post(url("schema_field", uid=uid, field_name="zip"),
                           {"name": "postcode", "label": "Post code", "type": "text", "description": "5 digits",
                            "annotations": ["sortable"]})
    assert response.status_code == 302
    kinds = sorted(c.type for c in client_for(conn).field_config_list(uid))
    assert kinds == ["annotate", "description", "rename", "type"]
    schema = client.get(url("schema", uid=uid)).content.decode()
    assert 'data-field="postcode"' in schema and "Post code" in schema and "5 digits" in schema

    # publish until idle
    client.post(url("action", uid=uid, action="publish"))
    job = run_worker_and_poller(Job.objects.get(kind="dataset.publish"), sandbox_clock, steps=12)
    assert job.status == JobStatus.SUCCEEDED
    assert DatasetSnapshot.objects.get(uid=uid).status == "idle"
    assert AuditEvent.objects.filter(action="dataset.processor.create", outcome="success").exists()
    assert AuditEvent.objects.filter(action="dataset.field.schema", outcome="success").exists()


def test_reorder_swaps_neighbours_and_edit_keeps_the_generated_form(conn, make_user, client):
    client.force_login(make_user("olga", role=Role.OPERATOR, connection=conn))
    uid = SandboxObject.objects.filter(portal__name="parts", kind="processor").first().parent
    api = client_for(conn)
    api.processor_create(uid, {"type": "set_field", "label": "Source", "output_field": "source", "value": "x"})
    before = [(p.uid, p.label) for p in api.processor_list(uid)]
    client.post(url("processor_move", uid=uid, processor_uid=before[1][0], direction="up"))
    after = [(p.uid, p.label) for p in api.processor_list(uid)]
    assert [u for u, _ in after] == [u for u, _ in before]  # positions keep their uids
    assert [label for _, label in after] == [before[1][1], before[0][1]]
    raws = {p.uid: {k: v for k, v in p.raw.items() if k != "uid"} for p in api.processor_list(uid)}
    assert raws[before[0][0]] == {"type": "set_field", "label": "Source", "output_field": "source", "value": "x"}
    assert "output_field" not in raws[before[1][0]]  # nothing of the other step left behind

    page = client.get(url("processor_change", uid=uid, processor_uid=after[0][0])).content.decode()
    assert 'name="p_output_field"' in page and 'value="source"' in page
    client.post(url("processor_change", uid=uid, processor_uid=after[0][0]),
                {"type": "set_field", "label": "Origin", "p_output_field": "origin", "p_value": "y"})
    assert api.processor_get(uid, after[0][0]).raw["output_field"] == "origin"


def test_schedule_edit_refuses_a_bad_cron_and_saves_a_good_one(conn, make_user, client):
    client.force_login(make_user("olga", role=Role.OPERATOR, connection=conn))
    uid = SandboxObject.objects.filter(portal__name="parts", kind="processor").first().parent
    schedule = client_for(conn).dataset_schedule_create(uid, cron_schedule="0 3 * * *")
    reset_request_log("parts")
    html = client.post(url("schedule_change", uid=uid, schedule_uid=schedule.uid), {"cron": "61 * * *"}).content
    assert b"is not a valid cron expression" in html and writes("parts") == 0
    page = client.get(url("schedule_change", uid=uid, schedule_uid=schedule.uid)).content.decode()
    assert "03:00 UTC" in page  # next runs in the schedule's time zone
    client.post(url("schedule_change", uid=uid, schedule_uid=schedule.uid), {"cron": "30 4 * * 1"})
    assert client_for(conn).dataset_schedule_get(uid, schedule.uid).cron_schedule == "30 4 * * 1"


def test_alternative_exports_add_edit_download_delete(conn, make_user, client):
    client.force_login(make_user("ada", role=Role.ADMIN, connection=conn))
    uid = SandboxObject.objects.filter(portal__name="parts", kind="processor").first().parent
    body = b"a,b\n" + b"1,2\n" * 50_000
    upload = SimpleUploadedFile("big.csv", body, "text/csv")
    response = client.post(url("export_add", uid=uid), {"title": "Full", "description": "all rows", "file": upload})
    assert response.status_code == 302
    export = client_for(conn).alternative_export_list(uid).results[0]
    assert export.title == "Full" and export.description == "all rows"
    download = client.get(url("export_download", uid=uid, export_uid=export.uid))
    assert download.streaming and b"".join(download.streaming_content) == body
    client.post(url("export_change", uid=uid, export_uid=export.uid), {"title": "Everything", "description": ""})
    assert client_for(conn).alternative_export_get(uid, export.uid).title == "Everything"
    empty = client.post(url("export_add", uid=uid), {"title": "x", "file": SimpleUploadedFile("e.csv", b"")})
    assert b"This file is empty" in empty.content
    client.post(url("export_delete", uid=uid, export_uid=export.uid))
    assert client_for(conn).alternative_export_list(uid).total_count == 0


def test_feedback_read_archive_and_counts_across_the_connection(sandbox_connection, make_user, client):
    conn = sandbox_connection("fb", slug="demo", api_key=KEY, datasets=8, users=1, groups=0, harvesters=0, pages=0)
    from portaladmin.datasets.services import catalogue_sync_run
    from portaladmin.datasets.tasks import feedback_count_scan

    catalogue_sync_run(connection=conn)
    client.force_login(make_user("olga", role=Role.OPERATOR, connection=conn))
    assert feedback_count_scan(conn.pk) == 8  # the task's body, as a worker runs it: one request per dataset
    rows = FeedbackCount.objects.filter(connection=conn, open_count__gt=0)
    assert rows.count() == 2  # the seed puts one on every 7th dataset
    uid = rows.first().uid
    overview = client.get(reverse("home")).content.decode()
    assert 'data-figure="open-feedback"' in overview
    listing = client.get(url("feedback_all")).content.decode()
    assert "2 open feedbacks on 2 datasets" in listing
    assert listing.count("The value for 2021 looks wrong.") == 2  # the feedback itself, across datasets
    page = client.get(url("feedback", uid=uid)).content.decode()
    feedback_uid = re.search(r'data-feedback="([^"]+)"', page).group(1)
    one = client.get(url("feedback_detail", uid=uid, feedback_uid=feedback_uid)).content.decode()
    assert "The value for 2021 looks wrong." in one
    response = client.post(url("feedback_archive", uid=uid, feedback_uid=feedback_uid), {"next": "all"})
    assert response["Location"] == url("feedback_all")  # back where Archive was pressed
    assert client_for(conn).feedback_get(uid, feedback_uid).is_archived
    assert FeedbackCount.objects.get(connection=conn, uid=uid).open_count == 0
    assert "No open feedback." in client.get(url("feedback", uid=uid)).content.decode()


def test_images_checked_by_content_and_size_before_sending(conn, make_user, client, settings):
    client.force_login(make_user("olga", role=Role.OPERATOR, connection=conn))
    settings.PORTALADMIN_MAX_IMAGE_BYTES = 1000
    reset_request_log("parts")
    fake = client.post(url("image_upload"), {"file": SimpleUploadedFile("x.png", b"not an image", "image/png")})
    assert b"This is not an image" in fake.content
    big = client.post(url("image_upload"), {"file": SimpleUploadedFile("b.png", b"\x89PNG" + b"0" * 2000)})
    assert b"the limit is" in big.content
    assert writes("parts") == 0
    ok = client.post(url("image_upload"), {"file": SimpleUploadedFile("logo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 10)})
    assert ok.status_code == 302
    assert "logo.png" in client.get(url("images")).content.decode()
