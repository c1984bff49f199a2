"""Benchmark: the cross-portal dataset board (/fleet/datasets/) over 2 × 5,000 catalogue snapshot rows.

Prints, for search, filter, connection, sort and page changes (HTMX partial requests, as the browser sends
them): p50/p95 server time (goal p95 ≤ 100 ms) and SQL queries per request; plus the overview (home page)
partial that polls every 15 s, over the same two connections. Server time is measured around Django's request
handling in this process (test client: middleware, view, selectors, template), with no network in between.

It runs on its own: a fresh SQLite file in a temporary directory, or with `--postgres URL` (under `make bench` with a
PostgreSQL DATABASE_URL: `<name>_fleet` beside it)
a PostgreSQL database of its own (dropped and created again: give it a name nothing else uses), `--connections`
connections (default 2), one person who is operator on the first and viewer on the others, `--rows` snapshot rows
each (default 5,000). Issue 23's estate: --connections 10 --rows 20000 (goal: overview and board p95 <= 50 ms).
The "page" change is a deep page reached through "Next →" links (?after=cursor of a random row: keyset);
"first page", "search", "filter" and "deep page" are also timed at the selector against the board's former
way of reading a page (OFFSET, exact counts, counts over the rows: `_old_page` below), in the same run.
Usage: .venv/bin/python bench/bench_fleet_search.py [--rows 5000] [--connections 2] [--repeat 60]
       [--postgres postgres://postgres@127.0.0.1:5432/pa_bench_fleet]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

from _common import (
    django_on_fresh_postgres,
    django_on_fresh_sqlite,
    list_scenarios,
    logged_in_client,
    measure,
    pct,
    random_snapshots,
    scratch_postgres,
)


def _setup(rows: int, count: int = 2, postgres: str = "", reuse: bool = False, debug: bool = False):
    if postgres:
        django_on_fresh_postgres(postgres, keep=reuse, production=not debug)
    else:
        django_on_fresh_sqlite("bench-fleet-search-", production=not debug)
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from portaladmin.datasets.models import DatasetSnapshot
    from portaladmin.portals.models import Connection, Membership, Role

    if reuse and get_user_model().objects.filter(username="ops").exists():  # seeded by an earlier run: read it back
        user = get_user_model().objects.get(username="ops")
        visible = list(Connection.objects.filter(memberships__user=user).order_by("pk"))
        if len(visible) != count or DatasetSnapshot.objects.filter(connection=visible[0]).count() != rows:
            raise SystemExit(f"--reuse: the database holds another estate ({len(visible)} connections); run without")
        return visible, user
    user = get_user_model().objects.create_user("ops", password="pw-Secret-123")
    rnd = random.Random(42)
    now = timezone.now()
    connections = []
    slugs = ["paris", "lyon"] + [f"city{i:02d}" for i in range(max(0, count - 2))]
    for index, slug in enumerate(slugs[:count]):
        role = Role.OPERATOR if index == 0 else Role.VIEWER
        conn = Connection(slug=slug, name=slug.title(), base_url=f"https://{slug}.example.org")
        conn.set_api_key(f"bench-key-{slug}-0123456789")
        conn.save()
        Membership.objects.create(user=user, connection=conn, role=role)
        connections.append(conn)
        DatasetSnapshot.objects.bulk_create(random_snapshots(conn, rows, rnd, now=now, uid_prefix=f"da_{slug}_"),
                                            batch_size=2000)
    # a second, unrelated estate the person cannot see (it must not slow their board down or leak into it)
    hidden = Connection(slug="hidden", name="Hidden", base_url="https://hidden.example.org")
    hidden.set_api_key("bench-key-hidden-0123456789")
    hidden.save()
    DatasetSnapshot.objects.bulk_create([
        DatasetSnapshot(connection=hidden, uid=f"da_hidden_{i}", dataset_id=f"hidden-{i}", title="Hidden",
                        search=f"hidden-{i} hidden", synced_at=now) for i in range(rows)], batch_size=2000)
    from portaladmin.fleet.counts import snapshot_counts_compact

    snapshot_counts_compact()  # what the beat does every minute: the overview's counts, one row per connection
    from django.db import connection as db

    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE datasets_datasetsnapshot")  # what autovacuum does after a bulk load
    return connections, user


def _old_page(*, user, page=1, per_page=50, connections=None, **filters):
    """The board's page before keyset pagination (issue 23's starting point), for the ratio: OFFSET pages, an
    exact count of every matching row, and the status knowledge aggregated over the rows."""
    from django.core.paginator import Paginator
    from django.db.models import Count, Window

    from portaladmin.datasets.models import DatasetSnapshot
    from portaladmin.datasets.selectors import status_knowledge
    from portaladmin.fleet.selectors import BOARD_FIELDS, fleet_datasets

    qs = fleet_datasets(user=user, connections=connections, **filters)
    number = max(1, int(page))
    start = (number - 1) * per_page
    ordered = qs.values_list("id", flat=True)
    count, ids = None, []
    if (filters.get("q") or "").strip():
        matching = list(qs.order_by().values_list("id", flat=True)[:3001])
        if len(matching) <= 3000:
            count = len(matching)
            ordered = (DatasetSnapshot.objects.filter(id__in=matching).order_by(*qs.query.order_by)
                       .values_list("id", flat=True))
        else:
            found = list(qs.annotate(fleet_total=Window(Count("id"))).values_list("id", "fleet_total")
                         [start:start + per_page])
            count = found[0][1] if found else qs.count()
            ids = [row[0] for row in found]
    if count is None:
        count = qs.count()
    if count and not ids:
        ids = list(ordered[start:start + per_page])
    Paginator(ordered, per_page)
    rows = list(DatasetSnapshot.objects.filter(id__in=ids).select_related("connection").only(*BOARD_FIELDS))
    status_knowledge(connections=connections)
    return rows


def _deep_cursors(rnd, connections, n, sort="dataset_id"):
    """`n` ?after= cursors of random visible rows: where "Next →" links lead deep into the list."""
    from portaladmin.datasets.models import DatasetSnapshot
    from portaladmin.fleet.selectors.boards import _encode, _keys

    ids = list(DatasetSnapshot.objects.filter(connection__in=connections).values_list("id", flat=True))
    rows = DatasetSnapshot.objects.in_bulk(rnd.sample(ids, n))
    return [{"after": _encode(rows[i], _keys(sort))} for i in rows]


def _selector_ratios(user, connections, rnd, n) -> None:
    """Median / p95 of the selector alone, new vs old way, same data and process (ms)."""
    from portaladmin.fleet.counts import dataset_counts
    from portaladmin.fleet.selectors import board_knowledge, fleet_dataset_page
    from portaladmin.fleet.selectors.boards import _decode, _keys

    def new(params):
        counts = dataset_counts(connections=connections)
        board_knowledge(counts)
        page = fleet_dataset_page(user=user, connections=connections, counts=counts, **params)
        return page.object_list

    from portaladmin.datasets.models import DatasetSnapshot

    pages = DatasetSnapshot.objects.filter(connection__in=connections).count() // 50
    deep = _deep_cursors(rnd, connections, n)
    cases = {
        "first page": ([{}] * n, [{}] * n),
        "search": ([{"q": p} for p in (rnd.choice(["air", "river", "bikes 4", "budget 12", "park"]) for _ in range(n))],
                   None),
        "filter": ([rnd.choice([{"status": "error"}, {"published": False}, {"restricted": True},
                                {"status": "busy", "published": True}]) for _ in range(n)], None),
        # the old way reached a deep page by number; the new one by the cursor of the row before it
        "deep page": (deep, [{"page": rnd.randint(pages // 4, pages)} for _ in range(n)]),
    }
    print(f"\nselector only, {n} calls each (ms): keyset + maintained/capped counts vs the former OFFSET + exact counts")
    print(f"{'read':<11} {'new p50':>8} {'new p95':>8} {'old p50':>8} {'old p95':>8} {'p95 ratio':>10}")
    for name, (new_params, old_params) in cases.items():
        old_params = old_params or new_params
        timings = []
        for fn, plist in ((new, new_params), (lambda p: _old_page(user=user, connections=connections, **p),
                                              old_params)):
            times = []
            for params in plist:
                start = time.perf_counter()
                fn(params)
                times.append((time.perf_counter() - start) * 1000)
            timings.append(times)
        (nt, ot) = timings
        print(f"{name:<11} {statistics.median(nt):>8.1f} {pct(nt, 95):>8.1f} {statistics.median(ot):>8.1f} "
              f"{pct(ot, 95):>8.1f} {pct(ot, 95) / max(pct(nt, 95), 0.001):>9.1f}×")
    assert all(_decode(c["after"], _keys("dataset_id")) for c in deep)


def _measure(client, path, params_list, *, headers):
    """measure(); nothing of the hidden estate may show. CPU: this thread's time, i.e. the app's own work without
    the database's (PostgreSQL runs in its own processes) nor the time waiting for a core on a loaded machine."""
    times, cpu, queries, sizes = measure(client, path, params_list, headers=headers, check=_nothing_hidden)
    return times, cpu, queries, sizes


