"""The API key never appears in exception text/repr, log records or URLs, whatever goes wrong."""

from __future__ import annotations

import json
import logging
import pickle

import pytest
import requests

from portaladmin.core.logging import RedactSecretsFilter
from portaladmin.portals.client import base
from portaladmin.portals.client.errors import PortalError
from tests.client import payloads as p
from tests.client.conftest import API
from tests.conftest import CANARY_KEY

STATUS = "/datasets/da_abc123/status/"

FAILURES = [
    ("401", dict(status=401, json={"error_code": "authentication_failed",
                                   "message": f"Invalid API key {CANARY_KEY}"})),
    ("403", dict(status=403, json={"error_code": "permission_denied", "message": "No.",
                                   "detail": {"apikey": [CANARY_KEY]}})),
    ("400", dict(status=400, json={"error_code": "validation_error", "message": f"apikey={CANARY_KEY} refused",
                                   "detail": {"key": [f"Authorization: apikey {CANARY_KEY}"]}})),
    ("404", dict(status=404, json=p.ERROR_NOT_FOUND)),
    ("429", dict(status=429, json=p.ERROR_THROTTLED, headers={"Retry-After": "1"})),
    ("500", dict(status=500, json={**p.ERROR_INTERNAL, "message": f"boom {CANARY_KEY}"})),
    ("502-html", dict(status=502, body=f"<html>{CANARY_KEY}</html>", content_type="text/html")),
    ("timeout", dict(body=requests.exceptions.ReadTimeout(f"read timed out ?apikey={CANARY_KEY}"))),
    ("refused", dict(body=requests.exceptions.ConnectionError(f"refused Authorization: apikey {CANARY_KEY}"))),
    ("connect-timeout", dict(body=requests.exceptions.ConnectTimeout(f"{CANARY_KEY}"))),
]


def _everything_about(exc: BaseException) -> str:
    parts = [str(exc), repr(exc), repr(exc.args), json.dumps(getattr(exc, "detail", None), default=str)]
    parts += [str(v) for v in vars(exc).values()]
    parts.append(repr(pickle.loads(pickle.dumps(exc))))  # noqa: S301 - our own bytes
    cause = exc.__cause__ or exc.__context__
    if cause is not None and not getattr(exc, "__suppress_context__", False):
        parts.append(repr(cause))
    return "\n".join(parts)


@pytest.mark.parametrize("name, spec", FAILURES, ids=[f[0] for f in FAILURES])
def test_canary_key_never_leaks_from_failures(name, spec, api, portal, caplog):
    caplog.set_level(logging.DEBUG)
    for _ in range(3):  # enough for the retries of a GET
        api.add("GET", API + STATUS, **spec)
    api.assert_all_requests_are_fired = False
    with pytest.raises(PortalError) as exc:
        portal.dataset_status("da_abc123")
    assert CANARY_KEY not in _everything_about(exc.value)
    assert exc.value.__suppress_context__ or exc.value.__cause__ is None or CANARY_KEY not in repr(exc.value.__cause__)
    for record in caplog.records:
        assert CANARY_KEY not in record.getMessage()
        assert CANARY_KEY not in (record.exc_text or "")
    assert caplog.records, "the client logs every call"
    for call in api.calls:
        assert CANARY_KEY not in call.request.url


def test_the_client_logger_carries_the_redaction_filter(caplog):
    assert any(isinstance(f, RedactSecretsFilter) for f in base.logger.filters)
    caplog.set_level(logging.INFO)
    base.logger.info("debugging headers %s", {"Authorization": f"apikey {CANARY_KEY}"})
    base.logger.warning("url was %s", f"https://x.org/?apikey={CANARY_KEY}")
    assert caplog.records
    for record in caplog.records:
        assert CANARY_KEY not in record.getMessage()


def test_logs_show_method_path_status_duration_but_no_query(api, portal, caplog):
    caplog.set_level(logging.INFO, logger="portaladmin.portals.client")
    api.expect("GET", "/users/", body=p.page([p.USER]))
    portal.user_list(search="secret-search-term")
    messages = [r.getMessage() for r in caplog.records if r.name == "portaladmin.portals.client"]
    assert any("GET /users/ 200" in m and "ms" in m for m in messages), messages
    assert not any("secret-search-term" in m for m in messages)


def test_the_key_is_never_in_urls(api, portal):
    api.expect("GET", "/datasets/", body=p.page([p.DATASET]))
    api.expect("POST", "/datasets/da_abc123/publish/", body=p.OK)
    portal.dataset_list()
    portal.dataset_publish("da_abc123")
    for call in api.calls:
        assert CANARY_KEY not in call.request.url
        assert "apikey" not in call.request.url.lower()
