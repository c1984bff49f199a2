"""Jobs tell the truth with real processes: PostgreSQL, Redis, real `celery worker` processes (SIGKILLed) and the
sandbox portal over live HTTP with real-world quirks (a clock minutes off ours, whole-second `since`, latency with
jitter, the old state shown for a while after an order, an `error` shown once then `idle` unpublished, 429s and
503s). Every item's final state must equal the portal's truth, with exactly one applied write per item.

The bulk-invite crash (existing members stay failures) is tests/people/test_crash_worker.py; the lying
`total_count` is tests/sandbox/test_realistic_quirks.py.
"""

from __future__ import annotations

import time

import pytest

from portaladmin.jobs.models import ItemStatus, JobStatus
from portaladmin.jobs.services import job_cancel, job_create
from portaladmin.portals.models import Role
from tests.conftest import needs_postgres, needs_redis
from tests.jobs import test_reliability as _rel
from tests.jobs.test_reliability import _assert_true_final_states, _beat_until, _publishes, _uids

# The real-worker fixtures of test_reliability.py, shared (pytest finds fixtures by module attribute).
broker, sandbox, workers = _rel.broker, _rel.sandbox, _rel.workers

pytestmark = [needs_redis(), needs_postgres(), pytest.mark.redis, pytest.mark.postgres, pytest.mark.worker,
              pytest.mark.live, pytest.mark.django_db(transaction=True)]


def _truth(name: str) -> dict:
    from portaladmin.sandbox.models import SandboxDataset
    from portaladmin.sandbox.status import dataset_status

    return {d.uid: dataset_status(d) for d in SandboxDataset.objects.filter(portal__name=name)}


def test_worker_killed_after_an_applied_publish_that_errors_then_idles_unpublished_ends_failed(
        sandbox, workers, make_user):
    from portaladmin.sandbox.models import SandboxDataset
    from portaladmin.sandbox.services import set_faults

    conn = sandbox("applied", datasets=6, latency_ms=2500, clock_offset_seconds=-130, whole_second_since=True)
    SandboxDataset.objects.filter(portal__name="applied").update(is_published=False, fate="error_then_idle",
                                                                status="idle")
    operator = make_user("op", role=Role.OPERATOR, connection=conn)
    first = workers.start("first", concurrency=2)
    job = job_create(kind="dataset.publish", actor=operator, targets={conn: _uids("applied")})
    # kill the worker while publishes are in flight (sent, no answer yet): the portal still applies them
    _beat_until(job, timeout=60, condition=lambda j: j.items.filter(status=ItemStatus.RUNNING,
                                                                    action_sent=True).count() >= 2)
    time.sleep(0.5)
    workers.kill(first)
    in_flight = set(job.items.filter(action_sent=True, send_confirmed=False).values_list("target", flat=True))
    assert in_flight
    set_faults("applied", latency_ms=0, clock_offset_seconds=-130, whole_second_since=True)
    workers.start("second")
    job = _beat_until(job, timeout=120)
    truth = _truth("applied")
    for item in job.items.all():
        # the portal shows the dataset idle but NOT published: no item may say it succeeded
        assert truth[item.target]["status"] in ("idle", "error") and not truth[item.target]["is_published"]
        assert item.status == ItemStatus.FAILED, (item.target, item.status, item.message)
    assert job.status == JobStatus.FAILED
    assert _publishes("applied") == 6  # exactly one applied publish per dataset, the killed ones included


def test_stale_reads_latency_skew_and_whole_seconds_never_end_a_publish_early(sandbox, workers, make_user):
    from portaladmin.sandbox.models import SandboxDataset

    race, queue, fastest = 2.0, 0.5, 1.0
    conn = sandbox("stale", datasets=60, latency_ms=100, latency_jitter_ms=200, clock_offset_seconds=-240,
                   whole_second_since=True, publish_race_seconds=race)
    for uid in _uids("stale")[3::7]:
        SandboxDataset.objects.filter(portal__name="stale", uid=uid, fate="ok").update(fate="error_then_idle")
    operator = make_user("op", role=Role.OPERATOR, connection=conn)
    workers.start("w", concurrency=2)
    job = job_create(kind="dataset.publish", actor=operator, targets={conn: _uids("stale")})
    job = _beat_until(job, timeout=240)
    truth = _truth("stale")
    for item in job.items.all():
        done = truth[item.target]["status"] == "idle" and truth[item.target]["is_published"] is True
        assert item.status == (ItemStatus.SUCCEEDED if done else ItemStatus.FAILED), (item.target, item.message)
    succeeded = 0
    for item in job.items.all():
        if item.status == ItemStatus.SUCCEEDED:
            succeeded += 1
            # done only once the portal could have done it: after the stale window, the queue and the quickest
            # processing (the old code declared some done while the portal still showed the pre-order state)
            assert (item.finished_at - item.sent_at).total_seconds() >= race + queue + fastest - 0.3, item.target
            assert truth[item.target]["is_published"] is True
    assert succeeded >= 30
    assert _publishes("stale") == 60


