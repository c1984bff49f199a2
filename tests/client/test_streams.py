"""Uploads are streamed from disk (never read whole); the users CSV export is streamed back."""

from __future__ import annotations

import io
import re

import pytest

from portaladmin.portals.client import PortalClient
from portaladmin.portals.client.base import MultipartFile
from tests.client import payloads as p
from tests.conftest import CANARY_KEY
from tests.oracle import requires_spec


class SpyFile(io.BufferedReader):
    """A real file that records every read size."""

    def __init__(self, path):
        super().__init__(io.FileIO(path, "rb"))
        self.sizes: list[int] = []

    def read(self, size=-1):
        self.sizes.append(size)
        return super().read(size)


@pytest.fixture
def big_file(tmp_path):
    path = tmp_path / "trees.csv"
    line = b"id;height;species\n" + b"1;12.5;Platanus\n" * 10
    with open(path, "wb") as fh:
        for _ in range(4000):  # ~700 kB
            fh.write(line)
    return path


def _multipart_file_content(body: bytes) -> tuple[str, bytes]:
    match = re.search(rb'name="file"; filename="([^"]+)"\r\nContent-Type: [^\r]+\r\n\r\n', body)
    assert match, body[:200]
    start = match.end()
    end = body.rindex(b"\r\n--")
    return match.group(1).decode(), body[start:end]


def test_resource_file_upload_streams_to_a_real_server(local_portal, big_file):
    local_portal.route("POST", "/datasets/da_abc123/resources/files/", p.DATASET_FILE)
    client = PortalClient(base_url=local_portal.url, api_key=CANARY_KEY, timeout=(2, 10))
    with SpyFile(big_file) as fh:
        uploaded = client.resource_upload_file("da_abc123", fh, content_type="text/csv")
        sizes = fh.sizes
    assert uploaded.uid == "fi_trees.csv"
    request = local_portal.requests[-1]
    assert request["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert "Transfer-Encoding" not in request["headers"]
    assert int(request["headers"]["Content-Length"]) == len(request["body"])
    filename, content = _multipart_file_content(request["body"])
    assert filename == "trees.csv"
    assert content == big_file.read_bytes()
    # streamed: many bounded reads, never "read everything"
    assert all(0 < s <= 64 * 1024 for s in sizes), sizes[:5]
    assert len(sizes) > 5
    client.close()


def test_attachment_upload_streams_to_a_real_server(local_portal, big_file):
    local_portal.route("POST", "/datasets/da_abc123/attachments/", p.ATTACHMENT, status=201)
    client = PortalClient(base_url=local_portal.url, api_key=CANARY_KEY, timeout=(2, 10))
    with SpyFile(big_file) as fh:
        attachment = client.attachment_upload("da_abc123", fh, filename="notes.pdf", content_type="application/pdf")
        assert all(0 < s <= 64 * 1024 for s in fh.sizes)
    assert attachment.uid == "at_abc"
    filename, content = _multipart_file_content(local_portal.requests[-1]["body"])
    assert filename == "notes.pdf"
    assert content == big_file.read_bytes()
    client.close()


@requires_spec
def test_upload_requests_match_the_spec(api, portal, big_file):
    api.expect("POST", "/datasets/da_abc123/resources/files/", body=p.DATASET_FILE)
    api.expect("POST", "/datasets/da_abc123/attachments/", status=201, body=p.ATTACHMENT)
    with open(big_file, "rb") as fh:
        uploaded = portal.resource_upload_file("da_abc123", fh)
    with open(big_file, "rb") as fh:
        attachment = portal.attachment_upload("da_abc123", fh, filename="a.csv")
    assert uploaded.filename == "trees.csv"
    assert attachment.filename == "notes.pdf"
    assert all(c.request.headers["Content-Type"].startswith("multipart/form-data") for c in api.calls)


def test_multipart_body_length_and_content_from_mid_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789" * 1000)
    with open(path, "rb") as fh:
        fh.seek(5000)  # only the rest of the file is sent
        body = MultipartFile("file", fh, 'we"ird\r\nname.bin', "application/octet-stream")
        data = b"".join(iter(body))
    assert len(data) == len(body)
    assert b'filename="we%22irdname.bin"' in data
    _, content = _multipart_file_content(data)
    assert content == (b"0123456789" * 1000)[5000:]


def test_multipart_works_with_in_memory_files():
    body = MultipartFile("file", io.BytesIO(b"abc"), "x.txt", "text/plain")
    data = body.read(10_000)
    assert len(data) == len(body)
    assert body.read(10) == b""


def test_users_csv_export_is_streamed(local_portal):
    csv = b"username,email\n" + b"".join(b"user%d,user%d@example.org\n" % (i, i) for i in range(5000))
    local_portal.route("GET", "/users/export/", raw=csv, headers={"Content-Type": "text/csv"})
    client = PortalClient(base_url=local_portal.url, api_key=CANARY_KEY, timeout=(2, 10))
    chunks = client.user_export_csv(delimiter=",", chunk_size=4096)
    first = next(chunks)
    assert len(first) <= 4096
    rest = b"".join(chunks)
    assert first + rest == csv
    assert local_portal.requests[-1]["path"].endswith("/users/export/?delimiter=%2C")
    assert local_portal.requests[-1]["headers"]["Accept"] == "*/*"
    client.close()


@requires_spec
def test_users_csv_export_request_matches_the_spec(api, portal):
    api.expect("GET", "/users/export/", raw="username;email\nlouise.data;louise@example.org\n",
               content_type="text/csv")
    data = b"".join(portal.user_export_csv(delimiter=";", subdomains="all"))
    assert data.startswith(b"username;email")
