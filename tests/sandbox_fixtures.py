"""Fixtures for tests that drive the sandbox portal over live HTTP (a pytest plugin, loaded by tests/conftest.py).

    sandbox_connection("acme", slug="demo", api_key=KEY, datasets=3, …) → a Connection to sandbox portal `acme`,
    freshly seeded (reset) and answering at live_server.url + "/sandbox/acme".

`sandbox_clock` replaces the sandbox's clock with a FakeClock (2026-03-01 12:00 UTC) so status machines move without
sleeping; `no_enqueue` records the job engine's doorbells instead of talking to a broker; `run_worker_and_poller`
does in the test what a worker and the beat-driven poller would do.
"""

import datetime as dt
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.sandbox.helpers import FakeClock


@pytest.fixture
def sandbox_clock(monkeypatch):
    from portaladmin.sandbox import clock

    fake = FakeClock(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(clock, "now", fake)
    return fake


@pytest.fixture
def sandbox_connection(live_server, make_connection):
    from portaladmin.sandbox.services import seed_portal

    def make(portal, *, slug=None, name=None, api_key=None, **seed):
        _, key = seed_portal(portal, api_key=api_key, reset=True, **seed)
        return make_connection(slug or portal, name=name, base_url=f"{live_server.url}/sandbox/{portal}",
                               api_key=key)

    return make


@pytest.fixture
def no_enqueue(monkeypatch):
    """Record the job engine's doorbells instead of talking to a broker."""
    from portaladmin.jobs import tasks

    sent: list[list[int]] = []
    monkeypatch.setattr(tasks, "enqueue_process", lambda item_ids: sent.append(list(item_ids)))
    return sent


def run_worker_and_poller(job, clock, *, steps):
    """What a worker and the beat-driven poller would do: send the items, then tick until the job is done."""
    from portaladmin.jobs import engine
    from portaladmin.jobs.models import JobItem

    engine.items_process(list(job.items.values_list("id", flat=True)))
    for _ in range(steps):
        job.refresh_from_db()
        if not job.is_active:
            break
        clock.advance(1.5)
        JobItem.objects.filter(job=job).update(next_poll_at=timezone.now() - timedelta(seconds=1))
        for connection_id, ids in engine.poll_tick().items():
            engine.poll_batch(connection_id=connection_id, item_ids=ids)
    job.refresh_from_db()
    return job
