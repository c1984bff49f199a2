"""Benchmark: the publishing monitor (batched poller with backoff) against naive polling every 3 s.

Part 1 - 200 concurrent publishes on a sandbox portal whose processing times are spread over 1-10 minutes.
  The real engine (job_create, items_process, poll_tick, poll_batch) drives the real sandbox status machine
  in this process, through Django's test client (no sockets), on a virtual clock: 10 minutes of portal time
  take seconds, and every figure is exact. Naive polling is computed on the SAME datasets' timelines.
  Prints: status requests and detection lag p50/p95 after the portal finished, with the goals of issue 9
  (requests <= 1/4 of naive, p95 <= backoff cap x 1.2). First publishes only (no learned durations, no list
  hints, nobody watching): since issue 23 the poller reads within 10 % of the processing time, so it spends more
  requests here for a shorter lag; bench_detection_lag.py measures issue 23's goals (watched, learned, scale).
Part 2 - memory: a real `celery worker --concurrency 2` holding 1,000 monitored publishes on a sandbox portal
  served over real HTTP by `manage.py runserver` (PostgreSQL and Redis when DATABASE_URL/REDIS_URL are set, as
  under `make bench`; else a fresh SQLite file and the slow filesystem broker); this process plays beat. Prints
  the worker's RSS (main + children) after warm-up and after a few thousand status reads.

Usage: .venv/bin/python bench/bench_publish_monitor.py [--datasets 200] [--held 1000] [--hold-seconds 90]
       [--redis redis://127.0.0.1:6379/3] [--skip-memory]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Stack, bench_user, django_for_stack, sandbox_connection, stack_urls  # noqa: E402

KEY = "bench-key-0123456789abcdef"
NAIVE_INTERVAL = 3.0


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


class InProcessSandboxClient:
    """The two client methods the monitor uses, answered by the sandbox through Django's test client."""

    def __init__(self, name: str):
        from django.test import Client

        self.http = Client(HTTP_AUTHORIZATION=f"apikey {KEY}")
        self.base = f"/sandbox/{name}/api/automation/v1.0"

    def dataset_publish(self, uid: str) -> None:
        response = self.http.post(f"{self.base}/datasets/{uid}/publish/")
        assert response.status_code == 200, response.content

    def dataset_status(self, uid: str):
        from portaladmin.portals.client.schemas import DatasetStatus

        response = self.http.get(f"{self.base}/datasets/{uid}/status/")
        assert response.status_code == 200, response.content
        return DatasetStatus.from_dict(response.json())


