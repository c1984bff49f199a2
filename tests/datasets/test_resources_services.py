"""The resource services: datasource built from a source and back, uploads streamed and audited, saves audited."""

import json

import pytest

from portaladmin.audit.models import AuditEvent
from portaladmin.datasets.services import resources as rs
from portaladmin.portals.client.schemas import ResourcePreview

from .conftest import API

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("source", [
    rs.Source(kind="url", url="https://files.example.org/data/x.json?v=2"),
    rs.Source(kind="file", file_uid="x.csv"),
    rs.Source(kind="connection", connection_uid="co_1", connection_type="ftp", relative_url="/pub/x.csv"),
])
def test_a_source_and_its_datasource_round_trip(source):
    assert rs.source_of(source.datasource()) == source


def test_a_url_is_split_into_connection_and_path():
    datasource = rs.Source(kind="url", url="https://files.example.org/data/x.json?v=2").datasource()
    assert datasource["connection"]["url"] == "https://files.example.org"
    assert datasource["relative_url"] == "/data/x.json?v=2"
    assert rs.source_of({"type": "federated", "dataset": {"uid": "da_2"}}) is None  # not editable here
    with_auth = {"type": "http", "relative_url": "/x.csv", "connection": {
        "type": "http", "url": "https://files.example.org", "auth": {"type": "basic_auth", "username": "u"}}}
    assert rs.source_of(with_auth) is None  # re-sending it would lose the credentials the portal keeps


def test_upload_is_streamed_and_audited_then_save_creates(api, connection, cast, tmp_path):
    api.post(f"{API}/datasets/da_1/resources/files/", json={"uid": "fi_1", "filename": "trees.csv"})
    api.post(f"{API}/datasets/da_1/resources/", status=201,
             json={"uid": "re_1", "type": "csvfile", "title": "trees.csv", "datasource": {}})
    path = tmp_path / "trees.csv"
    path.write_bytes(b"a,b\n1,2\n")
    with path.open("rb") as fh:
        uploaded = rs.resource_file_upload(connection=connection, actor=cast["operator"], uid="da_1", file=fh,
                                           filename="trees.csv", content_type="text/csv")
    assert api.calls[0].request.headers["Content-Type"].startswith("multipart/form-data")
    rs.resource_save(connection=connection, actor=cast["operator"], uid="da_1",
                     source=rs.Source(kind="file", file_uid=uploaded.uid), title="", extractor="csvfile",
                     params={"separator": ","})
    body = json.loads(api.calls[1].request.body)
    assert body == {"type": "csvfile", "title": "fi_1", "params": {"separator": ","},
                    "datasource": {"type": "uploaded_file", "file": {"uid": "fi_1"}}}
    assert AuditEvent.objects.filter(action="dataset.resource.file_upload", outcome="success").exists()
    assert AuditEvent.objects.filter(action="dataset.resource.create", outcome="success").exists()


def test_public_params_and_preview_rows():
    assert rs.public_params({"separator": ";", "pushkey": "s3cret-key-value", "push_api_key": "x"}) == {"separator": ";"}
    preview = ResourcePreview.from_dict({"fields": [{"name": "a"}, {"name": "b"}],
                                         "records": [{"a": 1, "b": ["x", "y"]}, {"fields": {"a": None}}]})
    assert rs.preview_rows(preview) == [["1", "x, y"], ["", ""]]
