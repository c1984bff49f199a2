"""Retries: idempotent calls only, on connection errors / 502 / 503 / 504 / 429, Retry-After honoured and capped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

from portaladmin.portals.client import base
from portaladmin.portals.client.errors import PortalRateLimited, PortalUnavailable
from tests.client import payloads as p
from tests.client.conftest import API

STATUS = "/datasets/da_abc123/status/"


def test_get_is_retried_then_succeeds(api, portal, sleeps):
    api.expect("GET", STATUS, status=503, body=p.ERROR_INTERNAL)
    api.add("GET", API + STATUS, body=requests.exceptions.ConnectionError("reset"))
    api.expect("GET", STATUS, body=p.STATUS_IDLE)
    status = portal.dataset_status("da_abc123")
    assert status.is_success
    assert len(api.calls) == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize("code", [502, 503, 504, 429])
def test_retryable_statuses(api, portal, code, sleeps):
    api.expect("GET", STATUS, status=code, body=p.ERROR_INTERNAL)
    api.expect("GET", STATUS, body=p.STATUS_IDLE)
    assert portal.dataset_status("da_abc123").status == "idle"
    assert len(sleeps) == 1


def test_put_and_delete_are_retried(api, portal):
    api.expect("PUT", "/datasets/da_abc123/", status=504, body=p.ERROR_INTERNAL)
    api.expect("PUT", "/datasets/da_abc123/", body=p.DATASET)
    api.expect("DELETE", "/datasets/da_abc123/", status=503, body=p.ERROR_INTERNAL)
    api.expect("DELETE", "/datasets/da_abc123/", status=204)
    portal.dataset_update("da_abc123", {"metadata": p.METADATA})
    portal.dataset_delete("da_abc123")
    assert [c.request.method for c in api.calls] == ["PUT", "PUT", "DELETE", "DELETE"]


def test_post_is_never_retried(api, portal, sleeps):
    api.expect("POST", "/datasets/da_abc123/publish/", status=503, body=p.ERROR_INTERNAL)
    with pytest.raises(PortalUnavailable):
        portal.dataset_publish("da_abc123")
    assert len(api.calls) == 1
    assert sleeps == []


def test_post_connection_error_is_not_retried(api, portal, sleeps):
    api.add("POST", API + "/users/invite/", body=requests.exceptions.ConnectionError("reset"))
    with pytest.raises(PortalUnavailable):
        portal.user_invite([{"email": "a@example.org"}])
    assert len(api.calls) == 1
    assert sleeps == []


def test_500_is_not_retried(api, portal, sleeps):
    api.expect("GET", STATUS, status=500, body=p.ERROR_INTERNAL)
    with pytest.raises(PortalUnavailable):
        portal.dataset_status("da_abc123")
    assert len(api.calls) == 1


def test_4xx_is_not_retried(api, portal, sleeps):
    api.expect("GET", STATUS, status=404, body=p.ERROR_NOT_FOUND)
    with pytest.raises(Exception):  # noqa: B017 - the type is tested in test_errors
        portal.dataset_status("da_abc123")
    assert len(api.calls) == 1
    assert sleeps == []


def test_retries_are_bounded_by_settings(api, portal, settings, sleeps):
    settings.PORTALS_MAX_RETRIES = 3
    for _ in range(4):
        api.expect("GET", STATUS, status=503, body=p.ERROR_INTERNAL)
    with pytest.raises(PortalUnavailable):
        portal.dataset_status("da_abc123")
    assert len(api.calls) == 4
    assert len(sleeps) == 3


def test_retry_after_seconds_is_honoured_below_the_cap(api, portal, settings, sleeps):
    settings.PORTALS_RETRY_AFTER_CAP = 10
    api.expect("GET", STATUS, status=429, body=p.ERROR_THROTTLED, headers={"Retry-After": "3"})
    api.expect("GET", STATUS, body=p.STATUS_IDLE)
    portal.dataset_status("da_abc123")
    assert sleeps == [3.0]


def test_retry_after_is_capped(api, portal, settings, sleeps):
    settings.PORTALS_RETRY_AFTER_CAP = 0.5
    api.expect("GET", STATUS, status=429, body=p.ERROR_THROTTLED, headers={"Retry-After": "120"})
    api.expect("GET", STATUS, status=503, body=p.ERROR_INTERNAL, headers={"Retry-After": "3600"})
    api.expect("GET", STATUS, body=p.STATUS_IDLE)
    portal.dataset_status("da_abc123")
    assert sleeps == [0.5, 0.5]


def test_retry_after_http_date(api, portal, settings, sleeps):
    settings.PORTALS_RETRY_AFTER_CAP = 100
    when = datetime.now(UTC) + timedelta(seconds=30)
    api.expect("GET", STATUS, status=503, body=p.ERROR_INTERNAL, headers={"Retry-After": format_datetime(when, usegmt=True)})
    api.expect("GET", STATUS, body=p.STATUS_IDLE)
    portal.dataset_status("da_abc123")
    assert len(sleeps) == 1
    assert 25 <= sleeps[0] <= 30


def test_rate_limited_after_all_retries_keeps_the_uncapped_retry_after(api, portal, settings, sleeps):
    settings.PORTALS_RETRY_AFTER_CAP = 0.5
    for _ in range(3):
        api.expect("GET", STATUS, status=429, body=p.ERROR_THROTTLED, headers={"Retry-After": "60"})
    with pytest.raises(PortalRateLimited) as exc:
        portal.dataset_status("da_abc123")
    assert exc.value.retry_after == 60.0  # the caller (a job) may pause the portal that long
    assert sleeps == [0.5, 0.5]


def test_backoff_without_retry_after_grows_with_jitter_and_stays_under_the_cap(api, portal, settings, sleeps):
    settings.PORTALS_MAX_RETRIES = 4
    settings.PORTALS_RETRY_AFTER_CAP = 1.0
    for _ in range(5):
        api.expect("GET", STATUS, status=503, body=p.ERROR_INTERNAL)
    with pytest.raises(PortalUnavailable):
        portal.dataset_status("da_abc123")
    assert len(sleeps) == 4
    for attempt, delay in enumerate(sleeps):
        full = min(1.0, base.BACKOFF_BASE * 2 ** attempt)
        assert full / 2 <= delay <= full


@pytest.mark.parametrize("value, expected", [
    ("5", 5.0), ("0", 0.0), (" 2.5 ", 2.5), ("-3", 0.0), ("soon", None), ("", None), (None, None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
])
def test_parse_retry_after(value, expected):
    assert base.parse_retry_after(value) == expected


def test_parse_retry_after_future_date():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert base.parse_retry_after("Thu, 01 Jan 2026 12:00:42 GMT", now=now) == 42.0


@pytest.mark.parametrize("code", [503, 429])
def test_single_attempt_raises_at_once_and_shares_the_session(api, portal, code, sleeps):
    once = portal.single_attempt()
    assert once.session is portal.session  # the same pool
    api.expect("GET", STATUS, status=code, body=p.ERROR_INTERNAL)
    with pytest.raises(PortalRateLimited if code == 429 else PortalUnavailable):
        once.dataset_status("da_abc123")
    assert len(api.calls) == 1 and sleeps == []
    # the original client still retries
    api.expect("GET", STATUS, status=code, body=p.ERROR_INTERNAL)
    api.expect("GET", STATUS, body=p.STATUS_IDLE)
    assert portal.dataset_status("da_abc123").status == "idle"
    assert len(api.calls) == 3
