"""The resource operations of ResourceOpsMixin against a `responses` portal checked by the spec oracle, and the
streamed downloads of a resource file and an attachment against a real local HTTP server."""

from __future__ import annotations

import pytest

from portaladmin.core.logging import redact
from portaladmin.portals.client import PortalClient
from portaladmin.portals.client.errors import PortalNotFound
from portaladmin.portals.client.resources import filename_from
from tests.client import payloads as p
from tests.client import test_methods as tm
from tests.client.test_methods import UNSET, Case
from tests.conftest import CANARY_KEY
from tests.oracle import requires_spec

D = "/datasets/da_abc123"
R = D + "/resources/re_abc"
REALTIME = {**p.RESOURCE, "type": "realtime", "params": {"pushkey": "pk_9f3a7c1e55d04b2e"}}
GUESS = {"extractor": "csvfile", "params": {"separator": ";", "encoding": "utf-8"}}
SOURCE = p.RESOURCE["datasource"]

CASES = [
    Case("resource_guess_params", lambda c: c.resource_guess_params("da_abc123", "re_abc"), "GET",
         R + "/guess_extractors_params/", GUESS, check=lambda r: r.params["separator"] == ";"),
    Case("resource_unsaved_guess_params",
         lambda c: c.resource_unsaved_guess_params("da_abc123", type="csvfile", datasource=SOURCE), "POST",
         D + "/resources/guess_extractor_params/", GUESS, sent={"type": "csvfile", "datasource": SOURCE},
         check=lambda r: r.extractor == "csvfile" and r.params["encoding"] == "utf-8"),
    Case("resource_clean_cache", lambda c: c.resource_clean_cache("da_abc123", "re_abc"), "POST",
         R + "/clean_cache/", None, status=204),
    Case("resource_enable", lambda c: c.resource_enable("da_abc123", "re_abc"), "POST", R + "/enable/", REALTIME,
         check=lambda r: r.type == "realtime"),
    Case("resource_disable", lambda c: c.resource_disable("da_abc123", "re_abc"), "POST", R + "/disable/",
         REALTIME, check=lambda r: r.uid == "re_abc"),
    Case("resource_recover", lambda c: c.resource_recover("da_abc123", "re_abc"), "POST", R + "/recover/",
         REALTIME, check=lambda r: r.uid == "re_abc"),
    Case("resource_delete_recovered_data", lambda c: c.resource_delete_recovered_data("da_abc123", "re_abc"),
         "POST", R + "/delete_recover_data/", REALTIME, check=lambda r: r.uid == "re_abc"),
    Case("resource_renew_push_key", lambda c: c.resource_renew_push_key("da_abc123", "re_abc"), "POST",
         R + "/renew_api_key/", REALTIME, check=lambda r: r[1] == "pk_9f3a7c1e55d04b2e"),
    Case("resource_file_get", lambda c: c.resource_file_get("da_abc123", "fi_trees.csv"), "GET",
         D + "/resources/files/fi_trees.csv/", p.DATASET_FILE, check=lambda r: r.filename == "trees.csv"),
]
assert all(case.sent is UNSET or case.method == "POST" for case in CASES)


@requires_spec
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_resource_operation(case, api, portal):
    tm.test_method_request_response_and_result(case, api, portal)


@requires_spec
def test_a_renewed_push_key_is_redacted_from_then_on(api, portal):
    api.expect("POST", R + "/renew_api_key/", body=REALTIME)
    _resource, key = portal.resource_renew_push_key("da_abc123", "re_abc")
    assert redact(f"push with {key}") == "push with [redacted]"


def test_resource_file_download_is_streamed_with_its_headers(local_portal):
    body = b"id;height\n" + b"1;12.5\n" * 50_000  # ~350 kB
    local_portal.route("GET", "/datasets/da_abc123/resources/files/fi_trees.csv/download/", raw=body,
                       headers={"Content-Type": "text/csv; charset=utf-8",
                                "Content-Disposition": "attachment; filename=\"trees.csv\"; "
                                                       "filename*=UTF-8''arbres%20%C3%A9t%C3%A9.csv"})
    client = PortalClient(base_url=local_portal.url, api_key=CANARY_KEY, timeout=(2, 10))
    download = client.resource_file_download("da_abc123", "fi_trees.csv", chunk_size=8192)
    assert (download.filename, download.content_type, download.length) == ("arbres été.csv", "text/csv", len(body))
    chunks = list(download.chunks)
    assert b"".join(chunks) == body
    assert len(chunks) > 10 and max(len(c) for c in chunks) <= 8192  # never the whole file at once
    client.close()


def test_attachment_download_errors_come_before_any_byte(local_portal):
    client = PortalClient(base_url=local_portal.url, api_key=CANARY_KEY, timeout=(2, 10))
    with pytest.raises(PortalNotFound):
        client.attachment_download("da_abc123", "at_gone")
    local_portal.route("GET", "/datasets/da_abc123/attachments/at_abc/download/", raw=b"%PDF-1.4",
                       headers={"Content-Type": "application/pdf"})
    download = client.attachment_download("da_abc123", "at_abc")
    assert download.filename == "at_abc" and download.content_type == "application/pdf"
    download.close()
    client.close()


@pytest.mark.parametrize(("header", "expected"), [
    ('attachment; filename="a.csv"', "a.csv"),
    ("attachment; filename*=UTF-8''%C3%A9t%C3%A9.csv", "été.csv"),
    ('attachment; filename="../../etc/passwd"', "passwd"),
    (None, "fallback"),
])
def test_filename_from_content_disposition(header, expected):
    assert filename_from(header, "fallback") == expected
