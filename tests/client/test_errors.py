"""Each failure becomes the right PortalError subclass with error_code, message, trace_id and detail."""

from __future__ import annotations

import pickle

import pytest
import requests

from portaladmin.portals.client.errors import (
    PortalAuthError,
    PortalConflict,
    PortalError,
    PortalNotFound,
    PortalRateLimited,
    PortalTimeout,
    PortalUnavailable,
    PortalValidationError,
)
from tests.client import payloads as p
from tests.client.conftest import API

STATUS = "/datasets/da_abc123/status/"


def test_401_is_auth_error(api, portal):
    api.expect("GET", STATUS, status=401, body=p.ERROR_AUTH)
    with pytest.raises(PortalAuthError) as exc:
        portal.dataset_status("da_abc123")
    assert exc.value.status == 401
    assert exc.value.error_code == "authentication_failed"
    assert exc.value.message == "Invalid API key."
    assert not exc.value.is_permission
    assert not exc.value.retryable


def test_403_is_auth_error_about_permission(api, portal):
    api.expect("POST", "/datasets/da_abc123/publish/", status=403, body=p.ERROR_PERMISSION)
    with pytest.raises(PortalAuthError) as exc:
        portal.dataset_publish("da_abc123")
    assert exc.value.is_permission
    assert exc.value.method == "POST"
    assert exc.value.path == "/datasets/da_abc123/publish/"


def test_404_is_not_found(api, portal):
    api.expect("GET", "/datasets/da_gone/", status=404, body=p.ERROR_NOT_FOUND)
    with pytest.raises(PortalNotFound) as exc:
        portal.dataset_get("da_gone")
    assert exc.value.error_code == "not_found"
    assert str(exc.value) == "Not found."


def test_400_validation_error_carries_field_detail(api, portal):
    api.expect("POST", "/datasets/", status=400, body=p.ERROR_VALIDATION)
    with pytest.raises(PortalValidationError) as exc:
        portal.dataset_create(dataset_id="taken", metadata=p.METADATA)
    assert exc.value.error_code == "validation_error"
    assert exc.value.detail == {"dataset_id": ["This field is required"]}
    assert exc.value.field_errors() == {"dataset_id": ["This field is required"]}


def test_400_nested_validation_detail_is_flattened_to_messages(api, portal):
    body = {"error_code": "validation_error", "message": "Invalid input.",
            "detail": {"metadata": {"default": {"title": ["This field is required"]}}, "is_restricted": "Must be a bool"}}
    api.expect("POST", "/datasets/", status=400, body=body)
    with pytest.raises(PortalValidationError) as exc:
        portal.dataset_create(dataset_id="x", metadata=p.METADATA)
    assert exc.value.detail == {"metadata": ["default: title: This field is required"],
                                "is_restricted": ["Must be a bool"]}


def test_400_invalid_dataset_status_is_conflict(api, portal):
    api.expect("POST", "/datasets/da_abc123/publish/", status=400, body=p.ERROR_DATASET_STATUS)
    with pytest.raises(PortalConflict) as exc:
        portal.dataset_publish("da_abc123")
    assert exc.value.error_code == "invalid_dataset_status"
    assert "queued" in exc.value.message


def test_400_invalid_harvester_status_is_conflict(api, portal):
    api.expect("POST", "/harvesters/hrv_ods/start/", status=400, body=p.ERROR_HARVESTER_STATUS)
    with pytest.raises(PortalConflict) as exc:
        portal.harvester_start("hrv_ods")
    assert exc.value.error_code == "invalid_harvester_status"


def test_409_is_conflict(api, portal):
    api.expect("DELETE", "/users/louise.data/", status=409,
               body={"error_code": "conflict", "message": "Cannot delete the last domain administrator."})
    with pytest.raises(PortalConflict) as exc:
        portal.user_delete("louise.data")
    assert "last domain administrator" in str(exc.value)


def test_429_with_retry_after_is_rate_limited(api, portal, settings, sleeps):
    settings.PORTALS_MAX_RETRIES = 0
    api.expect("GET", STATUS, status=429, body=p.ERROR_THROTTLED, headers={"Retry-After": "7"})
    with pytest.raises(PortalRateLimited) as exc:
        portal.dataset_status("da_abc123")
    assert isinstance(exc.value, PortalUnavailable)
    assert exc.value.retryable
    assert exc.value.retry_after == 7.0
    assert exc.value.status == 429


def test_429_without_retry_after(api, portal, settings):
    settings.PORTALS_MAX_RETRIES = 0
    api.expect("POST", "/datasets/da_abc123/publish/", status=429, body=p.ERROR_THROTTLED)
    with pytest.raises(PortalRateLimited) as exc:
        portal.dataset_publish("da_abc123")
    assert exc.value.retry_after is None


