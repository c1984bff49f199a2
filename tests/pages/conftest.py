"""Fixtures for pages tests: a `responses` mock of the connection's portal whose canned answers and recorded
requests are checked against the OpenAPI spec (tests/oracle.py), plus sample payloads."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from portaladmin.portals.client import base, clear_client_cache
from tests.oracle import spec_available, validate_request, validate_response

PORTAL = "https://data.example.org"
API = PORTAL + "/api/automation/v1.0"


def studio_page(uid="sp_abc123", slug="welcome", *, public=False, published=False, title="Welcome"):
    versions = [{"version_name": "draft", "title": title, "description": "Hello",
                 "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z"}]
    if published:
        versions.append({**versions[0], "version_name": "published"})
    return {"uid": uid, "slug": slug, "public": public, "contents": versions,
            "first_published_at": "2026-01-03T00:00:00Z" if published else None,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z",
            "created_by": {"username": "louise.data"}}


def code_page(slug="hello_world", *, archived=False, restricted=False, tags=("news",), title="Hello world"):
    return {"slug": slug, "title": {"en": title, "fr": "Bonjour"}, "description": "A page saying hello",
            "content": {"html": {"en": "<p>Hello</p>", "fr": "<p>Bonjour</p>"}, "css": {"en": "p{}", "fr": ""}},
            "template": "custom.html", "tags": list(tags), "has_subdomain_copies": False,
            "is_pushed_by_parent": False, "is_restricted": restricted, "is_archived": archived,
            "created_by": {"username": "louise.data"}, "updated_by": {"username": "louise.data"},
            "updated_at": "2026-01-02T00:00:00Z", "created_at": "2026-01-01T00:00:00Z"}


def paginated(results):
    return {"total_count": len(results), "next": None, "previous": None, "results": results}


def _strip_nulls(body):
    # The spec types dates as non-null strings: the canned answers omit None rather than send null.
    if isinstance(body, dict):
        return {k: _strip_nulls(v) for k, v in body.items() if v is not None}
    if isinstance(body, list):
        return [_strip_nulls(v) for v in body]
    return body


class SpecMock(responses.RequestsMock):
    """RequestsMock + `expect()` that validates canned bodies against the spec, and `check_calls()`."""

    def expect(self, method: str, path: str, *, status: int = 200, body=None, validate: bool = True, **kwargs):
        body = _strip_nulls(body)
        if validate and spec_available():
            validate_response(method, path.split("?")[0], status, body)
        if body is not None:
            kwargs["json"] = body
        return self.add(method, API + path, status=status, **kwargs)

    def json_bodies(self, method: str) -> list:
        return [json.loads(c.request.body) for c in self.calls if c.request.method == method and c.request.body]

    def check_calls(self) -> None:
        if not spec_available():
            return
        for call in self.calls:
            request = call.request
            parts = urlsplit(request.url)
            path = parts.path[len("/api/automation/v1.0"):]
            ctype = (request.headers.get("Content-Type") or "").split(";")[0] or None
            body = json.loads(request.body) if request.body and ctype == "application/json" else None
            validate_request(request.method, path, query=parse_qs(parts.query, keep_blank_values=True),
                             json_body=body, content_type=ctype)


@pytest.fixture(autouse=True)
def _fresh_clients(monkeypatch):
    monkeypatch.setattr(base, "sleep", lambda seconds: None)
    base.clear_guard_cache()
    clear_client_cache()
    yield
    clear_client_cache()


@pytest.fixture
def api():
    mock = SpecMock(assert_all_requests_are_fired=True)
    with mock:
        yield mock
        mock.check_calls()


@pytest.fixture
def loose_api():
    """For view tests that do not care how many reads a page makes."""
    mock = SpecMock(assert_all_requests_are_fired=False)
    with mock:
        yield mock
        mock.check_calls()
