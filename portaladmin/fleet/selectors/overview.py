"""The overview: cards with their figures (aggregate queries over every connection) and the watchdog."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection as db
from django.db.models import Count, Max, Min, Q
from django.urls import reverse
from django.utils import timezone

from portaladmin.audit.models import AuditEvent
from portaladmin.core.db import marks
from portaladmin.datasets.models import BUSY_STATUSES, DatasetSnapshot
from portaladmin.fleet.models import HARVESTER_BUSY, HarvesterRefresh, HarvesterSnapshot
from portaladmin.jobs.models import JOB_ACTIVE, Job, JobStatus
from portaladmin.portals.models import Connection, Role
from portaladmin.portals.permissions import connections_visible_to, role_for

JOB_FAILED = (JobStatus.FAILED, JobStatus.PARTIALLY_FAILED)


# --- links to the filtered lists of other apps ------------------------------------------------------
# The datasets list reads q / status / published / restricted from the query string (datasets.forms).
def dataset_list_url(connection: Connection, *, base: str = "", **filters: str) -> str:
    """`base`: the list's URL already reversed for this connection (the overview reverses it once per card)."""
    url = base or reverse("datasets:list", kwargs={"conn": connection.slug})
    query = {k: v for k, v in filters.items() if v not in (None, "")}
    return f"{url}?{urlencode(query)}" if query else url


def jobs_list_url(connection: Connection | None = None, *, base: str = "", **filters: str) -> str:
    query = {"connection": connection.slug} if connection else {}
    query.update({k: v for k, v in filters.items() if v not in (None, "")})
    base = base or reverse("jobs:list")
    return f"{base}?{urlencode(query)}" if query else base


def harvester_board_url(connection: Connection | None = None, *, base: str = "", **filters: str) -> str:
    query = {"connection": connection.slug} if connection else {}
    query.update({k: v for k, v in filters.items() if v not in (None, "")})
    base = base or reverse("fleet:harvesters")
    return f"{base}?{urlencode(query)}" if query else base


# --- the overview ---------------------------------------------------------------------------------
@dataclass
class Figure:
    label: str
    value: int | None
    url: str
    tone: str = ""  # a badge class when the figure needs attention (error, warning)


@dataclass
class Card:
    connection: Connection
    role: Role | None
    datasets: dict
    harvesters: dict
    jobs: dict
    last_event: AuditEvent | None
    figures: list[Figure] = field(default_factory=list)
    unchecked_url: str = ""  # the datasets whose status the scan has not read yet
    job_figures: list[Figure] = field(default_factory=list)
    unknown_reason: str = ""  # why the dataset figures are dashes (never synced: key refused, unreachable …)
    list_url: str = ""  # the connection's datasets list (the card's title)
    activity_url: str = ""  # the activity log filtered to the connection
    html: str = ""  # the card as the overview shows it (fleet.cards.card_html, set by the view)

    @property
    def running_jobs(self) -> int:
        return sum(self.jobs.get(s, 0) for s in (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.WAITING))

    @property
    def failed_jobs(self) -> int:
        return sum(self.jobs.get(s, 0) for s in JOB_FAILED)

    @property
    def synced_at(self) -> datetime | None:
        return self.datasets.get("synced_at")


def dataset_figures(*, connections) -> dict[int, dict]:
    """Per connection id: total, published, unpublished, error, busy, processing, limit_reached, unknown, synced_at.

    Read from the counts the snapshot's triggers keep (fleet.counts): the same figures as `dataset_figures_recount`
    without reading the snapshot rows, so the 15-second refresh costs the same at 200 or 200,000 datasets.
    """
    from portaladmin.fleet.counts import dataset_counts

    return dataset_counts(connections=connections)


def dataset_figures_recount(*, connections) -> dict[int, dict]:
    """The same figures counted from the snapshot rows (one aggregate query; what the counts must always equal)."""
    rows = (DatasetSnapshot.objects.filter(connection__in=connections).order_by().values("connection_id")
            .annotate(total=Count("id"),
                      published=Count("id", filter=Q(is_published=True)),
                      unpublished=Count("id", filter=Q(is_published=False)),
                      error=Count("id", filter=Q(status="error")),
                      busy=Count("id", filter=Q(status__in=BUSY_STATUSES)),
                      limit_reached=Count("id", filter=Q(status="limit_reached")),
                      unknown=Count("id", filter=Q(status="unknown")),
                      # how complete the status knowledge is (the status scan's progress)
                      checked=Count("id", filter=Q(status_checked_at__isnull=False)),
                      oldest_check=Min("status_checked_at"),
                      synced_at=Max("synced_at")))
    return {row.pop("connection_id"): row for row in rows}


def harvester_figures(*, connections) -> dict[int, dict]:
    """Per connection id: total, with_errors, running (one statement) plus the refresh state (one statement).

    Written as SQL, like the other figures the overview reads every 15 s: the ORM's spelling cost several times the
    database's time to build."""
    ids = [int(c.pk) for c in connections]
    if not ids:
        return {}
    table = HarvesterSnapshot._meta.db_table
    sql = (f"SELECT connection_id, COUNT(*), "  # noqa: S608  # nosec B608 - the model's table, int ids
           f"SUM(CASE WHEN has_error OR resource_errors_count > 0 THEN 1 ELSE 0 END), "
           f"SUM(CASE WHEN status IN ({marks(HARVESTER_BUSY)}) THEN 1 ELSE 0 END) "
           f"FROM {table} WHERE connection_id IN ({marks(ids)}) GROUP BY connection_id")
    with db.cursor() as cursor:
        cursor.execute(sql, [*HARVESTER_BUSY, *ids])
        result = {conn_id: {"total": total, "with_errors": int(errors or 0), "running": int(running or 0)}
                  for conn_id, total, errors, running in cursor.fetchall()}
    refreshes = HarvesterRefresh.objects.raw(
        f"SELECT * FROM {HarvesterRefresh._meta.db_table} WHERE connection_id IN ({marks(ids)})", ids)  # noqa: S608  # nosec B608
    for ref in refreshes:
        entry = result.setdefault(ref.connection_id, {"total": 0, "with_errors": 0, "running": 0})
        entry["refreshed_at"] = ref.ok_at
        entry["refresh_error"] = ref.error
    return result


JOB_FIGURES = ((JobStatus.PENDING, "pending"), (JobStatus.RUNNING, "running"),
               (JobStatus.WAITING, "waiting for the portal"), (JobStatus.FAILED, "failed"),
               (JobStatus.PARTIALLY_FAILED, "partly failed"))


def job_figures(*, user, connections) -> dict[int, dict]:
    """Per connection id: {status: n} for active and failed jobs, counted over the jobs the user may see.

    The jobs list (jobs.selectors.job_list) shows a job only when the user sees every connection of it and
    filters one status at a time, so each figure counts exactly what its link lists (the same rule, tested
    against job_list). One statement, written as SQL: built through the ORM with job_list as a subquery, it cost
    ~8 ms of CPU per overview refresh, several times the database's time for it.
    """
    from portaladmin.jobs.selectors import job_visibility_sql

    ids = [int(c.pk) for c in connections]
    visibility = job_visibility_sql(user)
    if not ids or visibility is None:
        return {}
    links, jobs = Job.connections.through._meta.db_table, Job._meta.db_table
    statuses = [str(s) for s, _ in JOB_FIGURES]
    sql = (f"SELECT l.connection_id, j.status, COUNT(*) FROM {links} l "  # noqa: S608  # nosec B608 - model tables
           f"INNER JOIN {jobs} j ON j.id = l.job_id WHERE l.connection_id IN ({marks(ids)}) "
           f"AND j.status IN ({marks(statuses)}){visibility[0]} GROUP BY l.connection_id, j.status")
    params = [*ids, *statuses, *visibility[1]]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result: dict[int, dict] = {}
    for conn_id, status, n in rows:
        result.setdefault(conn_id, {})[status] = n
    return result


def last_events(*, connections) -> dict[int, AuditEvent]:
    """The latest audit event of each connection (one statement)."""
    ids = [int(c.pk) for c in connections]
    if not ids:
        return {}
    table = AuditEvent._meta.db_table
    events = AuditEvent.objects.raw(
        f"SELECT * FROM {table} WHERE id IN (SELECT MAX(id) FROM {table} "  # noqa: S608  # nosec B608
        f"WHERE connection_id IN ({marks(ids)}) GROUP BY connection_id)", ids)
    return {e.connection_id: e for e in events}


def _unknown_reason(conn: Connection) -> str:
    if conn.health in ("ok", "unknown"):
        return "The catalogue has not been synced yet."
    reason = f"{conn.get_health_display()}: {conn.health_message}" if conn.health_message else conn.get_health_display()
    return f"Datasets unknown ({reason})."


