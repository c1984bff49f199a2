"""Benchmark: the dataset list view over a 10,000-dataset catalogue snapshot.

Prints, for search, filter, sort and page changes (HTMX partial requests, as the browser sends them):
p50/p95 server time (goal p95 ≤ 50 ms), SQL queries per request (goal ≤ 10), and the bytes of the HTMX
partial vs the full page. Server time is measured around Django's request handling in this process (the test
client: middleware, view, selectors, template), with no network in between.

It runs on its own database: a fresh SQLite file in a temporary directory, or, under `make bench` with a PostgreSQL
DATABASE_URL, a fresh database of its own beside it (`<name>_list`, dropped and created: _common.scratch_postgres);
one connection, one viewer, 10,000 snapshot rows. Usage: .venv/bin/python bench/bench_dataset_list.py [--rows 10000] [--repeat 60]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

from _common import (
    django_on_fresh_database,
    list_scenarios,
    logged_in_client,
    measure,
    pct,
    random_snapshots,
)


def _setup(rows: int):
    where = django_on_fresh_database("bench-dataset-list-", "list")
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from portaladmin.datasets.models import CatalogueSync, DatasetSnapshot
    from portaladmin.portals.models import Connection, Membership, Role

    conn = Connection(slug="bench", name="Bench", base_url="https://data.example.org")
    conn.set_api_key("bench-key-0123456789")
    conn.save()
    user = get_user_model().objects.create_user("viewer", password="pw-Secret-123")
    Membership.objects.create(user=user, connection=conn, role=Role.VIEWER)
    rnd = random.Random(42)
    now = timezone.now()
    DatasetSnapshot.objects.bulk_create(random_snapshots(conn, rows, rnd, now=now), batch_size=2000)
    CatalogueSync.objects.create(connection=conn, started_at=now, finished_at=now, count=rows)
    from portaladmin.datasets.services.catalogue import _analyze_snapshots

    _analyze_snapshots()  # what a sync that adds 1,000+ rows does (PostgreSQL: the planner's statistics)
    return conn, user, where


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=60)
    args = parser.parse_args()

    t0 = time.perf_counter()
    conn, user, where = _setup(args.rows)
    print(f"snapshot: {args.rows} rows seeded in {time.perf_counter() - t0:.1f}s ({where})")

    from django.urls import reverse

    client = logged_in_client(user)
    path = reverse("datasets:list", kwargs={"conn": conn.slug})
    hx = {"HX-Request": "true"}
    rnd = random.Random(7)
    n = args.repeat
    scenarios = list_scenarios(rnd, n, pages=args.rows // 50)
    measure(client, path, [{}] * 5, headers=hx)  # warm-up (template compilation, caches)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nHTMX partial requests ({n} per change); machine: {os.cpu_count()} CPUs, load average {load:.1f}")
    print("server time in ms: wall clock, and CPU time of the serving thread (what contention does not inflate)")
    print(f"{'change':<10} {'p50':>7} {'p95':>7} {'max':>7} {'cpu p50':>8} {'cpu p95':>8} {'queries':>8} {'bytes':>8}")
    worst_p95, worst_cpu95, worst_q = 0.0, 0.0, 0
    for name, params_list in scenarios.items():
        times, cpu, queries, sizes = measure(client, path, params_list, headers=hx)
        p95 = pct(times, 95)
        worst_p95, worst_q = max(worst_p95, p95), max(worst_q, max(queries))
        worst_cpu95 = max(worst_cpu95, pct(cpu, 95))
        print(f"{name:<10} {statistics.median(times):>7.1f} {p95:>7.1f} {max(times):>7.1f} "
              f"{statistics.median(cpu):>8.1f} {pct(cpu, 95):>8.1f} {max(queries):>8} {int(statistics.median(sizes)):>8}")

    full_times, _, full_queries, full_sizes = measure(client, path, [{"page": "1"}] * n, headers={})
    part_times, _, part_queries, part_sizes = measure(client, path, [{"page": "1"}] * n, headers=hx)
    print(f"\nfirst page, full page : p50 {statistics.median(full_times):.1f} ms, p95 {pct(full_times, 95):.1f} ms, "
          f"{max(full_queries)} queries, {full_sizes[0]:,} bytes")
    print(f"first page, partial   : p50 {statistics.median(part_times):.1f} ms, p95 {pct(part_times, 95):.1f} ms, "
          f"{max(part_queries)} queries, {part_sizes[0]:,} bytes "
          f"({100 * part_sizes[0] / full_sizes[0]:.0f}% of the full page)")
    print(f"\ngoals: p95 ≤ 50 ms → worst p95 {worst_p95:.1f} ms wall ({'OK' if worst_p95 <= 50 else 'MISSED'}), "
          f"{worst_cpu95:.1f} ms CPU ({'OK' if worst_cpu95 <= 50 else 'MISSED'}); "
          f"≤ 10 queries → worst {max(worst_q, max(full_queries))} {'OK' if max(worst_q, max(full_queries)) <= 10 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
