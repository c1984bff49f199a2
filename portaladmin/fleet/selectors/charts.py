"""The overview's charts: plain numbers (one aggregate query each) that the page embeds with json_script and
app.js draws with Chart.js; the same numbers are rendered as tables for screen readers."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import dateformat, timezone

from portaladmin.datasets.models import BUSY_STATUSES, DatasetSnapshot
from portaladmin.jobs.models import JobStatus

# The stacks of the dataset chart, in drawing order: key, label, the snapshot statuses it counts.
DATASET_STATUS_GROUPS = (
    ("idle", "Idle", ("idle",)),
    ("busy", "Processing", BUSY_STATUSES),
    ("error", "Error", ("error",)),
    ("limit_reached", "Limit reached", ("limit_reached",)),
    ("unknown", "Not checked yet", ("unknown",)),
)
JOB_OUTCOME_GROUPS = (
    ("succeeded", "Succeeded", (JobStatus.SUCCEEDED,)),
    ("failed", "Failed or partly failed", (JobStatus.FAILED, JobStatus.PARTIALLY_FAILED)),
    ("other", "Running or cancelled", (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.WAITING, JobStatus.CANCELLED)),
)
JOB_CHART_DAYS = 30


def _chart(groups, counts: dict, labels: list[str], **extra) -> dict:
    """One series per group, a number per label; `counts` maps (group key, label index) to a number.
    `rows` holds the same numbers by label, for the table that screen readers read."""
    series = [{"key": key, "label": label, "values": [counts.get((key, i), 0) for i in range(len(labels))]}
              for key, label, _ in groups]
    rows = [[label, *(s["values"][i] for s in series)] for i, label in enumerate(labels)]
    return {"labels": labels, "series": series, "rows": rows, "total": sum(counts.values()), **extra}


def dataset_status_chart(*, connections) -> dict:
    """Per connection (in the given order), its datasets by processing status. One query."""
    connections = list(connections)
    column = {c.pk: i for i, c in enumerate(connections)}
    group_of = {status: key for key, _, statuses in DATASET_STATUS_GROUPS for status in statuses}
    counts: dict = {}
    rows = (DatasetSnapshot.objects.filter(connection__in=connections).order_by()
            .values("connection_id", "status").annotate(n=Count("id")))
    for row in rows:
        cell = (group_of.get(row["status"], "unknown"), column[row["connection_id"]])
        counts[cell] = counts.get(cell, 0) + row["n"]
    return _chart(DATASET_STATUS_GROUPS, counts, [c.name for c in connections])


def jobs_per_day_chart(*, jobs, now: datetime | None = None, days: int = JOB_CHART_DAYS) -> dict:
    """The last `days` days (today included, in the current time zone): jobs started each day by outcome.

    `jobs` is the queryset of the jobs the person may see (jobs.selectors.job_list). One query."""
    today = timezone.localdate(now or timezone.now())
    first = today - timedelta(days=days - 1)
    column = {first + timedelta(days=i): i for i in range(days)}
    group_of = {status: key for key, _, statuses in JOB_OUTCOME_GROUPS for status in statuses}
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    rows = (jobs.model.objects.filter(pk__in=jobs.order_by().values("pk"), created_at__gte=start).order_by()
            .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
            .values("day", "status").annotate(n=Count("id")))
    counts: dict = {}
    for row in rows:
        day: date = row["day"]
        if day in column:
            cell = (group_of.get(row["status"], "other"), column[day])
            counts[cell] = counts.get(cell, 0) + row["n"]
    return _chart(JOB_OUTCOME_GROUPS, counts, [dateformat.format(d, "j M") for d in column],
                  dates=[d.isoformat() for d in column],
                  failed=sum(n for (key, _), n in counts.items() if key == "failed"))


# --- publish durations, harvester runs -------------------------------------------------------------
DURATION_GROUPS = (("median", "Median", ()), ("p95", "95th percentile", ()))
HARVEST_GROUPS = (
    ("succeeded", "Succeeded", ()),
    ("with_errors", "Ran with errors", ()),
    ("failed", "Failed otherwise", ()),
)
DURATION_SAMPLE = 5000  # the most recent publish items read per chart: enough for a stable p95


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values: the smallest value with at least `fraction` of them at or below."""
    if not values:
        return 0.0
    rank = min(len(values), max(1, math.ceil(round(fraction * len(values), 9))))
    return values[rank - 1]


def publish_duration_chart(*, jobs, connections, now: datetime | None = None, days: int = JOB_CHART_DAYS) -> dict:
    """Per connection: median and 95th percentile, in seconds, of how long a publish took — from the send to the
    portal's final state, as the jobs recorded it (each succeeded dataset.publish item of the last `days` days).
    `jobs` is the queryset of the jobs the person may see. One query."""
    from portaladmin.jobs.models import ItemStatus, JobItem

    connections = list(connections)
    column = {c.pk: i for i, c in enumerate(connections)}
    since = (now or timezone.now()) - timedelta(days=days)
    rows = (JobItem.objects.filter(job__in=jobs.order_by().values("pk"), job__kind="dataset.publish",
                                   status=ItemStatus.SUCCEEDED, connection__in=connections, finished_at__gte=since)
            .exclude(sent_at__isnull=True).order_by("-finished_at")
            .values_list("connection_id", "sent_at", "finished_at")[:DURATION_SAMPLE])
    durations: dict[int, list[float]] = {}
    for connection_id, sent_at, finished_at in rows:
        durations.setdefault(connection_id, []).append(max(0.0, (finished_at - sent_at).total_seconds()))
    counts: dict = {}
    samples = [0] * len(connections)
    for connection_id, values in durations.items():
        values.sort()
        i = column[connection_id]
        samples[i] = len(values)
        counts[("median", i)] = round(percentile(values, 0.5), 1)
        counts[("p95", i)] = round(percentile(values, 0.95), 1)
    chart = _chart(DURATION_GROUPS, counts, [c.name for c in connections])
    chart["samples"] = samples
    chart["total"] = sum(samples)  # "no data" means no publish measured, whatever the seconds add up to
    chart["rows"] = [[*row, samples[i]] for i, row in enumerate(chart["rows"])]
    chart["extra_column"] = "Publishes measured"
    return chart