def part1(n: int) -> dict:
    from django.conf import settings
    from django.db.models import Count
    from django.utils import timezone

    from portaladmin.jobs import engine, remote, tasks
    from portaladmin.jobs.models import ItemStatus
    from portaladmin.jobs.services import job_create
    from portaladmin.sandbox import clock as sandbox_clock
    from portaladmin.sandbox.models import SandboxDataset
    from portaladmin.sandbox.services import request_counts, reset_request_log, seed_portal

    virtual = [datetime(2026, 6, 1, 12, 0, tzinfo=UTC)]
    timezone.now = lambda: virtual[0]  # the engine, the models and the sandbox all read this clock
    sandbox_clock.now = lambda: virtual[0]
    tasks.enqueue_process = lambda item_ids: None  # this part drives the engine directly
    name = "bench-monitor"
    seed_portal(name, datasets=n, users=1, groups=0, harvesters=0, pages=0, api_key=KEY, reset=True, seed=7,
                processing_seconds=(60.0, 600.0))
    conn = sandbox_connection(name, "http://testserver", KEY)
    user = bench_user()
    client = InProcessSandboxClient(name)
    remote.get_client = lambda connection: client

    uids = list(SandboxDataset.objects.filter(portal__name=name).order_by("id").values_list("uid", flat=True))
    job = job_create(kind="dataset.publish", actor=user, targets={conn: uids})
    for item_id in job.items.values_list("id", flat=True):
        engine.items_process([item_id])
    finished_at = {}
    for ds in SandboxDataset.objects.filter(portal__name=name):  # the portal's own timeline of each publish
        finished_at[ds.uid] = ds.op_at + timedelta(seconds=sum(seconds for _state, seconds in ds.op_phases))
    started = virtual[0]
    reset_request_log(name)

    tick = timedelta(seconds=settings.JOBS_POLL_INTERVAL)
    while job.items.filter(status=ItemStatus.WAITING).exists():
        virtual[0] += tick
        for conn_id, ids in engine.poll_tick().items():
            engine.poll_batch(connection_id=conn_id, item_ids=ids)
        if virtual[0] - started > timedelta(hours=2):
            raise RuntimeError("the monitor did not finish")
    ours_requests = request_counts(name, method="GET", path_contains="/status/")
    ours_lag = [(item.finished_at - finished_at[item.target]).total_seconds()
                for item in job.items.all()]
    outcomes = dict(job.items.values_list("status").annotate(n=Count("id")))

    # Naive: GET the status every 3 s from the publish until it reads a final state (same timelines).
    naive_requests, naive_lag = 0, []
    for end in finished_at.values():
        duration = (end - started).total_seconds()
        polls = math.ceil(duration / NAIVE_INTERVAL) if duration > 0 else 1
        naive_requests += polls
        naive_lag.append(polls * NAIVE_INTERVAL - duration)
    durations = [(end - started).total_seconds() for end in finished_at.values()]
    return {"n": n, "ours_requests": ours_requests, "naive_requests": naive_requests, "ours_lag": ours_lag,
            "naive_lag": naive_lag, "cap": float(settings.JOBS_POLL_BACKOFF_CAP), "outcomes": outcomes,
            "durations": (min(durations), max(durations)), "all_done": ItemStatus.WAITING not in outcomes}


