"""Reliability with real Redis, real worker processes and the sandbox portal over live HTTP.

Runs when REDIS_URL is set and DATABASE_URL is PostgreSQL (worker processes must share the test database;
pytest-django's SQLite test database lives in memory). The test process plays Celery beat: it rings the
poller and the sweeper every half second, and the workers do all the work.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection as db
from django.db.models import Count

from portaladmin.jobs.models import ItemStatus, Job, JobStatus
from portaladmin.jobs.services import job_create
from portaladmin.portals.models import Role
from tests.conftest import needs_postgres, needs_redis

pytestmark = [needs_redis(), needs_postgres(), pytest.mark.redis, pytest.mark.postgres, pytest.mark.worker,
              pytest.mark.live, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
FAST = {"JOBS_LEASE_SECONDS": "5", "JOBS_ENQUEUE_GRACE": "8", "JOBS_POLL_INTERVAL": "0.5",
        "JOBS_POLL_FIRST_DELAY": "0.5", "JOBS_POLL_BACKOFF_CAP": "2", "JOBS_MAX_ATTEMPTS": "5"}


def _db_url() -> str:
    s = db.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Workers:
    """Real `celery worker` processes (each in its own process group, so SIGKILL takes its children too)."""

    def __init__(self, tmp_path, **env):
        self.procs: list[subprocess.Popen] = []
        self.tmp_path = tmp_path
        self.env = {**os.environ, **FAST, **env, "DJANGO_SETTINGS_MODULE": "tests.jobs.worker_settings",
                    "DATABASE_URL": _db_url(), "CELERY_BROKER_URL": os.environ["REDIS_URL"],
                    "PYTHONUNBUFFERED": "1"}

    def start(self, name: str, concurrency: int = 2) -> subprocess.Popen:
        log = open(self.tmp_path / f"worker-{name}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portaladmin", "worker", "-Q", "celery,bulk", "-c",
             str(concurrency), "-n", f"{name}@%h", "--loglevel=INFO", "--without-gossip", "--without-mingle",
             "--without-heartbeat"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture
def broker():
    from portaladmin.celery import app

    with app.connection_for_write() as conn:
        for queue in ("celery", "bulk"):
            try:
                conn.default_channel.queue_purge(queue)
            except Exception:  # noqa: BLE001, S110 - a queue that does not exist yet
                pass
    return app


@pytest.fixture
def workers(tmp_path, broker):
    pool = Workers(tmp_path)
    yield pool
    pool.stop()


@pytest.fixture
def sandbox(live_server, make_connection):
    from portaladmin.sandbox.services import seed_portal

    def make(name: str, *, datasets: int, processing=(1.0, 3.0), **faults):
        _, key = seed_portal(name, datasets=datasets, users=1, groups=0, harvesters=0, pages=0,
                             api_key=f"key-{name}-0123456789", reset=True, seed=42,
                             processing_seconds=processing, queue_seconds=0.5, **faults)
        conn = make_connection(name, base_url=live_server.url + f"/sandbox/{name}", api_key=key)
        return conn

    return make


def _uids(name: str) -> list[str]:
    from portaladmin.sandbox.models import SandboxDataset

    return list(SandboxDataset.objects.filter(portal__name=name).order_by("id").values_list("uid", flat=True))


def _beat_until(job: Job, *, timeout: float, condition=None) -> Job:
    from portaladmin.jobs.tasks import jobs_poll_tick_task, jobs_sweep_task

    end = time.monotonic() + timeout
    tick = 0
    while time.monotonic() < end:
        job.refresh_from_db()
        if (condition or (lambda j: not j.is_active))(job):
            return job
        jobs_poll_tick_task.delay()
        if tick % 2 == 0:
            jobs_sweep_task.delay()
        tick += 1
        time.sleep(0.5)
    job.refresh_from_db()
    counts = dict(job.items.values_list("status").annotate(n=Count("id")))
    stuck = list(job.items.exclude(status__in=("succeeded", "failed", "cancelled")).values_list(
        "target", "status", "attempts", "action_sent", "enqueued_at", "next_poll_at", "lease_until", "message")[:5])
    raise AssertionError(f"job {job.pk} still {job.status} after {timeout}s: {counts}; not ended: {stuck}")


def _publishes(name: str) -> int:
    from portaladmin.sandbox.services import request_counts

    return request_counts(name, method="POST", path_contains="/publish/", status=200)


def _assert_true_final_states(job: Job, name: str) -> None:
    """Every item ended, and its status agrees with what the sandbox portal says about the dataset now."""
    from portaladmin.sandbox.models import SandboxDataset
    from portaladmin.sandbox.status import dataset_status

    remote = {d.uid: dataset_status(d) for d in SandboxDataset.objects.filter(portal__name=name)}
    for item in job.items.all():
        truth = remote[item.target]
        assert item.status in (ItemStatus.SUCCEEDED, ItemStatus.FAILED), (item.target, item.status)
        if item.status == ItemStatus.SUCCEEDED:
            assert truth["status"] == "idle" and truth["is_published"], (item.target, truth)
        elif item.remote_state in ("error", "limit_reached"):
            assert truth["status"] == item.remote_state, (item.target, truth, item.message)
        else:  # gave up: it must say so
            assert "Gave up" in item.message, (item.target, item.message)


def test_sigkill_mid_bulk_publish_completes_with_one_publish_per_dataset(sandbox, workers, make_user):
    # Processing long enough that the check after the kill can always tell whether the publish arrived (the
    # final state's `since` beyond the send plus the margins of truth.sent_position, on a loaded machine too).
    conn = sandbox("kill", datasets=50, processing=(4.0, 6.0))
    operator = make_user("op", role=Role.OPERATOR, connection=conn)
    first = workers.start("first")
    uids = _uids("kill")
    job = job_create(kind="dataset.publish", actor=operator, targets={conn: uids})
    # let the first worker get part of the way, then kill it and its children without warning
    _beat_until(job, timeout=60, condition=lambda j: j.running_count + j.succeeded_count + j.failed_count >= 10)
    workers.kill(first)
    killed_at = job.items.exclude(status=ItemStatus.PENDING).count()
    assert killed_at < 50
    workers.start("second")
    job = _beat_until(job, timeout=180)
    assert job.status in (JobStatus.SUCCEEDED, JobStatus.PARTIALLY_FAILED)
    assert job.items.filter(status__in=(ItemStatus.PENDING, ItemStatus.RUNNING, ItemStatus.WAITING)).count() == 0
    # every dataset ended in its publish fate (so each got a publish/), and 50 reached the portal in all:
    # exactly one publish/ per dataset
    _assert_true_final_states(job, "kill")
    assert job.succeeded_count + job.failed_count == 50
    assert _publishes("kill") == 50


def test_same_task_delivered_twice_at_once_publishes_once(sandbox, workers, make_user):
    from portaladmin.jobs.tasks import enqueue_process

    conn = sandbox("twice", datasets=1, latency_ms=300)
    operator = make_user("op", role=Role.OPERATOR, connection=conn)
    workers.start("w", concurrency=4)
    job = job_create(kind="dataset.publish", actor=operator, targets={conn: _uids("twice")})
    item = job.items.get()
    for _ in range(3):
        enqueue_process([item.pk])
    job = _beat_until(job, timeout=60)
    assert job.status == JobStatus.SUCCEEDED
    assert _publishes("twice") == 1
    item.refresh_from_db()
    assert item.attempts == 1


def test_flaky_portal_bulk_publish_of_100_ends_in_true_states(sandbox, workers, make_user):
    conn = sandbox("flaky", datasets=100, error_rate=0.2, throttle_rate=0.1, retry_after=1)
    operator = make_user("op", role=Role.OPERATOR, connection=conn)
    workers.env["JOBS_MAX_ATTEMPTS"] = "8"
    workers.start("w", concurrency=2)
    job = job_create(kind="dataset.publish", actor=operator, targets={conn: _uids("flaky")})
    job = _beat_until(job, timeout=300)
    _assert_true_final_states(job, "flaky")
    from portaladmin.sandbox.services import request_counts

    assert request_counts("flaky", status=429) > 0 and request_counts("flaky", status=500) + request_counts(
        "flaky", status=502) + request_counts("flaky", status=503) > 0
    # the 5xx on publish/ had no side effect, and a re-send happened only after checking: one each
    assert _publishes("flaky") == job.items.filter(action_sent=True, send_confirmed=True).count()
    assert job.status in (JobStatus.SUCCEEDED, JobStatus.PARTIALLY_FAILED)


def test_item_whose_task_always_dies_fails_after_bounded_attempts(sandbox, workers, make_user):
    good = sandbox("steady", datasets=3)
    # every request to this portal outlives the worker's hard time limit: the child is killed each time
    slow = sandbox("hang", datasets=1, latency_ms=6000)
    slow.read_timeout = 30
    slow.save()
    operator = make_user("op", role=Role.OPERATOR, connection=good)
    from portaladmin.portals.models import Membership

    Membership.objects.create(user=operator, connection=slow, role=Role.OPERATOR)
    workers.env.update({"CELERY_TASK_TIME_LIMIT": "2", "CELERY_TASK_SOFT_TIME_LIMIT": "1",
                        "JOBS_MAX_ATTEMPTS": "3", "JOBS_LEASE_SECONDS": "3", "JOBS_ENQUEUE_GRACE": "4"})
    workers.start("w", concurrency=2)
    job = job_create(kind="dataset.publish", actor=operator, targets={good: _uids("steady"), slow: _uids("hang")})
    job = _beat_until(job, timeout=150)
    assert job.status == JobStatus.PARTIALLY_FAILED
    dead = job.items.get(connection=slow)
    assert dead.status == ItemStatus.FAILED and dead.attempts == 3 and "Gave up after 3 attempts" in dead.message
    assert job.items.filter(connection=good, status=ItemStatus.SUCCEEDED).count() == 3
