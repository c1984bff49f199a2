"""Bulk metadata edit: the operations (pure), the payload checks against the field's definition, then the whole
flow against the sandbox over real HTTP — selection → preview (old → new) → one job → postcondition read back →
undo that restores exactly the previous values and refuses where someone changed the value since."""

import pytest
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.datasets.bulk_metadata import (
    BulkInputError,
    apply_operation,
    bulk_field_choices,
    bulk_payload,
)
from portaladmin.jobs.models import Job, JobStatus
from portaladmin.portals.client import client_for
from portaladmin.portals.client.schemas import MetadataTemplate, MetadataTemplateField
from portaladmin.portals.models import Role
from portaladmin.sandbox.services import request_counts, reset_request_log
from tests.sandbox_fixtures import run_worker_and_poller


@pytest.mark.parametrize("payload, current, new", [
    ({"op": "set", "value": "CC BY"}, "ODbL", "CC BY"),
    ({"op": "set", "value": ["a, b", ""]}, None, ["a, b", ""]),
    ({"op": "clear"}, "x", None),
    ({"op": "add", "value": "Lyon, France"}, ["Paris, France"], ["Paris, France", "Lyon, France"]),
    ({"op": "add", "value": "Lyon"}, ["Lyon"], ["Lyon"]),
    ({"op": "add", "value": "Lyon"}, None, ["Lyon"]),
    ({"op": "remove", "value": "a, b"}, ["a, b", "c"], ["c"]),
    ({"op": "remove", "value": "z"}, None, None),
    ({"op": "replace", "find": "Mairie", "value": "Ville"}, "Mairie de Lyon, Mairie", "Ville de Lyon, Ville"),
    ({"op": "replace", "find": "x", "value": "y"}, None, None),
    ({"op": "restore", "value": ["k"], "had_value": True}, ["k", "new"], ["k"]),
    ({"op": "restore", "value": None, "had_value": False}, "set by the job", None),
])
def test_operations(payload, current, new):
    assert apply_operation(payload, current) == new


def test_operations_refuse_a_field_of_the_wrong_shape():
    with pytest.raises(BulkInputError):
        apply_operation({"op": "add", "value": "x"}, "a text")
    with pytest.raises(BulkInputError):
        apply_operation({"op": "replace", "find": "a", "value": "b"}, ["a list"])


def test_field_choices_name_the_template_by_its_title():
    # QA: the field list read "asset_content_configuration · Facets (list)"; a person knows the template's title.
    titled = MetadataTemplate.from_dict({"name": "default", "title": "Standard metadata", "type": "basic",
                                         "schema": [{"name": "keyword", "type": "list", "label": "Keywords"}]})
    untitled = MetadataTemplate.from_dict({"name": "custom", "type": "custom",
                                           "schema": [{"name": "code", "type": "text", "label": "Code"}]})
    choices, per_key = bulk_field_choices({"lyon": [titled, untitled]})
    assert choices == [("default:keyword", "Standard metadata · Keywords (list)"), ("custom:code", "custom · Code (text)")]
    assert per_key["default:keyword"]["lyon"][0] == "default"  # the payload still names the template by its name


def _field(**kw):
    return MetadataTemplateField.from_dict({"name": "f", "type": "text", **kw})


def test_payload_is_checked_against_the_field_definition():
    assert bulk_payload(template="default", definition=_field(type="list"), op="set",
                        value="Paris, France\r\nLyon\r\n") == {"template": "default", "field": "f", "op": "set",
                                                               "value": ["Paris, France", "Lyon"]}
    assert bulk_payload(template="t", definition=_field(type="boolean"), op="set", value="true")["value"] is True
    for definition, op, value, message in [
        (_field(type="text", requirement_level="mandatory"), "clear", "", "mandatory"),
        (_field(type="text"), "add", "x", "list fields only"),
        (_field(type="list"), "replace", "x", "text fields only"),
        (_field(type="enum", choices=["a"]), "set", "b", "not one of the allowed"),
        (_field(type="int"), "set", "many", "whole number"),
        (_field(type="geo_shape"), "set", "{}", "cannot be edited in bulk"),
    ]:
        with pytest.raises(BulkInputError, match=message):
            bulk_payload(template="t", definition=definition, op=op, value=value)