def _rss_tree_kb(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                todo.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def part2(held: int, hold_seconds: float, tmp: str) -> dict:
    """A real worker (concurrency 2) holding `held` monitored publishes; RSS before/after."""
    from portaladmin.jobs.models import ItemStatus
    from portaladmin.jobs.services import job_create
    from portaladmin.jobs.tasks import jobs_poll_tick_task, jobs_sweep_task
    from portaladmin.sandbox.models import SandboxDataset
    from portaladmin.sandbox.services import request_counts, seed_portal

    name = "bench-hold"
    # processing of 1-2 hours: every publish stays monitored for the whole measurement
    seed_portal(name, datasets=held, users=1, groups=0, harvesters=0, pages=0, api_key=KEY, reset=True, seed=3,
                processing_seconds=(3600.0, 7200.0))
    fast = {"JOBS_POLL_BACKOFF_CAP": "5", "JOBS_POLL_FIRST_DELAY": "0.5", "JOBS_POLL_INTERVAL": "0.5"}
    with Stack(tmp, name="bench", env=fast, worker_settings="bench_publish_settings") as stack:
        conn = sandbox_connection(name, stack.base_url, KEY)
        uids = list(SandboxDataset.objects.filter(portal__name=name).values_list("uid", flat=True))
        job = job_create(kind="dataset.publish", actor=bench_user(), targets={conn: uids})

        def beat_for(seconds: float) -> None:
            end, n = time.monotonic() + seconds, 0
            while time.monotonic() < end:
                jobs_poll_tick_task.apply_async(expires=1.0)  # like the beat entry: a late tick is dropped
                if n % 10 == 0:
                    jobs_sweep_task.apply_async(expires=5.0)
                n += 1
                time.sleep(0.5)

        t0 = time.monotonic()
        while job.items.filter(status=ItemStatus.WAITING).count() < held and time.monotonic() - t0 < 600:
            beat_for(2)
        waiting = job.items.filter(status=ItemStatus.WAITING).count()
        beat_for(15)  # warm-up: the first status reads
        rss_before = _rss_tree_kb(stack.worker.pid)
        reads_before = request_counts(name, method="GET", path_contains="/status/")
        samples = []
        for _ in range(6):
            beat_for(hold_seconds / 6)
            samples.append(_rss_tree_kb(stack.worker.pid))
        rss_after = _rss_tree_kb(stack.worker.pid)
        reads = request_counts(name, method="GET", path_contains="/status/") - reads_before
        still = job.items.filter(status=ItemStatus.WAITING).count()
        return {"held": waiting, "still_waiting": still, "rss_before_kb": rss_before, "rss_after_kb": rss_after,
                "samples_kb": samples, "reads": reads, "seconds": hold_seconds, "ramp_seconds": time.monotonic() - t0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=200)
    parser.add_argument("--held", type=int, default=1000)
    parser.add_argument("--hold-seconds", type=float, default=90.0)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--redis", default="",
                        help="broker for part 2 (e.g. redis://127.0.0.1:6379/3); default: BENCH_REDIS_URL or "
                             "REDIS_URL, else the filesystem broker")
    parser.add_argument("--database-url", default="", help="default: BENCH_DATABASE_URL or DATABASE_URL, else SQLite")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-monitor-")
    redis_url, database_url = stack_urls(args.redis, args.database_url)
    django_for_stack(tmp, redis_url=redis_url, database_url=database_url)

    t = time.monotonic()
    r = part1(args.datasets)
    elapsed = time.monotonic() - t
    ratio = r["ours_requests"] / r["naive_requests"]
    p95_goal = r["cap"] * 1.2
    print(f"\nPart 1 - {r['n']} concurrent publishes, portal processing {r['durations'][0] / 60:.1f}-"
          f"{r['durations'][1] / 60:.1f} min (virtual clock; {elapsed:.0f} s of real time)")
    print(f"  outcomes: {r['outcomes']}")
    print(f"  {'':28}{'monitor':>12}{'naive 3 s':>12}   goal")
    print(f"  {'status requests':28}{r['ours_requests']:>12}{r['naive_requests']:>12}   "
          f"ours <= 1/4 naive: {ratio:.3f} {'OK' if ratio <= 0.25 else 'MISSED'}")
    print(f"  {'requests per publish':28}{r['ours_requests'] / r['n']:>12.1f}{r['naive_requests'] / r['n']:>12.1f}")
    for label, q in (("detection lag p50 (s)", 0.5), ("detection lag p95 (s)", 0.95), ("detection lag max (s)", 1.0)):
        ours, naive = _pct(r["ours_lag"], q), _pct(r["naive_lag"], q)
        goal = f"p95 <= cap {r['cap']:.0f} s x 1.2 = {p95_goal:.0f} s: {'OK' if ours <= p95_goal else 'MISSED'}" \
            if q == 0.95 else ""
        print(f"  {label:28}{ours:>12.1f}{naive:>12.1f}   {goal}")
    print(f"  mean lag (s): monitor {statistics.mean(r['ours_lag']):.1f}, naive {statistics.mean(r['naive_lag']):.1f}")

    if not args.skip_memory:
        m = part2(args.held, args.hold_seconds, tmp)
        growth = (m["rss_after_kb"] - m["rss_before_kb"]) / max(m["rss_before_kb"], 1) * 100
        print(f"\nPart 2 - a real worker (concurrency 2) holding {m['held']} monitored publishes "
              f"({m['still_waiting']} still waiting at the end; ramp {m['ramp_seconds']:.0f} s)")
        print(f"  status reads during the measurement: {m['reads']} in {m['seconds']:.0f} s")
        print(f"  worker RSS (main + children): before {m['rss_before_kb'] / 1024:.1f} MiB, after "
              f"{m['rss_after_kb'] / 1024:.1f} MiB ({growth:+.1f}%)")
        print("  samples (MiB): " + ", ".join(f"{s / 1024:.1f}" for s in m["samples_kb"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
