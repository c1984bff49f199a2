"""Fixtures for client tests: a PortalClient on a fake portal, and a `responses` mock whose every
canned answer and every recorded request is checked against the OpenAPI spec (tests/oracle.py)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from portaladmin.portals.client import PortalClient, base
from tests.conftest import CANARY_KEY
from tests.oracle import spec_available, validate_request, validate_response

PORTAL = "https://data.example.org"
API = PORTAL + "/api/automation/v1.0"


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch):
    """Retries never really wait in unit tests; `sleeps` records the requested durations."""
    slept: list[float] = []
    monkeypatch.setattr(base, "sleep", slept.append)
    base.clear_guard_cache()
    return slept


@pytest.fixture
def sleeps(_no_sleep):
    return _no_sleep


@pytest.fixture
def portal(settings):
    settings.PORTALS_ALLOW_PRIVATE_NETWORKS = True
    client = PortalClient(base_url=PORTAL, api_key=CANARY_KEY, timeout=(2.0, 5.0))
    yield client
    client.close()


def split_call(call) -> tuple[str, str, dict[str, list[str]], object, str]:
    """(METHOD, path after the API base, query, JSON body or None, content type) of a recorded call."""
    request = call.request
    parts = urlsplit(request.url)
    assert parts.path.startswith("/api/automation/v1.0/"), parts.path
    path = parts.path[len("/api/automation/v1.0"):]
    query = parse_qs(parts.query, keep_blank_values=True)
    content_type = request.headers.get("Content-Type", "") or ""
    body = None
    if request.body is not None and content_type.startswith("application/json"):
        raw = request.body.decode() if isinstance(request.body, bytes) else request.body
        body = json.loads(raw)
    return request.method, path, query, body, content_type


class SpecMock(responses.RequestsMock):
    """RequestsMock + `expect()` that validates canned bodies against the spec, and `check_calls()`."""

    def expect(self, method: str, path: str, *, status: int = 200, body=None, headers: dict | None = None,
               raw: str | bytes | None = None, validate: bool = True, content_type: str = "application/json"):
        if validate and raw is None and spec_available():
            validate_response(method, path, status, body)
        kwargs = {"status": status, "headers": headers or {}}
        if raw is not None:
            kwargs["body"] = raw
            kwargs["content_type"] = content_type
        elif body is not None:
            kwargs["json"] = body
        url = API + path
        return self.add(method, url, **kwargs)

    def check_calls(self) -> None:
        if not spec_available():
            return
        for call in self.calls:
            method, path, query, body, content_type = split_call(call)
            ct = content_type.split(";")[0] if content_type else None
            validate_request(method, path, query=query, json_body=body, content_type=ct)


@pytest.fixture
def api():
    mock = SpecMock(assert_all_requests_are_fired=True)
    with mock:
        yield mock
        mock.check_calls()


# ------------------------------------------------------------------------------------ a real local HTTP server


class LocalPortal:
    """A tiny HTTP/1.1 keep-alive server in a thread; counts accepted TCP connections and records requests."""

    def __init__(self):
        import http.server
        import threading

        owner = self
        self.connections = 0
        self.requests: list[dict] = []
        self.routes: dict[tuple[str, str], tuple[int, dict, bytes]] = {}

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = -1  # buffered: headers and body leave in one segment (no delayed-ACK stalls)
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                owner.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                       "body": body})
                status, headers, payload = owner.routes.get((self.command, path),
                                                            (404, {"Content-Type": "application/json"},
                                                             b'{"error_code": "not_found", "message": "Not found."}'))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                conn = super().get_request()
                owner.connections += 1
                return conn

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.api = self.url + "/api/automation/v1.0"

    def route(self, method: str, path: str, body=None, *, status: int = 200, raw: bytes | None = None,
              headers: dict | None = None):
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        hdrs = {"Content-Type": "application/json"} if raw is None else {}
        hdrs.update(headers or {})
        self.routes[(method, "/api/automation/v1.0" + path)] = (status, hdrs, payload)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def local_portal():
    server = LocalPortal()
    yield server
    server.close()
