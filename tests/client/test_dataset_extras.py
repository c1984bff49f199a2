"""The client methods of dataset_extras.py against the spec-checking `api` portal (requests and canned answers
are validated against openapi.json): what each sends and what it returns."""

from __future__ import annotations

import io
import json

from portaladmin.portals.client import schemas as s
from tests.client import payloads as p
from tests.client.conftest import API, split_call
from tests.oracle import requires_spec

D = "/datasets/da_abc123"
UPLOADED = {**p.ALTERNATIVE_EXPORT, "type": "uploaded_file", "filename": "trees.zip"}


def _body(call) -> bytes:
    body = call.request.body
    if isinstance(body, bytes):
        return body
    if hasattr(body, "read"):
        return body.read()
    return b"".join(body)


@requires_spec
def test_alternative_export_get_update_delete(api, portal):
    api.expect("GET", D + "/alternative_exports/ae_abc/", body=UPLOADED)
    api.expect("PUT", D + "/alternative_exports/ae_abc/", body={**UPLOADED, "title": "Zip"})
    api.expect("DELETE", D + "/alternative_exports/ae_abc/", status=204)
    got = portal.alternative_export_get("da_abc123", "ae_abc")
    assert isinstance(got, s.AlternativeExport) and got.raw["filename"] == "trees.zip"
    saved = portal.alternative_export_update("da_abc123", "ae_abc", title="Zip", description="")
    assert saved.title == "Zip"
    assert json.loads(api.calls[1].request.body) == {"type": "uploaded_file", "title": "Zip", "description": ""}
    assert portal.alternative_export_delete("da_abc123", "ae_abc") is None


@requires_spec
def test_alternative_export_create_streams_a_multipart_upload_with_its_fields(api, portal):
    api.expect("POST", D + "/alternative_exports/", status=201, body=UPLOADED)
    made = portal.alternative_export_create("da_abc123", io.BytesIO(b"PK\x03\x04zip"), filename="trees.zip",
                                            title="Shapefile", description="As shapefile",
                                            content_type="application/zip")
    assert made.uid == "ae_abc"
    method, path, _query, _sent, content_type = split_call(api.calls[0])
    assert (method, path) == ("POST", D + "/alternative_exports/")
    assert content_type.startswith("multipart/form-data; boundary=")
    body = _body(api.calls[0])
    assert b'name="type"\r\n\r\nuploaded_file' in body and b'name="title"\r\n\r\nShapefile' in body
    assert body.index(b'name="title"') < body.index(b'name="file"; filename="trees.zip"')


def test_alternative_export_download_is_streamed(api, portal):
    api.expect("GET", D + "/alternative_exports/ae_abc/download/", raw=b"z" * 150_000,
               content_type="application/zip", validate=False)
    chunks = portal.alternative_export_download("da_abc123", "ae_abc", chunk_size=50_000)
    assert not isinstance(chunks, (bytes, list))  # an iterator: nothing read before the caller asks
    assert [len(c) for c in chunks] == [50_000, 50_000, 50_000]


@requires_spec
def test_feedback_get_and_open_count(api, portal):
    api.expect("GET", D + "/feedbacks/df_abc/", body=p.FEEDBACK)
    api.expect("GET", D + "/feedbacks/", body=p.page([p.FEEDBACK], total=4))
    assert portal.feedback_get("da_abc123", "df_abc").comment == "Wrong height"
    assert portal.feedback_open_count("da_abc123") == 4
    assert split_call(api.calls[1])[2] == {"is_archived": ["false"]}  # one request, no rows asked beyond page 1


def test_asset_upload(portal):
    # Not the spec-checking mock: the spec describes this multipart upload in words but declares no body.
    import responses

    with responses.RequestsMock() as mock:
        mock.post(API + "/medias/images/", status=201, json=p.ASSET)
        asset = portal.asset_upload(io.BytesIO(b"<svg/>"), filename="logo.svg", content_type="image/svg+xml")
        assert asset.url.endswith("logo.svg")
        assert b'filename="logo.svg"\r\nContent-Type: image/svg+xml' in _body(mock.calls[0])