def test_a_storm_of_429_and_503_spends_no_attempts_and_ends_in_true_states(sandbox, workers, make_user):
    conn = sandbox("storm", datasets=30, error_rate=0.2, throttle_rate=0.3, retry_after=1)
    operator = make_user("op", role=Role.OPERATOR, connection=conn)
    workers.env["JOBS_MAX_ATTEMPTS"] = "2"  # the old engine failed healthy items after two 503s
    workers.start("w", concurrency=2)
    job = job_create(kind="dataset.publish", actor=operator, targets={conn: _uids("storm")})
    job = _beat_until(job, timeout=300)
    _assert_true_final_states(job, "storm")
    assert not job.items.filter(message__startswith="Gave up").exists()
    assert _publishes("storm") == job.items.filter(action_sent=True, send_confirmed=True).count() == 30


def test_cancel_ends_every_item_within_a_tick_even_when_the_remote_state_never_changes(sandbox, workers, make_user):
    from portaladmin.sandbox.services import set_faults

    conn = sandbox("endless", datasets=8)
    set_faults("endless", processing_seconds_min=3600, processing_seconds_max=3600, deleting_seconds=3600,
               queue_seconds=0.5, publish_race_seconds=0)
    operator = make_user("op", role=Role.OPERATOR, connection=conn)
    workers.start("w", concurrency=2)
    uids = _uids("endless")
    publish = job_create(kind="dataset.publish", actor=operator, targets={conn: uids[:4]})
    unpublish = job_create(kind="dataset.unpublish", actor=operator, targets={conn: uids[4:]})  # cannot abort
    for job in (publish, unpublish):
        _beat_until(job, timeout=60, condition=lambda j: j.running_count == j.total and not j.items.filter(
            status__in=(ItemStatus.PENDING, ItemStatus.RUNNING)).exists() and j.items.filter(
            seen_busy=True).count() == j.total)
    started = time.monotonic()
    for job in (publish, unpublish):
        job_cancel(job=job, actor=operator)
    for job in (publish, unpublish):
        job = _beat_until(job, timeout=15)
        assert job.status == JobStatus.CANCELLED
        assert set(job.items.values_list("status", flat=True)) == {ItemStatus.CANCELLED}
    assert time.monotonic() - started < 15
    messages = set(unpublish.items.values_list("message", flat=True))
    assert messages == {"Cancelled while the portal was still processing it (deleting): the portal may finish it."}
    for message in publish.items.values_list("message", flat=True):
        assert "abort was sent" in message and "may still finish" in message


def test_workers_killed_at_random_during_a_bulk_publish_on_a_slow_rate_limiting_skewed_portal(
        sandbox, workers, make_user):
    """The issue's "done means": kill workers at random moments of a bulk publish against a slow, rate-limiting,
    clock-skewed portal with whole-second timestamps and a stale window; every row must tell the truth, and each
    dataset gets exactly one applied publish."""
    import random

    from portaladmin.sandbox.models import SandboxDataset

    conn = sandbox("chaos", datasets=40, latency_ms=150, latency_jitter_ms=150, clock_offset_seconds=-240,
                   whole_second_since=True, publish_race_seconds=1.5, error_rate=0.1, throttle_rate=0.2,
                   retry_after=1)
    for uid in _uids("chaos")[2::9]:
        SandboxDataset.objects.filter(portal__name="chaos", uid=uid, fate="ok").update(fate="error_then_idle")
    operator = make_user("op", role=Role.OPERATOR, connection=conn)
    rng = random.Random(2026)  # noqa: S311 - when to kill, reproducibly
    worker = workers.start("w0")
    job = job_create(kind="dataset.publish", actor=operator, targets={conn: _uids("chaos")})
    for n in range(1, 3):
        target = 8 * n + rng.randint(0, 6)
        _beat_until(job, timeout=120, condition=lambda j, t=target: j.items.filter(action_sent=True).count() >= t)
        time.sleep(rng.uniform(0.0, 0.6))
        workers.kill(worker)
        worker = workers.start(f"w{n}")
    job = _beat_until(job, timeout=300)
    truth = _truth("chaos")
    for item in job.items.all():
        done = truth[item.target]["status"] == "idle" and truth[item.target]["is_published"] is True
        assert item.status == (ItemStatus.SUCCEEDED if done else ItemStatus.FAILED), (item.target, item.message)
        if item.status == ItemStatus.FAILED and not done:
            assert item.message  # says why, in the portal's words or ours
    assert _publishes("chaos") == 40


def test_a_pool_child_killed_like_by_the_oom_killer_does_not_stall_the_job(sandbox, workers, make_user):
    """SIGKILL of ONE prefork child (what the OOM killer does), not the whole worker: with the Redis broker the
    worker's asynchronous pool replaces the child and the job ends in true states, one publish each."""
    import os
    import signal

    conn = sandbox("oom", datasets=20, latency_ms=400)
    operator = make_user("op", role=Role.OPERATOR, connection=conn)
    worker = workers.start("w", concurrency=2)
    job = job_create(kind="dataset.publish", actor=operator, targets={conn: _uids("oom")})
    _beat_until(job, timeout=60, condition=lambda j: j.items.filter(action_sent=True).count() >= 4)
    children: list[str] = []
    for _ in range(40):  # the pool's children, found through /proc (pgrep can miss them on a loaded machine)
        children = [d for d in os.listdir("/proc") if d.isdigit() and _ppid(d) == worker.pid]
        if children:
            break
        time.sleep(0.25)
    assert children, "no pool child found"
    os.kill(int(children[0]), signal.SIGKILL)
    job = _beat_until(job, timeout=180)
    _assert_true_final_states(job, "oom")
    assert _publishes("oom") == 20


def _ppid(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1
