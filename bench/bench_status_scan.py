"""Benchmark: how long and how many requests until every dataset's status is known (the status scan).

A sandbox portal with 3,000 datasets (seeded: every 17th in error, every 23rd in limit_reached), a catalogue sync,
then the real poll tick (`engine.poll_tick`, whose `poll_tick_done` signal makes the scan reserve what the jobs
leave) and the real scan batches, tick after tick, on a virtual clock (a 2 s tick takes no wall time). The portal is
the real sandbox answering through Django's test client (no sockets): every figure comes from its request log.

Scenario A: the scan alone, default budgets (JOBS_PORTAL_REQUEST_BUDGET 20, STATUS_SCAN_BUDGET 8, tick 2 s).
Scenario B: the same while a bulk publish of 300 datasets runs on the same portal: the job's polls per tick are
  compared with the same publish without a scan (they must be equal: the job keeps its budget).

Usage: .venv/bin/python bench/bench_status_scan.py [--datasets 3000] [--publish 300]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from _common import django_on_fresh_database  # noqa: E402

KEY = "bench-scan-key-0123456789abcdef"


class InProcessSandboxClient:
    """The client methods the sync, the scan and the publish monitor use, answered by the sandbox in-process."""

    def __init__(self, name: str):
        from django.test import Client

        self.http = Client(HTTP_AUTHORIZATION=f"apikey {KEY}")
        self.base = f"/sandbox/{name}/api/automation/v1.0"

    def single_attempt(self):
        return self

    def dataset_iter(self, page_size: int = 1000):
        from portaladmin.portals.client.schemas import Dataset

        offset = 0
        while True:
            body = self.http.get(f"{self.base}/datasets/", {"limit": page_size, "offset": offset}).json()
            yield from (Dataset.from_dict(d) for d in body["results"])
            if not body.get("next"):
                return
            offset += page_size

    def dataset_publish(self, uid: str) -> None:
        assert self.http.post(f"{self.base}/datasets/{uid}/publish/").status_code == 200

    def dataset_status(self, uid: str):
        from portaladmin.portals.client.schemas import DatasetStatus

        response = self.http.get(f"{self.base}/datasets/{uid}/status/")
        assert response.status_code == 200, response.content
        return DatasetStatus.from_dict(response.json())


def run(n: int, publish: int, *, scan: bool, name: str) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from portaladmin.datasets import tasks as dataset_tasks
    from portaladmin.datasets.models import DatasetSnapshot
    from portaladmin.datasets.services import catalogue
    from portaladmin.datasets.services import scan as scan_service
    from portaladmin.jobs import engine, remote
    from portaladmin.jobs import tasks as job_tasks
    from portaladmin.jobs.models import ItemStatus
    from portaladmin.jobs.services import job_create
    from portaladmin.portals.models import Connection
    from portaladmin.sandbox import clock as sandbox_clock
    from portaladmin.sandbox.models import SandboxDataset
    from portaladmin.sandbox.services import request_counts, reset_request_log, seed_portal

    settings.JOBS_NOTIFY_ON_FAILURE = False  # the failure e-mail would go to the console
    Connection.objects.filter(slug=name).delete()  # same portal name: the same seeded timelines in both runs
    get_user_model().objects.filter(username=f"bench-{name}").delete()
    virtual = [datetime(2026, 6, 1, 12, 0, tzinfo=UTC)]
    timezone.now = lambda: virtual[0]  # the engine, the scan, the models and the sandbox all read this clock
    sandbox_clock.now = lambda: virtual[0]
    job_tasks.enqueue_process = lambda item_ids: None  # sends are driven below
    rung: list[tuple[int, list[str]]] = []
    dataset_tasks.status_scan_batch.delay = lambda connection_id, uids: rung.append((connection_id, uids))
    seed_portal(name, datasets=n, users=1, groups=0, harvesters=0, pages=0, api_key=KEY, reset=True, seed=7,
                processing_seconds=(60.0, 600.0))
    conn = Connection(slug=name, name=name, base_url=f"http://testserver/sandbox/{name}",
                      status_scan_budget=None if scan else 0)
    conn.set_api_key(KEY)
    conn.save()
    client = InProcessSandboxClient(name)
    remote.get_client = catalogue.client_for = scan_service.client_for = lambda connection: client
    catalogue.catalogue_sync_run(connection=conn)

    job = None
    if publish:
        user = get_user_model().objects.create_superuser(f"bench-{name}", "bench@example.org", "x")
        uids = list(SandboxDataset.objects.filter(portal__name=name).order_by("id")
                    .values_list("uid", flat=True)[:publish])
        job = job_create(kind="dataset.publish", actor=user, targets={conn: uids})
        for item_id in job.items.values_list("id", flat=True):
            engine.items_process([item_id])
    reset_request_log(name)
    started, cpu = virtual[0], time.process_time()
    tick = timedelta(seconds=settings.JOBS_POLL_INTERVAL)
    budget = conn.request_budget or settings.JOBS_PORTAL_REQUEST_BUDGET
    ticks, max_per_tick, polls_per_tick, known_at = 0, 0, [], None
    while True:
        virtual[0] += tick
        ticks += 1
        before = request_counts(name)
        rung.clear()
        due = job.items.filter(status=ItemStatus.WAITING, next_poll_at__lte=virtual[0]).count() if job else 0
        batches = engine.poll_tick()
        polls = sum(engine.poll_batch(connection_id=c, item_ids=ids) for c, ids in batches.items())
        for conn_id, uids in rung:
            scan_service.scan_batch(connection_id=conn_id, uids=uids)
        polls_per_tick.append((due, polls))
        max_per_tick = max(max_per_tick, request_counts(name) - before)
        if known_at is None and scan and not DatasetSnapshot.objects.filter(
                connection=conn, status_checked_at__isnull=True).exists():
            known_at = virtual[0]
        job_done = job is None or not job.items.filter(status=ItemStatus.WAITING).exists()
        if job_done and (known_at is not None or not scan):
            break
        if virtual[0] - started > timedelta(hours=3):
            raise RuntimeError("did not finish in 3 h of portal time")
    truth = Counter()
    from portaladmin.sandbox.status import dataset_status

    for ds in SandboxDataset.objects.filter(portal__name=name):
        truth[dataset_status(ds, virtual[0])["status"]] += 1
    rows = Counter(DatasetSnapshot.objects.filter(connection=conn).values_list("status", flat=True))
    return {"known_after_s": (known_at - started).total_seconds() if known_at else None,
            "ticks": ticks, "status_requests": request_counts(name, method="GET", path_contains="/status/"),
            "requests": request_counts(name), "max_per_tick": max_per_tick, "budget": budget,
            "polls_per_tick": polls_per_tick, "cpu_s": time.process_time() - cpu,
            "rows": rows, "truth": truth}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=int, default=3000)
    parser.add_argument("--publish", type=int, default=300)
    args = parser.parse_args()
    print(f"database: {django_on_fresh_database('bench-scan-', 'scan')}")
    a = run(args.datasets, 0, scan=True, name="scan-a")
    print(f"A. scan alone, {args.datasets} datasets: all statuses known after {a['known_after_s']:.0f} s of portal "
          f"time ({a['known_after_s'] / 60:.1f} min, {a['ticks']} ticks); {a['status_requests']} status requests, "
          f"{a['requests']} requests in all; at most {a['max_per_tick']} per tick (budget {a['budget']}); "
          f"{a['cpu_s']:.1f} s CPU here (the portal's included)")
    print(f"   snapshot = truth: {a['rows'] == a['truth']} {dict(a['rows'])}")
    if args.publish:
        b = run(args.datasets, args.publish, scan=True, name="scan-b")
        # the job kept its budget: every tick it read min(its due items, the budget), whatever the scan did
        kept = all(polls == min(due, b["budget"]) for due, polls in b["polls_per_tick"])
        short = sum(1 for due, _ in b["polls_per_tick"] if due >= b["budget"])
        polls = sum(p for _, p in b["polls_per_tick"])
        print(f"B. with a bulk publish of {args.publish}: all statuses known after {b['known_after_s']:.0f} s "
              f"({b['known_after_s'] / 60:.1f} min, {b['ticks']} ticks); {b['status_requests']} status requests "
              f"({polls} job polls, the rest the scan's); at most {b['max_per_tick']} per tick (budget "
              f"{b['budget']}); the job read min(due, budget) at every tick: {kept} ({short} ticks where the job "
              f"used the whole budget and the scan waited)")
        print(f"   snapshot = truth: {b['rows'] == b['truth']}")


if __name__ == "__main__":
    main()