def harvester_runs_chart(*, jobs, now: datetime | None = None, days: int = JOB_CHART_DAYS) -> dict:
    """The last `days` days: harvester runs started from portaladmin that ended each day — succeeded, ran with
    errors (the portal's has_error), or failed otherwise (refused, no final state in time). One query."""
    from portaladmin.jobs.models import ItemStatus, JobItem

    today = timezone.localdate(now or timezone.now())
    first = today - timedelta(days=days - 1)
    column = {first + timedelta(days=i): i for i in range(days)}
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    rows = (JobItem.objects.filter(job__in=jobs.order_by().values("pk"), job__kind="harvester.start",
                                   status__in=(ItemStatus.SUCCEEDED, ItemStatus.FAILED), finished_at__gte=start)
            .order_by().values_list("finished_at", "status", "details"))
    counts: dict = {}
    for finished_at, status, details in rows:
        day = timezone.localdate(finished_at)
        if day not in column:
            continue
        if status == ItemStatus.SUCCEEDED:
            key = "succeeded"
        elif isinstance(details, dict) and details.get("has_error") is True:
            key = "with_errors"
        else:
            key = "failed"
        counts[(key, column[day])] = counts.get((key, column[day]), 0) + 1
    return _chart(HARVEST_GROUPS, counts, [dateformat.format(d, "j M") for d in column],
                  dates=[d.isoformat() for d in column],
                  failed=sum(n for (key, _), n in counts.items() if key != "succeeded"))


# --- one job's items over time ---------------------------------------------------------------------
JOB_ITEM_GROUPS = (
    ("succeeded", "Succeeded", ()),
    ("failed", "Failed", ()),
    ("cancelled", "Cancelled", ()),
    ("running", "Sent, in progress", ()),
    ("pending", "Not sent yet", ()),
)
TIMELINE_POINTS = 24


FINAL_ITEM_STATES = ("succeeded", "failed", "cancelled")


def job_timeline_chart(*, job, now: datetime | None = None, points: int = TIMELINE_POINTS) -> dict:
    """A job's items by state at `points` moments from its creation to its end (or now), rebuilt from each item's
    own times: not sent before its first send (started_at), in progress until finished_at, then its final
    status. One aggregate query (a few counts per moment): the job page reads it at every 2-s progress poll while
    the job runs, so a job of 20,000 items must not bring 20,000 rows into Python each time."""
    end = job.finished_at or now or timezone.now()
    begin = job.created_at
    span = max((end - begin).total_seconds(), 1.0)
    moments = [begin + timedelta(seconds=span * (i + 1) / points) for i in range(points)]
    counting = {"total": Count("pk")}
    for i, moment in enumerate(moments):
        ended = Q(finished_at__lte=moment, status__in=FINAL_ITEM_STATES)
        for state in FINAL_ITEM_STATES:
            counting[f"{state}_{i}"] = Count("pk", filter=Q(finished_at__lte=moment, status=state))
        counting[f"sent_{i}"] = Count("pk", filter=Q(started_at__lte=moment))
        counting[f"sent_ended_{i}"] = Count("pk", filter=Q(started_at__lte=moment) & ended)
    numbers = job.items.order_by().aggregate(**counting)
    total = numbers["total"]
    counts: dict = {}
    for i in range(points):
        final = {state: numbers[f"{state}_{i}"] for state in FINAL_ITEM_STATES}
        running = numbers[f"sent_{i}"] - numbers[f"sent_ended_{i}"]  # sent, and not ended by then
        counts.update({(state, i): n for state, n in final.items()})
        counts[("running", i)] = running
        counts[("pending", i)] = total - sum(final.values()) - running
    chart = _chart(JOB_ITEM_GROUPS, counts, [_moment_label(m, begin, span) for m in moments])
    chart["total"] = total
    return chart


def _moment_label(moment: datetime, begin: datetime, span: float) -> str:
    """Elapsed time since the job started: "+45 s", "+12 min", "+3 h" (the x axis of the job chart)."""
    seconds = (moment - begin).total_seconds()
    if span <= 2.5 * TIMELINE_POINTS:  # moments under ~2 s apart: whole seconds would repeat ("+3 s", "+3 s")
        return f"+{seconds:.1f} s"
    if span <= 120:
        return f"+{seconds:.0f} s"
    if span <= 2 * 3600:
        if seconds < 60:
            return f"+{seconds:.0f} s"
        return f"+{seconds / 60:.1f} min" if span < 1200 else f"+{seconds / 60:.0f} min"
    return f"+{seconds / 3600:.1f} h"
