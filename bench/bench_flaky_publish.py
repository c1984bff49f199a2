"""Benchmark: 60 publishes against a portal answering 30 % 429 and 20 % 503 — publishes sent per second and status
reads per item, for this checkout and (in the same run) for a baseline git revision.

A real `manage.py runserver` serves the sandbox portal, a real `celery worker --concurrency 2` does the work, and
this process plays Celery beat with the production timings (poll tick every JOBS_POLL_INTERVAL = 2 s, sweeper
every 5 s). Each variant gets a fresh SQLite file (or --database-url) and a purged broker (Redis when --redis,
else the filesystem broker). The baseline runs this same script from a temporary `git worktree` of --baseline.

Prints, per variant: seconds until the last publish was accepted, publishes accepted per second, status reads
per item, all requests, 429s and 5xxs seen, items that ended failed (should be only the seeded error /
limit_reached datasets), and the ratio after/before.

Usage: .venv/bin/python bench/bench_flaky_publish.py [--redis redis://127.0.0.1:6379/3] [--baseline 67e8896]
       [--datasets 60] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, Stack, bench_user, django_for_stack, sandbox_connection, stack_urls  # noqa: E402

KEY = "bench-key-0123456789abcdef"
NAME = "bench-flaky"


def measure(datasets: int, tmp: str, redis_url: str, database_url: str = "") -> dict:
    django_for_stack(tmp, redis_url=redis_url, database_url=database_url)
    from portaladmin.jobs.models import Job
    from portaladmin.jobs.services import job_create
    from portaladmin.jobs.tasks import jobs_poll_tick_task, jobs_sweep_task
    from portaladmin.sandbox.models import SandboxDataset
    from portaladmin.sandbox.services import request_counts, seed_portal, set_faults

    seed_portal(NAME, datasets=datasets, users=1, groups=0, harvesters=0, pages=0, api_key=KEY, reset=True, seed=5,
                processing_seconds=(2.0, 6.0))
    with Stack(tmp, name="flaky") as stack:
        conn = sandbox_connection(NAME, stack.base_url, KEY)
        user = bench_user()
        uids = list(SandboxDataset.objects.filter(portal__name=NAME).values_list("uid", flat=True))
        time.sleep(3)  # the worker is up
        set_faults(NAME, throttle_rate=0.3, error_rate=0.2, retry_after=1, seed=11)
        t0 = time.monotonic()
        job = job_create(kind="dataset.publish", actor=user, targets={conn: uids})
        last_accept, accepted, tick = None, 0, 0
        while time.monotonic() - t0 < 900:
            job = Job.objects.get(pk=job.pk)
            now_accepted = request_counts(NAME, method="POST", path_contains="/publish/", status=200)
            if now_accepted > accepted:
                accepted, last_accept = now_accepted, time.monotonic() - t0
            if not job.is_active:
                break
            if tick % 2 == 0:  # the beat of production: poll tick every 2 s, sweeper every 5 s
                jobs_poll_tick_task.apply_async(expires=2.0)
            if tick % 5 == 0:
                jobs_sweep_task.apply_async(expires=5.0)
            tick += 1
            time.sleep(1.0)
        total = time.monotonic() - t0
        job = Job.objects.get(pk=job.pk)
        return {"datasets": datasets, "status": job.status, "seconds_total": total,
                "seconds_to_last_publish": last_accept or total, "publishes_accepted": accepted,
                "status_reads": request_counts(NAME, method="GET", path_contains="/status/"),
                "requests": request_counts(NAME), "429": request_counts(NAME, status=429),
                "5xx": sum(request_counts(NAME, status=s) for s in (500, 502, 503)),
                "failed": job.failed_count, "succeeded": job.succeeded_count,
                "gave_up": job.items.filter(message__startswith="Gave up").count()}


def _baseline(ref: str, args) -> list[dict]:
    tree = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), ref], cwd=ROOT, check=True,
                   capture_output=True)
    try:
        shutil.copy(__file__, tree / "bench" / Path(__file__).name)
        shutil.copy(Path(__file__).with_name("_common.py"), tree / "bench" / "_common.py")
        cmd = [sys.executable, str(tree / "bench" / Path(__file__).name), "--only-here", "--json",
               "--datasets", str(args.datasets), "--runs", str(args.runs)]
        if args.redis:
            cmd += ["--redis", args.redis]
        out = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, timeout=3600)
        if out.returncode != 0:
            raise SystemExit(f"baseline failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)


def _runs(args) -> list[dict]:
    results = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, __file__, "--one", tmp, "--datasets", str(args.datasets)]
            if args.redis:
                cmd += ["--redis", args.redis]
            if args.database_url and not args.only_here:  # the baseline's migrations differ: its own SQLite file
                cmd += ["--database-url", args.database_url]
            out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
            if out.returncode != 0:
                raise SystemExit(out.stderr[-3000:])
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


def _summary(label: str, runs: list[dict]) -> dict:
    med = {k: statistics.median(r[k] for r in runs) for k in ("seconds_to_last_publish", "status_reads", "requests",
                                                                "429", "5xx", "failed", "gave_up", "seconds_total")}
    n = runs[0]["datasets"]
    med["publishes_per_second"] = n / med["seconds_to_last_publish"]
    med["reads_per_item"] = med["status_reads"] / n
    print(f"{label:>9}: {n} publishes accepted in {med['seconds_to_last_publish']:.1f} s "
          f"({med['publishes_per_second']:.2f}/s), job ended after {med['seconds_total']:.1f} s; "
          f"status reads {med['status_reads']:.0f} ({med['reads_per_item']:.1f}/item); requests {med['requests']:.0f} "
          f"(429: {med['429']:.0f}, 5xx: {med['5xx']:.0f}); failed items {med['failed']:.0f} "
          f"(of which 'Gave up': {med['gave_up']:.0f}); runs {len(runs)}")
    return med


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=60)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--redis", default="", help="default: BENCH_REDIS_URL or REDIS_URL, else the filesystem broker")
    parser.add_argument("--database-url", default="", help="default: BENCH_DATABASE_URL or DATABASE_URL, else SQLite")
    parser.add_argument("--baseline", default="", help="git revision to compare with (e.g. 67e8896)")
    parser.add_argument("--only-here", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", default="")
    args = parser.parse_args()
    if not args.one:
        args.redis, args.database_url = stack_urls(args.redis, args.database_url)
    if args.one:
        print(json.dumps(measure(args.datasets, args.one, args.redis, args.database_url)))
        return 0
    here = _runs(args)
    if args.json:
        print(json.dumps(here))
        return 0
    print(f"== {args.datasets} publishes, portal answering 30 % 429 (Retry-After 1 s) and 20 % 5xx, "
          f"processing 2-6 s; broker {'Redis' if args.redis else 'filesystem'}")
    after = _summary("this", here)
    if args.baseline:
        before = _summary(args.baseline[:9], _baseline(args.baseline, args))
        print(f"    ratio: publishes/s {after['publishes_per_second'] / before['publishes_per_second']:.2f}x, "
              f"status reads per item {after['reads_per_item'] / max(before['reads_per_item'], 0.01):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
