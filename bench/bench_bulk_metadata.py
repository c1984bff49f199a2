"""Benchmark: a bulk metadata edit of 1,000 datasets through the job engine against a naive sequential script.

A sandbox portal with N datasets is served over real HTTP by `manage.py runserver` (a fresh SQLite file, or under
`make bench` with a PostgreSQL DATABASE_URL a fresh database `<name>_metadata` beside it; a thread per request). The same operation — add the keyword "bench-<run>" to default.keyword — is done twice, on
the same datasets, in the same run:

- baseline: a naive script (one `requests.Session`, what ods-utils' `set_template_metadata` or a Postman loop
  does): per dataset GET the field, PUT the new list. 2 requests, no record, no undo, no check afterwards.
- portaladmin: `metadata_bulk_start` (one job, one item per dataset), then per item what the worker and the poller
  do: `engine.items_process([item])` (claim, keep the previous value = 1 GET, audit, 1 PUT, record) and
  `engine.poll_batch` (1 GET: the postcondition read back). 3 requests, each step in the database.

Printed: per-dataset wall time (median, p95) of both, their ratio, requests per dataset, the time spent inside
HTTP calls (client side, so it includes the sandbox's own work), and from these portaladmin's own share of the
wall time if each request took 100 ms on a real portal (own time / (own time + requests × 100 ms)).
Both loops are sequential, on purpose: the figure is the cost per dataset, not the throughput of a pool.

Usage: .venv/bin/python bench/bench_bulk_metadata.py [--datasets 1000]
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
KEY = "bench-bulk-metadata-key-0123456789"
NAME = "bench-bulk"
LATENCY = 0.100  # the portal latency the share is computed for


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _setup() -> str:
    """A fresh database shared with the web server: PostgreSQL under `make bench` on the real stack, else SQLite."""
    from _common import django_on_fresh_database

    where = django_on_fresh_database("bench-bulk-md-", "metadata")
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    return where


class Timed:
    """Wraps a requests.Session: counts the requests and the seconds spent inside them."""

    def __init__(self, session):
        self.session, self.count, self.seconds = session, 0, 0.0
        original = session.request

        def request(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.count += 1

        session.request = request


def baseline(base: str, uids: list[str], word: str) -> dict:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"apikey {KEY}"
    timed = Timed(session)
    per = []
    for uid in uids:
        started = time.perf_counter()
        url = f"{base}/datasets/{uid}/metadata/default/keyword/"
        answer = session.get(url, timeout=30)
        current = answer.json().get("value") if answer.status_code == 200 else None
        new = list(current or [])
        if word not in new:
            new.append(word)
            session.put(url, json={"value": new}, timeout=30).raise_for_status()
        per.append(time.perf_counter() - started)
    return {"per": per, "requests": timed.count, "http": timed.seconds}


def ours(conn, user, uids: list[str], labels: dict, word: str) -> dict:
    from portaladmin.datasets.bulk_metadata import bulk_payload, metadata_bulk_start
    from portaladmin.jobs import engine, tasks
    from portaladmin.jobs.models import ItemStatus
    from portaladmin.portals.client import client_for
    from portaladmin.portals.client.schemas import MetadataTemplateField

    tasks.enqueue_process = lambda item_ids: None  # this loop plays the worker and the poller itself
    timed = Timed(client_for(conn).session)
    definition = MetadataTemplateField.from_dict({"name": "keyword", "type": "list"})
    payload = bulk_payload(template="default", definition=definition, op="add", value=word)
    started = time.perf_counter()
    job = metadata_bulk_start(connection=conn, actor=user, targets=[{"target": u, "label": labels[u]} for u in uids],
                              payload=payload)
    create = time.perf_counter() - started
    per = []
    for item_id in job.items.order_by("id").values_list("id", flat=True):
        started = time.perf_counter()
        engine.items_process([item_id])
        engine.poll_batch(connection_id=conn.pk, item_ids=[item_id])
        per.append(time.perf_counter() - started)
    job.refresh_from_db()
    outcomes = {str(s.value): job.items.filter(status=s).count() for s in (ItemStatus.SUCCEEDED, ItemStatus.FAILED)}
    return {"per": per, "requests": timed.count, "http": timed.seconds, "create": create, "outcomes": outcomes,
            "status": job.status}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=1000)
    args = parser.parse_args()
    print(f"database: {_setup()}", flush=True)
    from django.contrib.auth import get_user_model

    from portaladmin.portals.models import Connection
    from portaladmin.sandbox.models import SandboxDataset
    from portaladmin.sandbox.services import seed_portal

    t0 = time.perf_counter()
    seed_portal(NAME, datasets=args.datasets, users=1, groups=0, harvesters=0, pages=0, api_key=KEY, reset=True,
                seed=11, latency_ms=0, error_rate=0.0, throttle_rate=0.0)
    print(f"seeded {args.datasets} datasets in {time.perf_counter() - t0:.1f} s", flush=True)
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"}
    web = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                           cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}/sandbox/{NAME}"
        conn = Connection(slug=NAME, name=NAME, base_url=base)
        conn.set_api_key(KEY)
        conn.save()
        user = get_user_model().objects.create_superuser("bench", "bench@example.org", "x")
        rows = list(SandboxDataset.objects.filter(portal__name=NAME).order_by("id").values_list("uid", "dataset_id"))
        uids, labels = [u for u, _ in rows], dict(rows)
        api = f"{base}/api/automation/v1.0"
        baseline(api, uids[:20], "warm-up")  # first requests: imports, connection set-up
        started = time.perf_counter()
        naive = baseline(api, uids, "bench-naive")
        naive_wall = time.perf_counter() - started
        started = time.perf_counter()
        mine = ours(conn, user, uids, labels, "bench-portaladmin")
        mine_wall = time.perf_counter() - started
    finally:
        web.terminate()
        try:
            web.wait(timeout=10)
        except subprocess.TimeoutExpired:
            web.kill()

    n = len(uids)
    print(f"\nBulk metadata edit (add a keyword) of {n} datasets, sandbox over real HTTP, sequential, 1 process")
    print(f"{'':34}{'p50 ms':>9}{'p95 ms':>9}{'req/ds':>8}{'HTTP ms/ds':>12}{'own ms/ds':>11}{'wall s':>8}")
    shares = {}
    for label, r, wall in (("naive script (GET + PUT)", naive, naive_wall),
                           ("portaladmin job (GET, PUT, GET)", mine, mine_wall)):
        own = max(0.0, (sum(r["per"]) - r["http"]) / n)
        shares[label] = own / (own + r["requests"] / n * LATENCY)
        print(f"{label:34}{statistics.median(r['per']) * 1000:9.1f}{_pct(r['per'], 0.95) * 1000:9.1f}"
              f"{r['requests'] / n:8.2f}{r['http'] / n * 1000:12.1f}{own * 1000:11.1f}{wall:8.1f}")
    print(f"\nratio portaladmin / naive: p50 {statistics.median(mine['per']) / statistics.median(naive['per']):.2f}x, "
          f"p95 {_pct(mine['per'], 0.95) / _pct(naive['per'], 0.95):.2f}x")
    print(f"job created (1 job, {n} items, enqueue on commit) in {mine['create'] * 1000:.0f} ms; "
          f"outcome {mine['status']}: {mine['outcomes']}")
    for label, share in shares.items():
        print(f"own share of the wall time at {LATENCY * 1000:.0f} ms per portal request — {label}: {share:.1%}")
    print(f"at {LATENCY * 1000:.0f} ms per request, {n} datasets take ≈ "
          f"{n * (mine['requests'] / n * LATENCY + (sum(mine['per']) - mine['http']) / n) / 60:.1f} min sequentially "
          f"(portaladmin) vs ≈ {n * (naive['requests'] / n * LATENCY + (sum(naive['per']) - naive['http']) / n) / 60:.1f}"
          " min (naive); the worker pool sends items in parallel, within the portal's request budget.")
    return 0 if mine["status"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
