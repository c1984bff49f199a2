"""The overview's charts: plain numbers (one aggregate query each) that the page embeds with json_script and
app.js draws with Chart.js; the same numbers are rendered as tables for screen readers."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Count
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
