"""Fixtures of the datasets tests: a responses mock on the demo connection, dataset JSON, snapshot rows."""

from __future__ import annotations

import pytest
import responses
from django.utils import timezone

from portaladmin.datasets.models import CatalogueSync, DatasetSnapshot
from portaladmin.portals.client import clear_client_cache

API = "https://data.example.org/api/automation/v1.0"


def dataset_json(uid="da_1", dataset_id="trees", *, title="Trees", published=True, restricted=False, **extra):
    body = {"uid": uid, "dataset_id": dataset_id, "is_published": published, "is_restricted": restricted,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-02-01T00:00:00Z",
            "metadata": {"default": {"title": {"value": title}, "language": {"value": "en"},
                                     "modified": {"value": "2026-02-01T00:00:00Z"},
                                     "keyword": {"value": ["nature", "city"]},
                                     "description": {"value": "<p>All the <b>trees</b> of the city.</p>"},
                                     "publisher": {"value": "City"}, "license": {"value": "ODbL"}}},
            "default_security": {"is_data_visible": True, "visible_fields": [], "filter_query": "",
                                 "api_calls_quota": None}}
    body.update(extra)
    return body


def status_json(status="idle", *, published=True, message=None, records_errors=None, params=None):
    return {"status": status, "previous": None, "next": None, "since": "2026-02-01T10:00:00Z",
            "is_published": published, "message": message, "records_errors": records_errors or [],
            "params": params or {}}


def page_json(results, total=None, next_url=None):
    return {"total_count": len(results) if total is None else total, "next": next_url, "previous": None,
            "results": results}


@pytest.fixture(autouse=True)
def _fresh_clients():
    clear_client_cache()
    yield
    clear_client_cache()


@pytest.fixture
def api():
    """Every remote call must be registered; an unexpected one fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def make_snapshot(connection):
    def make(uid="da_1", dataset_id="trees", *, conn=None, **fields):
        values = {"title": dataset_id.title(), "status": "idle", "is_published": True,
                  "search": f"{dataset_id} {fields.get('title', dataset_id.title())}".lower()}
        values.update(fields)
        return DatasetSnapshot.objects.create(connection=conn or connection, uid=uid, dataset_id=dataset_id,
                                              **values)

    return make


@pytest.fixture
def synced(connection):
    """A finished sync so the list says "synced … ago"."""
    now = timezone.now()
    return CatalogueSync.objects.create(connection=connection, started_at=now, finished_at=now, count=0)
