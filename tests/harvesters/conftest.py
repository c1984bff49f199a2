"""Fixtures for harvester tests: a `responses` portal at the connection's API base, harvester payloads."""

from __future__ import annotations

import pytest
import responses
from django.core.cache import cache

from portaladmin.portals.client import clear_client_cache

API = "https://data.example.org/api/automation/v1.0"


def harvester_json(uid="ha_one", **overrides) -> dict:
    data = {
        "uid": uid, "type": "ckan", "name": "City CKAN", "status": "idle", "version": 1,
        "restrict_datasets_visibility": False, "delete_missing_datasets": False,
        "forced_metas": {"default": {"publisher": "City"}}, "url": "https://ckan.example.org/api/3",
        "api_key": None, "query": "tags:env", "download_resources": False, "metadata_only": False,
        "remote_datasets_count": 10, "harvested_datasets_count": 8, "published_datasets_count": 5,
        "attached_datasets_count": 8, "has_error": False, "resource_errors_count": 0,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z",
        "updated_by": {"username": "admin"}, "last_started_at": "2026-01-03T00:00:00Z",
        "last_success_at": "2026-01-03T00:10:00Z",
    }
    data.update(overrides)
    return data


def page(results) -> dict:
    return {"total_count": len(results), "next": None, "previous": None, "results": results}


@pytest.fixture(autouse=True)
def _fresh_clients():
    clear_client_cache()
    cache.clear()  # the attached-datasets walk is cached
    yield
    clear_client_cache()
    cache.clear()


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock

