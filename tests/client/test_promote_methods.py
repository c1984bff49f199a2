"""The promote mixin's client methods: an uploaded resource file's description and its streamed download."""

from __future__ import annotations

from tests.conftest import CANARY_KEY
from tests.oracle import requires_spec

FILE = {"uid": "population.csv", "filename": "population.csv", "mimetype": "text/csv",
        "created_at": "2026-03-01T12:00:00Z"}


@requires_spec
def test_resource_file_get_and_download_match_the_spec(api, portal):
    api.expect("GET", "/datasets/da_abc123/resources/files/population.csv/", body=FILE)
    api.expect("GET", "/datasets/da_abc123/resources/files/population.csv/download/", raw=b"a;b\n1;2\n",
               content_type="application/octet-stream")
    uploaded = portal.resource_file_get("da_abc123", "population.csv")
    assert (uploaded.uid, uploaded.filename, uploaded.mimetype) == ("population.csv", "population.csv", "text/csv")
    assert b"".join(portal.resource_file_download("da_abc123", "population.csv")) == b"a;b\n1;2\n"
    api.check_calls()


def test_resource_file_size_reads_the_length_without_the_body_or_counts_it(local_portal):
    from portaladmin.portals.client import PortalClient

    data = b"x;y\n" + b"1;2\n" * 1000
    local_portal.route("GET", "/datasets/da_1/resources/files/a.csv/download/", raw=data,
                       headers={"Content-Type": "application/octet-stream"})
    client = PortalClient(base_url=local_portal.url, api_key=CANARY_KEY, timeout=(2, 10))
    assert client.resource_file_size("da_1", "a.csv") == len(data)
    client.close()


def test_resource_file_size_counts_when_no_length_is_sent(portal, monkeypatch):
    class NoLength:  # a chunked answer: no Content-Length
        headers: dict = {}

        def close(self):
            self.closed = True

    monkeypatch.setattr(portal, "_request", lambda *a, **kw: NoLength())
    monkeypatch.setattr(portal, "resource_file_download", lambda uid, file_uid: iter([b"123", b"45"]))
    assert portal.resource_file_size("da_abc123", "b.csv") == 5
