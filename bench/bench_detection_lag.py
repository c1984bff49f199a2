"""Benchmark (issue 23): how soon the job page shows an item done after the portal finished it, how many status
requests that costs next to a naive 3-second poller, at scale, and how long cancelling 1,000 publishes takes.

The real engine (job_create and its doorbells, items_process, poll_tick, poll_batch, job_cancel, the watch) drives the real sandbox
portal through Django's test client (no sockets) on a virtual clock: the poll tick is the production one (2 s,
budget 20 requests per portal per tick = 10/s); minutes of portal time take seconds. Every figure is exact (the
sandbox's request log, the portal's own timeline of each publish); the naive poller (GET every 3 s from the
publish until a final state, no budget) is computed on the SAME timelines in the same run.

Scenarios:
  A. a mix of N publishes (default 200), processing 10 s-10 min (the sandbox's per-dataset processing time):
     A1 unwatched, first publish of each dataset (no history);
     A2 unwatched, the same datasets published again, processing times moved by up to ±10 % (history learned);
     A3 the same, while someone watches the job page (it polls every 2 s);
     A4 as A1 on a portal whose dataset list never shows the end of processing (`updated_at` not moved).
     Goals: watched p95 <= 5 s; unwatched p95 of lag / max(5 s, 10 % of the processing time) <= 1;
     A2 status requests <= 1/4 of the naive poller's.
  B. 1,000 concurrent first publishes of 30 s on one portal, default budget: the engine rings the sends (half a
     tick's budget at the start, then the tick with what its reads leave), a worker sends up to SEND_RATE per
     second (a 2-process worker). Goal: lag p95 <= 15 s.
  C. cancel 1,000 publishes the portal is processing: seconds until every item ended (all aborts sent), against
     the budget's bound for 1,000 requests.
  D. A1 with the N datasets spread over the list of a 5,000-dataset portal (--catalogue): the list hint reads the
     1,000 around their places at the last catalogue sync, each such window in turn; against the same without the
     places (the list's first 1,000 only, as before), on two identical portals in the same run.

Scale everything down for a quick run with BENCH_SCALE (e.g. BENCH_SCALE=0.1). PostgreSQL/Redis (cache) are used
when DATABASE_URL/REDIS_URL are set (as under `make bench`); else a fresh SQLite file.

Usage: .venv/bin/python bench/bench_detection_lag.py [--mix 200] [--scale 1000] [--send-rate 25] [--skip-scale]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import bench_user, django_for_stack, pct, sandbox_connection, stack_urls  # noqa: E402

KEY = "bench-lag-key-0123456789abcdef"
NAIVE = 3.0
VIRTUAL = [datetime(2026, 6, 1, 12, 0, tzinfo=UTC)]
DOORBELLS: deque = deque()  # the items_process tasks the engine enqueued (job start, the tick's dispatch)


class InProcessSandboxClient:
    """The client methods the publish monitor uses, answered by the sandbox through Django's test client. Its
    answers carry the portal's clock (the virtual one) as a real client's Date header would."""

    def __init__(self, name: str):
        from django.test import Client

        self.http = Client(HTTP_AUTHORIZATION=f"apikey {KEY}")
        self.base = f"/sandbox/{name}/api/automation/v1.0"

    def last_answer_clock(self):
        from portaladmin.portals.client.base import AnswerClock

        return AnswerClock(date=VIRTUAL[0].replace(microsecond=0), round_trip=0.0)

    def _ok(self, response):
        if response.status_code != 200:
            from portaladmin.portals.client.errors import PortalConflict

            raise PortalConflict(response.content.decode()[:200], status=response.status_code)
        return response

    def dataset_publish(self, uid: str) -> None:
        self._ok(self.http.post(f"{self.base}/datasets/{uid}/publish/"))

    def dataset_abort(self, uid: str) -> None:
        self._ok(self.http.post(f"{self.base}/datasets/{uid}/abort/"))

    def dataset_status(self, uid: str):
        from portaladmin.portals.client.schemas import DatasetStatus

        return DatasetStatus.from_dict(self._ok(self.http.get(f"{self.base}/datasets/{uid}/status/")).json())

    def dataset_list(self, *, limit: int = 20, offset: int = 0, dataset_id=None):
        from portaladmin.portals.client.schemas import Dataset, Page

        LIST_OFFSETS[self.base.split("/")[2]].append(offset)
        body = self._ok(self.http.get(f"{self.base}/datasets/", {"limit": limit, "offset": offset})).json()
        return Page(total_count=body.get("total_count", 0), results=[Dataset.from_dict(d) for d in body["results"]])

    def dataset_iter(self, *, page_size: int = 1000):
        """What the catalogue sync reads: the whole list, page by page."""
        offset = 0
        while True:
            page = self.dataset_list(limit=page_size, offset=offset)
            yield from page.results
            offset += page_size
            if not page.results or offset >= page.total_count:
                return


LIST_OFFSETS: dict[str, list[int]] = defaultdict(list)  # portal → the offset of every list request, in order


def _virtual_clock():
    from django.utils import timezone

    from portaladmin.jobs import remote, tasks
    from portaladmin.sandbox import clock as sandbox_clock

    timezone.now = lambda: VIRTUAL[0]  # the engine, the models, the watch and the sandbox all read this clock
    sandbox_clock.now = lambda: VIRTUAL[0]
    tasks.enqueue_process = DOORBELLS.append  # the worker below takes them at its own pace
    clients = {}
    remote.get_client = lambda connection: clients.setdefault(connection.slug, InProcessSandboxClient(connection.slug))


def _portal(name: str, n: int, processing: tuple[float, float], seed: int):
    from portaladmin.sandbox.services import seed_portal

    seed_portal(name, datasets=n, users=1, groups=0, harvesters=0, pages=0, api_key=KEY, reset=True, seed=seed,
                processing_seconds=processing)
    return sandbox_connection(name, "http://testserver", KEY)


def _ends(name: str, uids) -> dict[str, datetime]:
    """The portal's own timeline: when each dataset's order (just sent) will end."""
    from portaladmin.sandbox.models import SandboxDataset

    return {ds.uid: ds.op_at + timedelta(seconds=sum(seconds for _state, seconds in ds.op_phases))
            for ds in SandboxDataset.objects.filter(portal__name=name, uid__in=list(uids), op_at__isnull=False)}


def work(name: str, capacity: int, targets: dict[int, str], ends: dict[str, datetime]) -> None:
    """The worker: take up to `capacity` doorbells (the engine rang them: the job's start, then the tick within the
    portal's budget) and send them; note when the portal will end each order it took."""
    from portaladmin.jobs import engine

    sent = []
    for _ in range(min(capacity, len(DOORBELLS))):
        ids = DOORBELLS.popleft()
        engine.items_process(ids)
        sent += [targets[i] for i in ids if i in targets]
    if sent:
        ends.update(_ends(name, sent))


def run_job(conn, uids, *, watched=False, send_rate=25.0, tick_limit=timedelta(hours=3)) -> dict:
    """Publish `uids` the way production does: the engine rings the sends (half a tick's budget at the start, then
    the tick within what its reads leave) and a worker sends up to `send_rate` per second; run the poll ticks until
    the job ends. Returns lags (seconds from the portal's end to the item's end in portaladmin), durations and
    requests."""
    from django.conf import settings

    from portaladmin.jobs import engine
    from portaladmin.jobs.models import ItemStatus
    from portaladmin.jobs.services import job_create
    from portaladmin.jobs.watch import job_watched
    from portaladmin.sandbox.services import request_counts, reset_request_log

    name = conn.slug
    reset_request_log(name)
    DOORBELLS.clear()
    job = job_create(kind="dataset.publish", actor=bench_user(), targets={conn: uids})
    targets = dict(job.items.values_list("id", "target"))
    ends: dict[str, datetime] = {}
    tick = timedelta(seconds=settings.JOBS_POLL_INTERVAL)
    step = timedelta(seconds=0.2)
    capacity = max(1, round(send_rate * step.total_seconds()))
    started = VIRTUAL[0]
    next_tick = VIRTUAL[0] + tick
    while True:
        work(name, capacity, targets, ends)
        if VIRTUAL[0] >= next_tick:
            next_tick += tick
            if watched:
                job_watched(job.pk)  # the job page's poll every 2 s
            batches = engine.poll_tick()
            for conn_id, ids in batches.items():
                engine.poll_batch(connection_id=conn_id, item_ids=ids, hint=batches.hints.get(conn_id, 0))
            if not DOORBELLS and not job.items.filter(status__in=(ItemStatus.WAITING, ItemStatus.PENDING,
                                                                  ItemStatus.RUNNING)).exists():
                break
        VIRTUAL[0] += step
        if VIRTUAL[0] - started > tick_limit:
            raise RuntimeError("the job did not end")
    lags, durations, offsets = [], [], []
    for item in job.items.all():
        end = ends[item.target]
        lags.append((item.finished_at - end).total_seconds())
        durations.append((end - item.sent_at).total_seconds())
        offsets.append((end - started).total_seconds())
    sent = [item.sent_at for item in job.items.all()]
    last_end = max(ends.values())
    job.refresh_from_db()
    naive = sum(max(1, math.ceil(d / NAIVE)) for d in durations)
    naive_lag = [max(1, math.ceil(d / NAIVE)) * NAIVE - d for d in durations]
    return {"job": job, "lags": lags, "durations": durations, "end_offsets": offsets, "naive_requests": naive, "naive_lags": naive_lag,
            "status_reads": request_counts(name, method="GET", path_contains="/status/"),
            "reads": request_counts(name, method="GET"), "seconds": (VIRTUAL[0] - started).total_seconds(),
            "outcomes": dict((s, job.items.filter(status=s).count()) for s in ("succeeded", "failed", "cancelled")),
            "send_span": (max(sent) - min(sent)).total_seconds(), "portal_done": (last_end - started).total_seconds(),
            "job_done": (job.finished_at - started).total_seconds() if job.finished_at else None,
            "posts": request_counts(name, method="POST")}


def _allowed(durations, *, watched: bool) -> list[float]:
    return [5.0 if watched else max(5.0, 0.1 * d) for d in durations]


def report(label: str, r: dict, *, watched: bool, goal: bool = True) -> dict:
    lags, allowed = r["lags"], _allowed(r["durations"], watched=watched)
    ratio_to_goal = [lag / a for lag, a in zip(lags, allowed, strict=True)]
    row = {"label": label, "n": len(lags), "p50": statistics.median(lags), "p95": pct(lags, 95), "max": max(lags),
           "naive_p50": statistics.median(r["naive_lags"]), "naive_p95": pct(r["naive_lags"], 95),
           "reads": r["reads"], "status_reads": r["status_reads"], "naive": r["naive_requests"],
           "goal_p95": pct(ratio_to_goal, 95), "outcomes": r["outcomes"]}
    print(f"  {label:44} lag p50 {row['p50']:6.1f} s  p95 {row['p95']:6.1f} s  max {row['max']:6.1f} s | naive 3 s: "
          f"p50 {row['naive_p50']:.1f} s p95 {row['naive_p95']:.1f} s | requests {row['reads']:>6} (status "
          f"{row['status_reads']}) vs naive {row['naive']:>6} = {row['reads'] / row['naive']:.3f}x" + (
              f" | p95 of lag / {'5 s' if watched else 'max(5 s, 10 %)'} = {row['goal_p95']:.2f} "
              f"{'OK' if row['goal_p95'] <= 1 else 'MISSED'}" if goal else ""))
    return row


def scenario_mix(n: int) -> list[dict]:
    from portaladmin.sandbox.models import SandboxDataset
    from portaladmin.sandbox.services import set_faults

    print(f"\nA. {n} publishes, processing 10 s-10 min, one portal, budget 20 per 2 s tick")
    rows = []
    conn = _portal("bench-lag-mix", n, (10.0, 600.0), seed=23)
    uids = list(SandboxDataset.objects.filter(portal__name=conn.slug).order_by("id").values_list("uid", flat=True))
    rnd = random.Random(5)
    for ds in SandboxDataset.objects.filter(portal__name=conn.slug):  # each dataset its own processing time
        ds.processing_seconds = rnd.uniform(10.0, 600.0)
        ds.save(update_fields=["processing_seconds"])
    rows.append(report("A1 unwatched, no history (first publish)", run_job(conn, uids), watched=False))

    def jitter():  # the next publish of each dataset takes up to ±10 % more or less than the last one
        for ds in SandboxDataset.objects.filter(portal__name=conn.slug):
            ds.processing_seconds = ds.processing_seconds * rnd.uniform(0.9, 1.1)
            ds.save(update_fields=["processing_seconds"])

    jitter()
    rows.append(report("A2 unwatched, learned from the last publish", run_job(conn, uids), watched=False))
    jitter()
    rows.append(report("A3 watched (job page open), learned", run_job(conn, uids, watched=True), watched=True))
    # The same first publishes on a portal whose list never shows an end (`updated_at` not moved by processing,
    # FACTS.md promises nothing): only the unpublished quarter can be hinted (is_published flips).
    quiet = _portal("bench-lag-quiet", n, (10.0, 600.0), seed=37)
    set_faults(quiet.slug, processing_moves_updated_at=False)
    for ds in SandboxDataset.objects.filter(portal__name=quiet.slug):
        ds.processing_seconds = rnd.uniform(10.0, 600.0)
        ds.save(update_fields=["processing_seconds"])
    quiet_uids = list(SandboxDataset.objects.filter(portal__name=quiet.slug).order_by("id")
                      .values_list("uid", flat=True))
    rows.append(report("A4 as A1, the list never shows an end", run_job(quiet, quiet_uids), watched=False))
    a2 = rows[1]
    print(f"  A2 requests / naive = {a2['reads'] / a2['naive']:.3f} (goal <= 0.25: "
          f"{'OK' if a2['reads'] / a2['naive'] <= 0.25 else 'MISSED'}); A1 (no history) "
          f"{rows[0]['reads'] / rows[0]['naive']:.3f}")
    return rows


def scenario_big_list(n: int, size: int) -> list[dict]:
    """A1 on a portal of `size` datasets, the job's `n` spread over its whole list: the list hint reads the part of
    the list that holds them (their places at the last catalogue sync), against the same run without those places
    (only the first 1,000 of the list read, as before places were kept), on two identical portals."""
    from portaladmin.datasets.models import DatasetSnapshot
    from portaladmin.datasets.services import catalogue
    from portaladmin.sandbox.models import SandboxDataset

    print(f"\nD. {n} first publishes spread over the list of a {size:,}-dataset portal, processing 10 s-10 min, "
          "unwatched")
    catalogue.client_for = lambda connection: InProcessSandboxClient(connection.slug)
    rows = []
    for label, places in (("D before: only the list's first 1,000 read", False),
                          ("D after: the 1,000 around the places", True)):
        conn = _portal(f"bench-lag-big-{'b' if places else 'a'}", size, (10.0, 600.0), seed=41)
        catalogue.catalogue_sync_run(connection=conn)  # the places, as the periodic sync keeps them
        if not places:
            DatasetSnapshot.objects.filter(connection=conn).update(list_position=None)
        every = max(1, size // n)
        uids = list(SandboxDataset.objects.filter(portal__name=conn.slug).order_by("id")
                    .values_list("uid", flat=True))[::every][:n]
        rnd = random.Random(43)  # the same processing times on both portals
        for uid in uids:
            SandboxDataset.objects.filter(portal__name=conn.slug, uid=uid).update(
                processing_seconds=rnd.uniform(10.0, 600.0))
        LIST_OFFSETS[conn.slug].clear()
        rows.append(report(label, run_job(conn, uids), watched=False))
        hints = LIST_OFFSETS[conn.slug]
        print(f"    {len(hints)} list requests for hints, at offsets {', '.join(map(str, sorted(set(hints))))}")
    return rows


def scenario_scale(n: int, send_rate: float, *, quiet_list: bool = False) -> dict:
    from django.conf import settings

    from portaladmin.sandbox.models import SandboxDataset
    from portaladmin.sandbox.services import set_faults

    budget_rate = settings.JOBS_PORTAL_REQUEST_BUDGET / settings.JOBS_POLL_INTERVAL
    print(f"\nB. {n} concurrent first publishes of 30 s on one portal, a worker sending up to {send_rate:.0f}/s, "
          f"default budget ({budget_rate:.0f} requests/s for sends and reads)")
    conn = _portal("bench-lag-scale", n, (30.0, 30.0), seed=29)
    if quiet_list:
        set_faults(conn.slug, processing_moves_updated_at=False)
        print("  (this portal's list never shows the end of processing: only unpublished datasets can be hinted)")
    uids = list(SandboxDataset.objects.filter(portal__name=conn.slug).order_by("id").values_list("uid", flat=True))
    r = run_job(conn, uids, send_rate=send_rate)
    row = report(f"B  {n} publishes, unwatched", r, watched=False, goal=False)
    # Every item needs one status read after its end, and reads go at budget_rate: even a poller that knew each
    # end in advance would see them this late (ends in order, one read each, at the budget's pace).
    ideal, free_at = [], 0.0
    for end in sorted(r["end_offsets"]):
        free_at = max(end, free_at + 1 / budget_rate)
        ideal.append(free_at - end)
    total = r["reads"] + r["posts"]
    print(f"  sends spread over {r['send_span']:.0f} s; the portal's last end at {r['portal_done']:.0f} s, the job "
          f"ended at {r['job_done']:.0f} s; {total} requests in all ({r['posts']} sends, {r['reads']} reads: "
          f"{r['reads'] / n:.2f} per publish) = {total / r['job_done']:.1f}/s; on these ends a poller knowing each in "
          f"advance, at {budget_rate:.0f} reads/s, would show them p95 {pct(ideal, 95):.1f} s late; goal p95 <= 15 s: "
          f"{'OK' if row['p95'] <= 15 else 'MISSED'}")
    row["ideal_p95"] = pct(ideal, 95)
    return row


def scenario_cancel(n: int) -> dict:
    from django.conf import settings

    from portaladmin.jobs import engine
    from portaladmin.jobs.models import ItemStatus
    from portaladmin.jobs.services import job_cancel, job_create
    from portaladmin.sandbox.models import SandboxDataset
    from portaladmin.sandbox.services import request_counts, reset_request_log

    budget = settings.JOBS_PORTAL_REQUEST_BUDGET
    tick = timedelta(seconds=settings.JOBS_POLL_INTERVAL)
    print(f"\nC. cancel {n} publishes the portal is processing (1 h each), default budget")
    conn = _portal("bench-lag-cancel", n, (3600.0, 3600.0), seed=31)
    uids = list(SandboxDataset.objects.filter(portal__name=conn.slug).order_by("id").values_list("uid", flat=True))
    job = job_create(kind="dataset.publish", actor=bench_user(), targets={conn: uids})
    for item_id in job.items.values_list("id", flat=True):
        engine.items_process([item_id])
    for _ in range(math.ceil(n / budget) + 5):  # everything read at least once: processing
        VIRTUAL[0] += tick
        for conn_id, ids in engine.poll_tick().items():
            engine.poll_batch(connection_id=conn_id, item_ids=ids)
    reset_request_log(conn.slug)
    started = VIRTUAL[0]
    job_cancel(job=job, actor=bench_user())
    progress = []
    while job.items.filter(status=ItemStatus.WAITING).exists():
        VIRTUAL[0] += tick
        batches = engine.poll_tick()
        for conn_id, ids in batches.items():
            engine.poll_batch(connection_id=conn_id, item_ids=ids, hint=batches.hints.get(conn_id, 0))
        job.refresh_from_db()
        progress.append(job.cancelled_count)
        if VIRTUAL[0] - started > timedelta(hours=1):
            raise RuntimeError("the cancel did not end")
    seconds = (VIRTUAL[0] - started).total_seconds()
    aborts = request_counts(conn.slug, method="POST", path_contains="/abort/")
    requests = request_counts(conn.slug)
    bound = math.ceil(n / budget) * tick.total_seconds()
    before = math.ceil(2 * n / budget) * tick.total_seconds()  # abort + read per item (the engine before issue 23)
    job.refresh_from_db()
    print(f"  all ended after {seconds:.0f} s (aborts sent {aborts}, requests {requests}); the budget allows {n} "
          f"requests in {bound:.0f} s: {'OK' if seconds <= bound else 'MISSED'}; an abort and a read per item "
          f"would take {before:.0f} s ({seconds / before:.2f}x). Job {job.status}, {job.cancelled_count} cancelled; "
          f"the job page showed progress at every tick (cancelled counts: "
          f"{', '.join(str(c) for c in progress[:3])} … {progress[-1]})")
    return {"seconds": seconds, "bound": bound, "aborts": aborts, "requests": requests}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    parser.add_argument("--mix", type=int, default=max(10, round(200 * scale)))
    parser.add_argument("--scale", type=int, default=max(20, round(1000 * scale)))
    parser.add_argument("--send-rate", type=float, default=25.0)
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--parts", default="ABCD", help="which scenarios to run (e.g. B)")
    parser.add_argument("--catalogue", type=int, default=max(2000, round(5000 * scale)),
                        help="D: datasets on the big portal (the job's --mix of them spread over its list)")
    parser.add_argument("--quiet-list", action="store_true",
                        help="B on a portal whose list never shows the end of processing (updated_at not moved)")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-lag-")
    redis_url, database_url = stack_urls()
    django_for_stack(tmp, redis_url=redis_url, database_url=database_url)
    from django.core.cache import cache
    from django.db import connection as db

    # The engine keeps its hint and watch stamps in the cache, on the virtual clock: an earlier run's (hours of
    # virtual time ahead) would hold this run's hints back. The bench's Redis db is its own (README).
    cache.clear()
    _virtual_clock()
    print(f"database {db.vendor}; cache {'Redis' if redis_url else 'files'}; virtual clock, in-process sandbox")
    t0 = time.monotonic()
    if "A" in args.parts:
        scenario_mix(args.mix)
    if not args.skip_scale and "B" in args.parts:
        scenario_scale(args.scale, args.send_rate, quiet_list=args.quiet_list)
    if not args.skip_scale and "C" in args.parts:
        scenario_cancel(args.scale)
    if "D" in args.parts:
        scenario_big_list(args.mix, args.catalogue)
    print(f"\n({time.monotonic() - t0:.0f} s of real time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