def test_500_is_unavailable_with_trace_id(api, portal):
    api.expect("POST", "/datasets/da_abc123/publish/", status=500, body=p.ERROR_INTERNAL)
    with pytest.raises(PortalUnavailable) as exc:
        portal.dataset_publish("da_abc123")
    assert exc.value.trace_id == "tr-42"
    assert exc.value.error_code == "internal_error"
    assert "tr-42" in str(exc.value)
    assert exc.value.retry_after is None


def test_connect_timeout_is_portal_timeout(api, portal, settings):
    settings.PORTALS_MAX_RETRIES = 0
    api.add("GET", API + STATUS, body=requests.exceptions.ConnectTimeout("connect timed out"))
    with pytest.raises(PortalTimeout) as exc:
        portal.dataset_status("da_abc123")
    assert exc.value.retryable
    assert exc.value.status is None


def test_read_timeout_is_portal_timeout_and_not_retried(api, portal, sleeps):
    api.add("GET", API + STATUS, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(PortalTimeout):
        portal.dataset_status("da_abc123")
    assert len(api.calls) == 1
    assert sleeps == []


def test_connection_refused_is_unavailable(api, portal, settings):
    settings.PORTALS_MAX_RETRIES = 0
    api.add("GET", API + STATUS, body=requests.exceptions.ConnectionError("[Errno 111] Connection refused"))
    with pytest.raises(PortalUnavailable) as exc:
        portal.dataset_status("da_abc123")
    assert not isinstance(exc.value, PortalTimeout)
    assert "Could not connect" in exc.value.message


def test_connection_refused_for_real(settings):
    # a port nobody listens on: the real socket error, not a mock
    import socket

    from portaladmin.portals.client import PortalClient

    settings.PORTALS_MAX_RETRIES = 0
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = PortalClient(base_url=f"http://127.0.0.1:{port}", api_key="k" * 12, timeout=(1.0, 1.0))
    with pytest.raises(PortalUnavailable):
        client.dataset_count()


def test_non_json_error_body(api, portal):
    api.expect("GET", STATUS, status=502, raw="<html><body>Bad gateway</body></html>", content_type="text/html")
    with pytest.raises(PortalUnavailable) as exc:
        portal.dataset_status("da_abc123")
    assert exc.value.status == 502
    assert exc.value.error_code is None
    assert "502" in exc.value.message
    assert len(api.calls) == 3  # 502 is retried (PORTALS_MAX_RETRIES=2 in test settings)


def test_non_json_error_body_on_400(api, portal):
    api.expect("PUT", "/datasets/da_abc123/", status=400, raw="Bad Request", content_type="text/plain")
    with pytest.raises(PortalValidationError) as exc:
        portal.dataset_update("da_abc123", {"metadata": p.METADATA})
    assert exc.value.detail == {}
    assert "400" in exc.value.message


def test_non_json_success_body_is_a_portal_error(api, portal):
    api.expect("GET", STATUS, status=200, raw="<html>maintenance</html>", content_type="text/html")
    with pytest.raises(PortalError) as exc:
        portal.dataset_status("da_abc123")
    assert "not JSON" in exc.value.message


def test_older_error_shape_is_read(api, portal):
    api.expect("GET", "/datasets/da_abc123/", status=400, body=p.ERROR_OLD_SHAPE, validate=False)
    with pytest.raises(PortalValidationError) as exc:
        portal.dataset_get("da_abc123")
    assert exc.value.message == "Old style message"
    assert exc.value.error_code == "ODSException"


def test_unexpected_redirect_on_write_is_an_error(api, portal):
    api.add("POST", API + "/datasets/da_abc123/publish/", status=302,
            headers={"Location": "https://elsewhere.example.org/login?next=x"})
    with pytest.raises(PortalError) as exc:
        portal.dataset_publish("da_abc123")
    assert exc.value.status == 302
    assert "redirect" in exc.value.message
    assert "elsewhere" not in exc.value.message


def test_errors_survive_pickling(api, portal):
    api.expect("POST", "/datasets/", status=400, body=p.ERROR_VALIDATION)
    with pytest.raises(PortalValidationError) as exc:
        portal.dataset_create(dataset_id="taken", metadata=p.METADATA)
    clone = pickle.loads(pickle.dumps(exc.value))  # noqa: S301 - our own bytes
    assert type(clone) is PortalValidationError
    assert clone.detail == exc.value.detail
    assert str(clone) == str(exc.value)


def test_tls_error_is_unavailable_and_not_retried(api, portal, sleeps):
    api.add("GET", API + STATUS, body=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(PortalUnavailable) as exc:
        portal.dataset_status("da_abc123")
    assert "TLS" in exc.value.message
    assert len(api.calls) == 1 and sleeps == []


def test_broken_off_answer_is_retried(api, portal):
    api.add("GET", API + STATUS, body=requests.exceptions.ChunkedEncodingError("connection broken"))
    api.expect("GET", STATUS, body=p.STATUS_IDLE)
    assert portal.dataset_status("da_abc123").is_success
