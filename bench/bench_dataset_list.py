"""Benchmark: the dataset list view over a 10,000-dataset catalogue snapshot.

Prints, for search, filter, sort and page changes (HTMX partial requests, as the browser sends them):
p50/p95 server time (goal p95 ≤ 50 ms), SQL queries per request (goal ≤ 10), and the bytes of the HTMX
partial vs the full page. Server time is measured around Django's request handling in this process (the test
client: middleware, view, selectors, template), with no network in between.

It runs on its own: a fresh SQLite file in a temporary directory (DATABASE_URL is ignored), one connection, one
viewer, 10,000 snapshot rows. Usage: .venv/bin/python bench/bench_dataset_list.py [--rows 10000] [--repeat 60]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = ("air", "quality", "river", "levels", "trees", "parks", "budget", "schools", "traffic", "bikes", "noise",
         "water", "energy", "housing", "permits", "elections", "museum", "library", "crime", "weather", "census",
         "parking", "waste", "recycling", "buses", "metro", "health", "hospitals", "markets", "events")
STATUSES = ["idle"] * 70 + ["unknown"] * 18 + ["error"] * 5 + ["limit_reached"] * 3 + ["processing"] * 2 + \
           ["queued"] * 2


def _setup(rows: int):
    tmp = tempfile.mkdtemp(prefix="bench-dataset-list-")
    for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(key, None)
    os.environ.update({"DJANGO_SETTINGS_MODULE": "portaladmin.settings", "PORTALADMIN_VAR_DIR": tmp,
                       "DEBUG": "True", "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from portaladmin.datasets.models import CatalogueSync, DatasetSnapshot
    from portaladmin.datasets.selectors import search_text
    from portaladmin.portals.models import Connection, Membership, Role

    call_command("migrate", verbosity=0)
    conn = Connection(slug="bench", name="Bench", base_url="https://data.example.org")
    conn.set_api_key("bench-key-0123456789")
    conn.save()
    user = get_user_model().objects.create_user("viewer", password="pw-Secret-123")
    Membership.objects.create(user=user, connection=conn, role=Role.VIEWER)
    rnd = random.Random(42)
    now = timezone.now()
    objs = []
    for i in range(rows):
        words = rnd.sample(WORDS, 3)
        dataset_id = f"{words[0]}-{words[1]}-{i}"
        title = f"{words[0].title()} {words[1]} of district {i % 97}"
        keywords = rnd.sample(WORDS, 2)
        objs.append(DatasetSnapshot(
            connection=conn, uid=f"da_{i:06d}", dataset_id=dataset_id, title=title, keywords=keywords,
            description=f"All the {words[0]} {words[1]} data.", publisher="City", license="ODbL", language="en",
            is_restricted=rnd.random() < 0.1, is_published=rnd.random() < 0.6, status=rnd.choice(STATUSES),
            updated_at=now - timezone.timedelta(minutes=rnd.randint(0, 500000)), synced_at=now,
            search=search_text(dataset_id, title, " ".join(keywords))))
    DatasetSnapshot.objects.bulk_create(objs, batch_size=2000)
    CatalogueSync.objects.create(connection=conn, started_at=now, finished_at=now, count=rows)
    return conn, user


def _measure(client, path, params_list, *, headers):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    times, cpu, queries, sizes = [], [], [], []
    for params in params_list:
        with CaptureQueriesContext(db) as ctx:
            start, start_cpu = time.perf_counter(), time.thread_time()
            response = client.get(path, params, headers=headers)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
        assert response.status_code == 200, (response.status_code, params)
        queries.append(len(ctx.captured_queries))
        sizes.append(len(response.content))
    return times, cpu, queries, sizes


def _pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=60)
    args = parser.parse_args()

    t0 = time.perf_counter()
    conn, user = _setup(args.rows)
    print(f"snapshot: {args.rows} rows seeded in {time.perf_counter() - t0:.1f}s (SQLite, fresh file)")

    from django.test import Client
    from django.urls import reverse

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    path = reverse("datasets:list", kwargs={"conn": conn.slug})
    hx = {"HX-Request": "true"}
    rnd = random.Random(7)
    n = args.repeat
    scenarios = {
        "search": [{"q": rnd.choice(WORDS)[: rnd.randint(3, 6)]} for _ in range(n // 2)]
        + [{"q": f"{rnd.choice(WORDS)} {rnd.randint(1, 99)}"} for _ in range(n - n // 2)],
        "filter": [rnd.choice([{"status": "error"}, {"status": "limit_reached"}, {"published": "no"},
                               {"restricted": "yes"}, {"status": "busy", "published": "yes"},
                               {"status": "idle", "restricted": "no", "published": "yes"}]) for _ in range(n)],
        "sort": [{"sort": rnd.choice(["-dataset_id", "title", "-title", "updated", "-updated", "status",
                                      "-status"])} for _ in range(n)],
        "page": [{"page": str(rnd.randint(1, args.rows // 50))} for _ in range(n)],
        "combined": [{"q": rnd.choice(WORDS)[:4], "status": "idle", "sort": "-updated",
                      "page": str(rnd.randint(1, 5))} for _ in range(n)],
    }
    _measure(client, path, [{}] * 5, headers=hx)  # warm-up (template compilation, caches)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nHTMX partial requests ({n} per change); machine: {os.cpu_count()} CPUs, load average {load:.1f}")
    print("server time in ms: wall clock, and CPU time of the serving thread (what contention does not inflate)")
    print(f"{'change':<10} {'p50':>7} {'p95':>7} {'max':>7} {'cpu p50':>8} {'cpu p95':>8} {'queries':>8} {'bytes':>8}")
    worst_p95, worst_cpu95, worst_q = 0.0, 0.0, 0
    for name, params_list in scenarios.items():
        times, cpu, queries, sizes = _measure(client, path, params_list, headers=hx)
        p95 = _pct(times, 95)
        worst_p95, worst_q = max(worst_p95, p95), max(worst_q, max(queries))
        worst_cpu95 = max(worst_cpu95, _pct(cpu, 95))
        print(f"{name:<10} {statistics.median(times):>7.1f} {p95:>7.1f} {max(times):>7.1f} "
              f"{statistics.median(cpu):>8.1f} {_pct(cpu, 95):>8.1f} {max(queries):>8} {int(statistics.median(sizes)):>8}")

    full_times, _, full_queries, full_sizes = _measure(client, path, [{"page": "1"}] * n, headers={})
    part_times, _, part_queries, part_sizes = _measure(client, path, [{"page": "1"}] * n, headers=hx)
    print(f"\nfirst page, full page : p50 {statistics.median(full_times):.1f} ms, p95 {_pct(full_times, 95):.1f} ms, "
          f"{max(full_queries)} queries, {full_sizes[0]:,} bytes")
    print(f"first page, partial   : p50 {statistics.median(part_times):.1f} ms, p95 {_pct(part_times, 95):.1f} ms, "
          f"{max(part_queries)} queries, {part_sizes[0]:,} bytes "
          f"({100 * part_sizes[0] / full_sizes[0]:.0f}% of the full page)")
    print(f"\ngoals: p95 ≤ 50 ms → worst p95 {worst_p95:.1f} ms wall ({'OK' if worst_p95 <= 50 else 'MISSED'}), "
          f"{worst_cpu95:.1f} ms CPU ({'OK' if worst_cpu95 <= 50 else 'MISSED'}); "
          f"≤ 10 queries → worst {max(worst_q, max(full_queries))} {'OK' if max(worst_q, max(full_queries)) <= 10 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
