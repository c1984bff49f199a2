"""Multi-write steps undo themselves when the portal refuses a later write (nothing half-done); the client's
new calls send what the spec says."""

import io
import json

import pytest
from responses import matchers

from portaladmin.datasets.services import extras
from portaladmin.portals.client import client_for
from portaladmin.portals.client.errors import PortalValidationError

from .conftest import API, page_json

pytestmark = pytest.mark.django_db
BASE = f"{API}/datasets/da_1"
REFUSED = {"error_code": "validation_error", "message": "Invalid input", "detail": {"field": ["Unknown field."]}}


def test_reorder_swaps_two_neighbours_and_undoes_the_first_put_if_the_second_is_refused(api, connection, cast):
    a = {"uid": "pr_a", "type": "set_field", "label": "A", "output_field": "x"}
    b = {"uid": "pr_b", "type": "copy_field", "label": "B", "field": "x", "output_field": "y"}
    api.get(f"{BASE}/processors/", json=page_json([a, b]))
    first = api.put(f"{BASE}/processors/pr_a/", json={**b, "uid": "pr_a"})
    api.put(f"{BASE}/processors/pr_b/", status=400, json=REFUSED)
    with pytest.raises(PortalValidationError):
        extras.processor_move(connection=connection, actor=cast["operator"], uid="da_1", processor_uid="pr_b",
                              direction="up")
    puts = [c for c in api.calls if c.request.method == "PUT"]
    assert [c.request.url.rsplit("/", 2)[-2] for c in puts] == ["pr_a", "pr_b", "pr_a"]
    assert json.loads(puts[0].request.body)["label"] == "B"
    assert json.loads(puts[2].request.body) == {k: v for k, v in a.items() if k != "uid"}  # restored
    assert first.call_count == 2


def test_reorder_at_the_edge_sends_nothing(api, connection, cast):
    api.get(f"{BASE}/processors/", json=page_json([{"uid": "pr_a", "type": "t", "label": "A"}]))
    assert extras.processor_move(connection=connection, actor=cast["operator"], uid="da_1", processor_uid="pr_a",
                                 direction="down") is False
    assert all(c.request.method == "GET" for c in api.calls)


def test_schema_edit_deletes_what_it_created_when_a_later_write_is_refused(api, connection, cast):
    current = extras.SchemaField(name="zip", label="zip", type="text")
    api.post(f"{BASE}/fields/", json={"uid": "fi_new", "type": "rename"}, status=201,
             match=[matchers.json_params_matcher({"type": "rename", "label": "Rename zip", "from_name": "zip",
                                                  "to_name": "postcode", "field_label": "Post code"})])
    api.post(f"{BASE}/fields/", status=400, json=REFUSED,
             match=[matchers.json_params_matcher({"type": "type", "label": "Type of zip", "field": "zip",
                                                  "type_param": "int"})])
    undo = api.delete(f"{BASE}/fields/fi_new/", status=204)
    with pytest.raises(PortalValidationError):
        extras.schema_field_save(connection=connection, actor=cast["operator"], uid="da_1", field_name="zip",
                                 current=current, name="postcode", label="Post code", type="int", description="",
                                 annotations=[])
    assert undo.call_count == 1


def test_schema_edit_updates_an_existing_configuration_and_sends_nothing_unchanged(api, connection, cast):
    existing = {"uid": "fi_t", "type": "type", "label": "T", "field": "zip", "type_param": "text"}
    current = extras.SchemaField(name="zip", label="zip", type="text", configs=[existing])
    assert extras.schema_field_save(connection=connection, actor=cast["operator"], uid="da_1", field_name="zip",
                                    current=current, name="zip", label="zip", type="text", description="",
                                    annotations=[]) == []
    assert not api.calls
    api.put(f"{BASE}/fields/fi_t/", json=existing,
            match=[matchers.json_params_matcher({"type": "type", "label": "Type of zip", "field": "zip",
                                                 "type_param": "int"})])
    assert extras.schema_field_save(connection=connection, actor=cast["operator"], uid="da_1", field_name="zip",
                                    current=current, name="zip", label="zip", type="int", description="",
                                    annotations=[]) == ["type"]


def test_alternative_export_upload_sends_title_type_and_file(api, connection):
    api.post(f"{BASE}/alternative_exports/", status=201,
             json={"uid": "ae_1", "type": "uploaded_file", "title": "Full", "filename": "f.csv"})
    export = client_for(connection).alternative_export_create("da_1", io.BytesIO(b"a,b\n1,2\n"), filename="f.csv",
                                                              title="Full", description="Élan",
                                                              content_type="text/csv")
    assert export.uid == "ae_1"
    body = api.calls[0].request.body
    body = body.read() if hasattr(body, "read") else b"".join(body) if not isinstance(body, bytes) else body
    assert b'name="type"\r\n\r\nuploaded_file\r\n' in body
    assert b'name="title"\r\n\r\nFull\r\n' in body and "Élan".encode() in body
    assert b'name="file"; filename="f.csv"' in body and b"a,b\n1,2\n" in body


def test_export_download_streams_and_feedback_count_asks_for_no_rows(api, connection):
    api.get(f"{BASE}/alternative_exports/ae_1/download/", body=b"x" * 200_000)
    chunks = list(client_for(connection).alternative_export_download("da_1", "ae_1", chunk_size=65536))
    assert len(chunks) == 4 and sum(map(len, chunks)) == 200_000
    api.get(f"{BASE}/feedbacks/", json=page_json([], total=3),
            match=[matchers.query_param_matcher({"is_archived": "false"})])
    assert client_for(connection).feedback_open_count("da_1") == 3


def test_next_runs_are_read_in_the_schedules_time_zone(api, connection):
    from portaladmin.datasets import remote

    api.get(f"{BASE}/schedules/", json=page_json([
        {"uid": "sc_1", "cron_schedule": "0 3 * * *", "timezone": "Europe/Paris"},
        {"uid": "sc_2", "cron_schedule": "0 3 * * *"}]))
    paris, plain = remote.schedules_read(connection=connection, uid="da_1")["schedules"]
    assert paris["zone"] == "Europe/Paris" and plain["zone"] == "UTC"
    assert all(t.hour == 3 and str(t.tzinfo) == "Europe/Paris" for t in paris["next_runs"])
    assert all(t.hour == 3 and t.utcoffset().total_seconds() == 0 for t in plain["next_runs"])


def test_reorder_reads_back_and_says_so_when_the_portal_merged_a_put(api, connection, cast):
    a = {"uid": "pr_a", "type": "set_field", "label": "A", "output_field": "x"}
    b = {"uid": "pr_b", "type": "string_replace", "label": "B", "field": "x", "old": "1"}
    api.get(f"{BASE}/processors/", json=page_json([a, b]))
    api.put(f"{BASE}/processors/pr_a/", json={**a, **b, "uid": "pr_a"})
    api.put(f"{BASE}/processors/pr_b/", json={**b, **a, "uid": "pr_b"})
    api.get(f"{BASE}/processors/", json=page_json([{**a, **b, "uid": "pr_a"}, {**b, **a, "uid": "pr_b"}]))
    with pytest.raises(extras.PartlyDone, match="kept parameters of the other step"):
        extras.processor_move(connection=connection, actor=cast["operator"], uid="da_1", processor_uid="pr_b",
                              direction="up")