def overview_cards(*, user) -> list[Card]:
    connections = list(connections_visible_to(user).order_by("name", "pk"))
    if not connections:
        return []
    datasets = dataset_figures(connections=connections)
    harvesters = harvester_figures(connections=connections)
    jobs = job_figures(user=user, connections=connections)
    events = last_events(connections=connections)
    from portaladmin.datasets.services.extras import feedback_counts

    feedback = feedback_counts(connections=connections)  # counted on the portal by the datasets app (one query)
    # Reversing is the costly part of a URL (~0.2 ms each, ~100 per poll of 10 cards): once per name, or per card
    jobs_base, harvesters_base, audit_base = reverse("jobs:list"), reverse("fleet:harvesters"), reverse("audit:list")
    cards = []
    for conn in connections:
        list_base = reverse("datasets:list", kwargs={"conn": conn.slug})

        def ds_url(conn=conn, list_base=list_base, **filters):
            return dataset_list_url(conn, base=list_base, **filters)

        # Never synced: the figures are unknown (a dash with the reason), not "0 datasets".
        ds = datasets.get(conn.pk) or {"total": None, "published": None, "unpublished": None, "error": None,
                                       "busy": None, "limit_reached": None, "unknown": 0, "checked": 0,
                                       "oldest_check": None, "synced_at": None}
        hv = harvesters.get(conn.pk) or {"total": 0, "with_errors": 0, "running": 0}
        jb = jobs.get(conn.pk) or {}
        card = Card(connection=conn, role=role_for(user, conn), datasets=ds, harvesters=hv, jobs=jb,
                    last_event=events.get(conn.pk), list_url=list_base,
                    activity_url=f"{audit_base}?{urlencode({'connection': conn.slug})}")
        if ds["total"] is None:
            card.unknown_reason = _unknown_reason(conn)
        card.figures = [
            Figure("datasets", ds["total"], ds_url()),
            Figure("published", ds["published"], ds_url(published="yes")),
            Figure("unpublished", ds["unpublished"], ds_url(published="no")),
            Figure("in error", ds["error"], ds_url(status="error"), "error" if ds["error"] else ""),
            Figure("processing", ds["busy"], ds_url(status="busy"), "processing" if ds["busy"] else ""),
            Figure("limit reached", ds["limit_reached"], ds_url(status="limit_reached"),
                   "limit_reached" if ds["limit_reached"] else ""),
            Figure("harvesters with errors", hv["with_errors"],
                   harvester_board_url(conn, base=harvesters_base, health="errors"),
                   "error" if hv["with_errors"] else ""),
            Figure("open feedback", (feedback.get(conn.pk) or {}).get("open"),
                   reverse("datasets:feedback_all", kwargs={"conn": conn.slug})),
        ]
        card.unchecked_url = ds_url(status="unknown")
        card.job_figures = [Figure(label, jb.get(status, 0), jobs_list_url(conn, base=jobs_base, status=status), status)
                            for status, label in JOB_FIGURES if jb.get(status)]
        cards.append(card)
    return cards


def watchdog_minutes() -> int:
    return int(settings.WATCHDOG_BUSY_MINUTES)


# --- the watchdog -----------------------------------------------------------------------------------
@dataclass
class Watchdog:
    threshold_minutes: int
    datasets: list[DatasetSnapshot]
    harvesters: list[HarvesterSnapshot]
    stuck_jobs: list[Job]
    failed_jobs: list[Job]

    @property
    def empty(self) -> bool:
        return not (self.datasets or self.harvesters or self.stuck_jobs or self.failed_jobs)


def watchdog(*, user, now: datetime | None = None, limit: int = 50, connections=None) -> Watchdog:
    """Datasets and harvesters busy longer than WATCHDOG_BUSY_MINUTES, jobs past their deadline, recent failures.

    `connections`: the user's visible connections when the caller already has them (the overview's cards): the
    rows then take their .connection from them instead of a join, and no query asks for them again.
    """
    now = now or timezone.now()
    minutes = watchdog_minutes()
    since = now - timedelta(minutes=minutes)
    if connections is None:
        connections = connections_visible_to(user)
    by_pk = {c.pk: c for c in connections}
    datasets, harvesters = _watchdog_snapshots(list(by_pk), since=since, limit=limit) if by_pk else ([], [])
    for row in datasets + harvesters:
        row.connection = by_pk[row.connection_id]
    stuck, failed = _watchdog_jobs(user=user, now=now, limit=limit)
    return Watchdog(threshold_minutes=minutes, datasets=datasets, harvesters=harvesters, stuck_jobs=stuck,
                    failed_jobs=failed)


