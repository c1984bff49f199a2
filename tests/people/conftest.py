"""Fixtures for the people app: a `responses` mock of one portal, canned users/groups, no broker."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from portaladmin.portals.client import base as client_base
from portaladmin.portals.client import clear_client_cache

PORTAL = "https://data.example.org"
API = PORTAL + "/api/automation/v1.0"


def user(username: str, email: str | None = None, *, permissions=(), groups=(), active=True, **extra) -> dict:
    return {"username": username, "email": email or f"{username}@example.org", "first_name": username.title(),
            "last_name": "Doe", "display_name": username, "is_active": active, "account_type": "local",
            "permissions": list(permissions), "groups": [{"uid": g} for g in groups],
            "joined_at": "2026-01-02T10:00:00Z", "last_seen_at": "2026-11-01T10:00:00Z", "expires_at": None,
            "explore_limits": {}, **extra}


def group(uid: str, title: str | None = None, *, permissions=(), user_count=0) -> dict:
    return {"uid": uid, "title": title or uid.replace("_", " ").title(), "description": "", "user_count": user_count,
            "permissions": list(permissions), "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z"}


def paginated(results: list, total: int | None = None) -> dict:
    return {"total_count": len(results) if total is None else total, "next": None, "previous": None,
            "results": results}


def query_of(call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def body_of(call):
    raw = call.request.body
    return json.loads(raw.decode() if isinstance(raw, bytes) else raw)


@pytest.fixture(autouse=True)
def _fresh_clients(monkeypatch, settings):
    settings.PORTALS_ALLOW_PRIVATE_NETWORKS = True
    monkeypatch.setattr(client_base, "sleep", lambda s: None)
    clear_client_cache()
    yield
    clear_client_cache()


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def groups_on_portal(api):
    """The portal has two groups (GET /groups/ for validation and choices)."""
    api.get(API + "/groups/", json=paginated([group("analysts", "Data Analysts"), group("editors", "Editors")]))
    return api


@pytest.fixture
def no_enqueue(monkeypatch):
    """Record the job doorbells instead of talking to a broker."""
    sent: list[list[int]] = []
    from portaladmin.jobs import tasks

    monkeypatch.setattr(tasks, "enqueue_process", lambda item_ids: sent.append(list(item_ids)))
    return sent
