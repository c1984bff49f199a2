"""Fixtures for the fleet pages: snapshot rows in bulk, harvester snapshots, jobs, a second connection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.fleet.models import HarvesterRefresh, HarvesterSnapshot
from portaladmin.jobs.models import Job, JobItem, JobStatus


@pytest.fixture
def other(make_connection):
    """A second connection; the cast has no role on it (only the superuser sees it)."""
    return make_connection("other", name="Other portal", base_url="https://other.example.org")


@pytest.fixture
def make_snapshots(db):
    def make(connection, n, *, prefix=None, start=0, **fields):
        prefix = prefix or connection.slug
        now = timezone.now()
        rows = []
        for i in range(start, start + n):
            dataset_id = f"{prefix}-{i:05d}"
            title = fields.get("title") or f"Dataset {i} of {connection.name}"
            rows.append(DatasetSnapshot(
                connection=connection, uid=f"da_{prefix}_{i}", dataset_id=dataset_id, title=title,
                search=f"{dataset_id} {title}".lower(), synced_at=now, updated_at=now - timedelta(minutes=i),
                **{k: v for k, v in fields.items() if k != "title"}))
        DatasetSnapshot.objects.bulk_create(rows, batch_size=1000)
        return rows

    return make


@pytest.fixture
def make_harvester(db):
    def make(connection, uid, *, status="idle", has_error=False, resource_errors=None, error_message="",
             started_minutes_ago=10, name=None):
        now = timezone.now()
        resource_errors = resource_errors or {}
        HarvesterRefresh.objects.update_or_create(connection=connection,
                                                  defaults={"ok_at": now, "attempted_at": now, "error": ""})
        return HarvesterSnapshot.objects.create(
            connection=connection, uid=uid, name=name or f"Harvester {uid}", type="ckan", status=status,
            has_error=has_error, resource_errors_count=len(resource_errors), resource_errors=resource_errors,
            error_message=error_message, last_started_at=now - timedelta(minutes=started_minutes_ago),
            last_success_at=None if has_error else now - timedelta(minutes=started_minutes_ago - 1),
            status_seen_at=now)

    return make


@pytest.fixture
def make_job(db):
    def make(connections, *, kind="dataset.publish", status=JobStatus.RUNNING, by=None, failed=0, total=1,
             deadline=None, finished_minutes_ago=None):
        now = timezone.now()
        job = Job.objects.create(kind=kind, title=f"{kind} job", status=status, started_by=by, total=total,
                                 failed_count=failed, connection=connections[0] if len(connections) == 1 else None,
                                 deadline=deadline or now + timedelta(hours=1),
                                 finished_at=(now - timedelta(minutes=finished_minutes_ago))
                                 if finished_minutes_ago is not None else None)
        job.connections.set(connections)
        for index in range(total):
            JobItem.objects.create(job=job, connection=connections[index % len(connections)],
                                   target=f"da_{index}", status="failed" if index < failed else "succeeded")
        return job

    return make


def figure(html: str, card: str, name: str) -> str:
    """The value of figure `name` inside the card of connection `card` (as the page shows it)."""
    import re

    start = html.index(f'id="card-{card}"')
    end = html.find("</article>", start)
    match = re.search(rf'data-figure="{name}"[^>]*><strong>([^<]*)</strong>', html[start:end])
    assert match, f"figure {name} missing on card {card}"
    return match.group(1)


# --- sandbox portals over live HTTP --------------------------------------------------------------
@pytest.fixture
def sandbox_clock(monkeypatch):
    """The sandbox's clock, frozen and advanced by hand (the live server runs in a thread of this process)."""
    import datetime as dt

    from portaladmin.sandbox import clock
    from tests.sandbox.conftest import FakeClock

    fake = FakeClock(dt.datetime.now(dt.UTC).replace(microsecond=0))
    monkeypatch.setattr(clock, "now", fake)
    return fake


@pytest.fixture
def live_portal(transactional_db, sandbox_clock, sandbox_connection):
    """live_portal("alpha", datasets=40, ...) → a Connection to a freshly seeded sandbox portal."""
    from portaladmin.portals.client import clear_client_cache

    def make(name, *, key=None, **seed):
        return sandbox_connection(name, name=f"Portal {name}", api_key=key or f"fleet-{name}-key-0123456789", **seed)

    clear_client_cache()
    yield make
    clear_client_cache()