# ---------------------------------------------------------------------------------------------- live

KEY = "sandbox-bulk-metadata-key-0123456789"


def url(name, **kw):
    return reverse(f"datasets:{name}", kwargs={"conn": "demo", **kw})


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_preview_apply_and_undo_against_the_sandbox(sandbox_connection, sandbox_clock, make_user, client,
                                                   no_enqueue):
    from portaladmin.datasets.services import catalogue_sync_run

    conn = sandbox_connection("bmd", slug="demo", api_key=KEY, datasets=4, users=1, groups=0, harvesters=0, pages=0)
    client.force_login(make_user("bulky", role=Role.OPERATOR, connection=conn))
    catalogue_sync_run(connection=conn)
    portal = client_for(conn)
    uids = [d.uid for d in portal.dataset_list(limit=4).results]
    portal.metadata_update(uids[0], "default", "keyword", value=["Lyon, France"])  # already holds it: unchanged
    before = {uid: portal.metadata_get_all(uid) for uid in uids}

    # the list's selection goes to the bulk editor
    response = client.post(url("bulk"), {"action": "metadata", "uid": uids})
    assert response["Location"] == url("bulk_metadata")
    form = {"field": "default:keyword", "op": "add", "value": "Lyon, France", "find": ""}
    reset_request_log("bmd")
    page = client.post(url("bulk_metadata"), {**form, "preview": "1"})
    counts = page.context["counts"]
    assert counts == {"change": 3, "same": 1, "error": 0, "missing": 0}
    rows = {r.uid: r for _, r in page.context["preview"]}
    assert rows[uids[1]].new == [*rows[uids[1]].old, "Lyon, France"]
    assert sum(request_counts("bmd", m) for m in ("PUT", "POST", "DELETE")) == 0  # a preview writes nothing

    # apply: one job, one item per dataset, success read back from the portal
    response = client.post(url("bulk_metadata"), {**form, "apply": "1"})
    job = Job.objects.get(kind="dataset.metadata_edit")
    assert response["Location"] == job.get_absolute_url() and job.total == 4
    job = run_worker_and_poller(job, sandbox_clock, steps=6)
    assert job.status == JobStatus.SUCCEEDED, list(job.items.values_list("status", "message"))
    assert request_counts("bmd", "PUT") == 3  # one per dataset that changes; none for the one already so
    for uid in uids:
        assert portal.metadata_get(uid, "default", "keyword").value.count("Lyon, France") == 1
    assert AuditEvent.objects.filter(action="dataset.metadata.bulk", outcome="success").count() == 4

    # someone else changes one dataset meanwhile; undo restores the others exactly and refuses that one
    portal.metadata_update(uids[2], "default", "keyword", value=["edited by someone else"])
    response = client.post(url("bulk_metadata_undo", job_id=job.pk))
    undo = Job.objects.exclude(pk=job.pk).get(kind="dataset.metadata_edit")
    assert response["Location"] == undo.get_absolute_url() and undo.total == 3
    undo = run_worker_and_poller(undo, sandbox_clock, steps=6)
    refused = undo.items.get(target=uids[2])
    assert refused.status == "failed" and "changed on the portal since" in refused.message
    assert portal.metadata_get(uids[2], "default", "keyword").value == ["edited by someone else"]
    for uid in (uids[1], uids[3]):
        assert portal.metadata_get_all(uid)["default"]["keyword"] == before[uid]["default"]["keyword"]
    assert portal.metadata_get(uids[0], "default", "keyword").value == ["Lyon, France"]  # never changed