def _nothing_hidden(response):
    assert b"hidden-" not in response.content


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000, help="snapshot rows per connection")
    parser.add_argument("--connections", type=int, default=2, help="visible connections (at least 2)")
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--overview-only", action="store_true", help="skip the board's requests")
    parser.add_argument("--postgres", default=scratch_postgres("fleet"),
                        help="a PostgreSQL URL of the bench's own (dropped and created); under `make bench` with a "
                             "PostgreSQL DATABASE_URL, <name>_fleet beside it")
    parser.add_argument("--warm", action="store_true",
                        help="send each change's requests once unmeasured first (steady state, not a cold cache)")
    parser.add_argument("--no-ratio", action="store_true", help="skip timing the former way of reading a page")
    parser.add_argument("--reuse", action="store_true",
                        help="with --postgres: use the estate an earlier run seeded there (no drop, no reseed: "
                             "runs of two versions can then alternate on the same data)")
    parser.add_argument("--debug", action="store_true",
                        help="run with DEBUG on (make run's settings) instead of a deployment's (DEBUG off)")
    args = parser.parse_args()
    args.connections = max(2, args.connections)

    t0 = time.perf_counter()
    connections, user = _setup(args.rows, args.connections, args.postgres, reuse=args.reuse and bool(args.postgres),
                               debug=args.debug)
    where = "PostgreSQL, fresh database" if args.postgres else "SQLite, fresh file"
    where += ", DEBUG on" if args.debug else ", DEBUG off as deployed"
    print(f"snapshots: {args.connections} × {args.rows} visible rows (+ {args.rows} hidden) seeded in "
          f"{time.perf_counter() - t0:.1f}s ({where})")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    from django.urls import reverse

    client = logged_in_client(user)
    path = reverse("fleet:datasets")
    hx = {"HX-Request": "true"}
    rnd = random.Random(7)
    n = args.repeat
    pages = args.connections * args.rows // 50
    scenarios = list_scenarios(rnd, n, pages=pages, between={
        "connection": lambda: {"connection": rnd.choice(["paris", "lyon"]), "status": rnd.choice(["", "error"])},
    })
    scenarios["page"] = _deep_cursors(rnd, connections, n)  # "Next →" links deep into the list (keyset)
    _measure(client, path, [{}] * 5, headers=hx)  # warm-up (template compilation, caches)

    print(f"\n/fleet/datasets/ HTMX partial requests ({n} per change), server time in ms (wall; CPU of this process):")
    print(f"{'change':<11} {'p50':>7} {'p95':>7} {'max':>7} {'cpu p50':>8} {'cpu p95':>8} {'queries':>8} {'bytes':>8}")
    worst_p95, worst_q = 0.0, 0
    for name, params_list in ({} if args.overview_only else scenarios).items():
        if args.warm:  # the same requests once, unmeasured: the database's caches as on a server in use
            _measure(client, path, params_list, headers=hx)
        times, cpu, queries, sizes = _measure(client, path, params_list, headers=hx)
        p95 = pct(times, 95)
        worst_p95, worst_q = max(worst_p95, p95), max(worst_q, max(queries))
        print(f"{name:<11} {statistics.median(times):>7.1f} {p95:>7.1f} {max(times):>7.1f} "
              f"{statistics.median(cpu):>8.1f} {pct(cpu, 95):>8.1f} {max(queries):>8} {int(statistics.median(sizes)):>8}")

    full_times, full_cpu, full_queries, full_sizes = _measure(client, path, [{"page": "1"}] * (5 if args.overview_only else n),
                                                    headers={})
    if args.warm:
        _measure(client, path, [{}] * n, headers=hx)
    first_times, first_cpu, _, _ = _measure(client, path, [{}] * n, headers=hx)
    worst_p95 = max(worst_p95, pct(first_times, 95))
    print(f"{'first page':<11} {statistics.median(first_times):>7.1f} {pct(first_times, 95):>7.1f} "
          f"{max(first_times):>7.1f} {statistics.median(first_cpu):>8.1f} {pct(first_cpu, 95):>8.1f}")
    print(f"\nfirst page, full page : p50 {statistics.median(full_times):.1f} ms, p95 {pct(full_times, 95):.1f} ms "
          f"(CPU p50 {statistics.median(full_cpu):.1f} / p95 {pct(full_cpu, 95):.1f}), "
          f"{max(full_queries)} queries, {full_sizes[0]:,} bytes")
    home = reverse("home")
    if args.warm:
        _measure(client, home, [{}] * n, headers=hx)
    o_times, o_cpu, o_queries, _ = _measure(client, home, [{}] * n, headers=hx)
    print(f"overview partial (15 s poll, {args.connections} cards + watchdog): p50 {statistics.median(o_times):.1f} "
          f"ms, p95 {pct(o_times, 95):.1f} ms (CPU p50 {statistics.median(o_cpu):.1f} / p95 {pct(o_cpu, 95):.1f}), "
          f"{max(o_queries)} queries")
    from portaladmin.fleet.selectors.overview import dataset_figures, dataset_figures_recount

    for label, figures in (("maintained counts", dataset_figures), ("recount (before issue 23)",
                                                                     dataset_figures_recount)):
        times = []
        for _ in range(max(5, n // 4)):
            start = time.perf_counter()
            figures(connections=connections)
            times.append((time.perf_counter() - start) * 1000)
        print(f"  dataset figures of the cards, {label:26}: p50 {statistics.median(times):.1f} ms, "
              f"p95 {pct(times, 95):.1f} ms")
    assert dataset_figures(connections=connections) == dataset_figures_recount(connections=connections)
    worst_q = max(worst_q, max(full_queries))
    if args.overview_only:
        print(f"\ngoal (issue 23): overview p95 ≤ 50 ms → {pct(o_times, 95):.1f} ms "
              f"{'OK' if pct(o_times, 95) <= 50 else 'MISSED'}")
        return 0
    goal = 50 if args.connections * args.rows >= 200000 else 100
    print(f"\ngoal: p95 ≤ {goal} ms → worst p95 {worst_p95:.1f} ms {'OK' if worst_p95 <= goal else 'MISSED'}; "
          f"queries per request: at most {worst_q}")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if not args.no_ratio:
        _selector_ratios(user, connections, random.Random(11), max(10, n // 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