def _watchdog_snapshots(ids: list[int], *, since: datetime, limit: int) -> tuple[list, list]:
    """The datasets and harvesters of these connections busy since before `since`, oldest first, `limit` each.

    Busy since: status_since, or the last status read when the portal gave no since. As one expression (the same
    rows as status_since < since OR (status_since IS NULL AND status_checked_at < since)), it is a range of the
    partial index snapshot_conn_busy_since instead of a recheck of every busy row. Written as SQL (the overview's
    15-s poll: the ORM took longer to build these than the database to run them).
    """
    datasets = list(DatasetSnapshot.objects.raw(
        f"SELECT * FROM {DatasetSnapshot._meta.db_table} WHERE connection_id IN ({marks(ids)}) "  # noqa: S608  # nosec B608
        f"AND status IN ({marks(BUSY_STATUSES)}) AND COALESCE(status_since, status_checked_at) < %s "
        f"ORDER BY status_since, id LIMIT %s", [*ids, *BUSY_STATUSES, since, limit]))
    harvesters = list(HarvesterSnapshot.objects.raw(
        f"SELECT * FROM {HarvesterSnapshot._meta.db_table} WHERE connection_id IN ({marks(ids)}) "  # noqa: S608  # nosec B608
        f"AND status IN ({marks(HARVESTER_BUSY)}) AND COALESCE(last_started_at, status_seen_at) < %s "
        f"ORDER BY COALESCE(last_started_at, status_seen_at), id LIMIT %s", [*ids, *HARVESTER_BUSY, since, limit]))
    return datasets, harvesters


def _watchdog_jobs(*, user, now: datetime, limit: int) -> tuple[list[Job], list[Job]]:
    """(jobs past their deadline or marked stuck, deadline first; jobs that failed in the last 24 hours and were not
    retried, newest first), at most `limit` each, among the jobs the user may see (job_list's rule).

    One statement for both lists (each ranked in its own order), plus one for the jobs' connections when there are
    rows: the rows show title, status and counts, and cancel/retry asks the job's connections. Through the ORM the
    two queries, each with job_list's rule as subqueries, cost ~9 ms of CPU on every overview refresh.
    """
    from portaladmin.jobs.selectors import job_visibility_sql

    visibility = job_visibility_sql(user)
    if visibility is None:
        return [], []
    rule, rule_params = visibility
    table = Job._meta.db_table
    active, failed = [str(s) for s in JOB_ACTIVE], [str(s) for s in JOB_FAILED]

    stuck_sql = (f"SELECT j.*, 0 AS watch_list, ROW_NUMBER() OVER (ORDER BY j.deadline, j.id) AS watch_rank "  # noqa: S608  # nosec B608
                 f"FROM {table} j WHERE j.status IN ({marks(active)}) AND (j.deadline < %s OR j.stuck_at IS NOT NULL)"
                 f"{rule} ORDER BY j.deadline, j.id LIMIT %s")
    failed_sql = (f"SELECT j.*, 1 AS watch_list, "  # noqa: S608  # nosec B608
                  f"ROW_NUMBER() OVER (ORDER BY j.finished_at DESC, j.id DESC) AS watch_rank "
                  f"FROM {table} j WHERE j.status IN ({marks(failed)}) AND j.failed_count > 0 AND j.finished_at >= %s "
                  f"AND NOT EXISTS (SELECT 1 FROM {table} r WHERE r.retry_of_id = j.id)"
                  f"{rule} ORDER BY j.finished_at DESC, j.id DESC LIMIT %s")
    sql = (f"SELECT * FROM ({stuck_sql}) stuck UNION ALL SELECT * FROM ({failed_sql}) failed "  # noqa: S608  # nosec B608
           f"ORDER BY watch_list, watch_rank")
    params = [*active, now, *rule_params, limit, *failed, now - timedelta(hours=24), *rule_params, limit]
    rows = list(Job.objects.raw(sql, params).prefetch_related("connections"))
    return [j for j in rows if j.watch_list == 0], [j for j in rows if j.watch_list == 1]
