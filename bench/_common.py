"""What the HTMX list benchmarks share: a fresh SQLite Django, random catalogue snapshot rows, timed requests, p95.

Used by bench_dataset_list.py and bench_fleet_search.py (run as scripts, so this directory is on sys.path).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORDS = ("air", "quality", "river", "levels", "trees", "parks", "budget", "schools", "traffic", "bikes", "noise",
         "water", "energy", "housing", "permits", "elections", "museum", "library", "crime", "weather", "census",
         "parking", "waste", "recycling", "buses", "metro", "health", "hospitals", "markets", "events")
STATUSES = ["idle"] * 70 + ["unknown"] * 18 + ["error"] * 5 + ["limit_reached"] * 3 + ["processing"] * 2 + \
           ["queued"] * 2


def django_on_fresh_sqlite(prefix: str) -> None:
    """Set up Django on a new SQLite file in a temporary directory (DATABASE_URL, Redis and broker ignored), migrated."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(key, None)
    os.environ.update({"DJANGO_SETTINGS_MODULE": "portaladmin.settings", "PORTALADMIN_VAR_DIR": tmp,
                       "DEBUG": "True", "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def random_snapshots(conn, rows: int, rnd, *, now, uid_prefix: str = "da_") -> list:
    """`rows` unsaved DatasetSnapshot rows of `conn` with random words, flags and statuses drawn from `rnd`."""
    from django.utils import timezone

    from portaladmin.datasets.models import DatasetSnapshot
    from portaladmin.datasets.selectors import search_text

    objs = []
    for i in range(rows):
        words = rnd.sample(WORDS, 3)
        dataset_id = f"{words[0]}-{words[1]}-{i}"
        title = f"{words[0].title()} {words[1]} of district {i % 97}"
        keywords = rnd.sample(WORDS, 2)
        objs.append(DatasetSnapshot(
            connection=conn, uid=f"{uid_prefix}{i:06d}", dataset_id=dataset_id, title=title, keywords=keywords,
            description=f"All the {words[0]} {words[1]} data.", publisher="City", license="ODbL", language="en",
            is_restricted=rnd.random() < 0.1, is_published=rnd.random() < 0.6, status=rnd.choice(STATUSES),
            updated_at=now - timezone.timedelta(minutes=rnd.randint(0, 500000)), synced_at=now,
            search=search_text(dataset_id, title, " ".join(keywords))))
    return objs


def list_scenarios(rnd, n: int, *, pages: int, between: dict | None = None) -> dict[str, list[dict]]:
    """`n` query strings per change of a dataset list (search, filter, sort, page, combined), drawn from `rnd`.

    `between` holds a bench's own changes, drawn after "filter" and before "sort" (draw order is part of the seed)."""
    scenarios = {
        "search": [{"q": rnd.choice(WORDS)[: rnd.randint(3, 6)]} for _ in range(n // 2)]
        + [{"q": f"{rnd.choice(WORDS)} {rnd.randint(1, 99)}"} for _ in range(n - n // 2)],
        "filter": [rnd.choice([{"status": "error"}, {"status": "limit_reached"}, {"published": "no"},
                               {"restricted": "yes"}, {"status": "busy", "published": "yes"},
                               {"status": "idle", "restricted": "no", "published": "yes"}]) for _ in range(n)],
    }
    for name, draw in (between or {}).items():
        scenarios[name] = [draw() for _ in range(n)]
    scenarios["sort"] = [{"sort": rnd.choice(["-dataset_id", "title", "-title", "updated", "-updated", "status",
                                              "-status"])} for _ in range(n)]
    scenarios["page"] = [{"page": str(rnd.randint(1, pages))} for _ in range(n)]
    scenarios["combined"] = [{"q": rnd.choice(WORDS)[:4], "status": "idle", "sort": "-updated",
                              "page": str(rnd.randint(1, 5))} for _ in range(n)]
    return scenarios


def measure(client, path, params_list, *, headers, check=None):
    """GET `path` once per params; returns (wall ms, CPU ms of this thread, SQL queries, response bytes) lists.

    Every response must be 200; `check(response)` may assert more."""
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
        if check:
            check(response)
        queries.append(len(ctx.captured_queries))
        sizes.append(len(response.content))
    return times, cpu, queries, sizes


def pct(values, q):
    """The q-th percentile (0–100) of `values`: the value at the rounded index q% of the way through them."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def logged_in_client(user):
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client
