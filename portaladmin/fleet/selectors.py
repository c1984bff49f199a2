"""Reads for the fleet pages: the overview cards, the watchdog, the boards and the person look-up.

Everything except person_lookup() reads the local database only (catalogue snapshots, harvester snapshots,
jobs, audit): the overview refreshes every 15 s and must never wait for a portal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, Q, QuerySet, Window
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from portaladmin.audit.models import AuditEvent
from portaladmin.datasets.models import BUSY_STATUSES, DatasetSnapshot
from portaladmin.datasets.selectors import snapshot_list_across
from portaladmin.fleet.models import HARVESTER_BUSY, HarvesterRefresh, HarvesterSnapshot
from portaladmin.fleet.parallel import Outcome, fan_out
from portaladmin.jobs.models import JOB_ACTIVE, Job, JobStatus
from portaladmin.portals.models import Connection, Role
from portaladmin.portals.permissions import connections_visible_to, role_for

JOB_FAILED = (JobStatus.FAILED, JobStatus.PARTIALLY_FAILED)


# --- links to the filtered lists of other apps ------------------------------------------------------
# The datasets list reads q / status / published / restricted from the query string (datasets.forms).
def dataset_list_url(connection: Connection, **filters: str) -> str:
    url = reverse("datasets:list", kwargs={"conn": connection.slug})
    query = {k: v for k, v in filters.items() if v not in (None, "")}
    return f"{url}?{urlencode(query)}" if query else url


def jobs_list_url(connection: Connection | None = None, **filters: str) -> str:
    query = {"connection": connection.slug} if connection else {}
    query.update({k: v for k, v in filters.items() if v not in (None, "")})
    return f"{reverse('jobs:list')}?{urlencode(query)}" if query else reverse("jobs:list")


def harvester_board_url(connection: Connection | None = None, **filters: str) -> str:
    query = {"connection": connection.slug} if connection else {}
    query.update({k: v for k, v in filters.items() if v not in (None, "")})
    return f"{reverse('fleet:harvesters')}?{urlencode(query)}" if query else reverse("fleet:harvesters")


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
    job_figures: list[Figure] = field(default_factory=list)

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

    One aggregate query for every connection (never one per card).
    """
    rows = (DatasetSnapshot.objects.filter(connection__in=connections).order_by().values("connection_id")
            .annotate(total=Count("id"),
                      published=Count("id", filter=Q(is_published=True)),
                      unpublished=Count("id", filter=Q(is_published=False)),
                      error=Count("id", filter=Q(status="error")),
                      busy=Count("id", filter=Q(status__in=BUSY_STATUSES)),
                      limit_reached=Count("id", filter=Q(status="limit_reached")),
                      unknown=Count("id", filter=Q(status="unknown")),
                      synced_at=Max("synced_at")))
    return {row.pop("connection_id"): row for row in rows}


def harvester_figures(*, connections) -> dict[int, dict]:
    """Per connection id: total, with_errors, running (one query) plus the refresh state (one query)."""
    rows = (HarvesterSnapshot.objects.filter(connection__in=connections).order_by().values("connection_id")
            .annotate(total=Count("id"),
                      with_errors=Count("id", filter=Q(has_error=True) | Q(resource_errors_count__gt=0)),
                      running=Count("id", filter=Q(status__in=HARVESTER_BUSY))))
    result = {row.pop("connection_id"): row for row in rows}
    for ref in HarvesterRefresh.objects.filter(connection__in=connections):
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
    filters one status at a time, so each figure counts exactly what its link lists. One query.
    """
    from portaladmin.jobs.selectors import job_list

    visible_jobs = job_list(user=user).order_by().values("pk")
    through = Job.connections.through
    statuses = [s for s, _ in JOB_FIGURES]
    rows = (through.objects.filter(connection__in=connections, job__in=visible_jobs, job__status__in=statuses)
            .order_by().values("connection_id", "job__status").annotate(n=Count("job_id", distinct=True)))
    result: dict[int, dict] = {}
    for row in rows:
        result.setdefault(row["connection_id"], {})[row["job__status"]] = row["n"]
    return result


def last_events(*, connections) -> dict[int, AuditEvent]:
    """The latest audit event of each connection (two queries in all)."""
    ids = (AuditEvent.objects.filter(connection__in=connections).order_by().values("connection_id")
           .annotate(last=Max("id")).values_list("last", flat=True))
    return {e.connection_id: e for e in AuditEvent.objects.filter(id__in=list(ids))}


def overview_cards(*, user) -> list[Card]:
    connections = list(connections_visible_to(user).order_by("name", "pk"))
    if not connections:
        return []
    datasets = dataset_figures(connections=connections)
    harvesters = harvester_figures(connections=connections)
    jobs = job_figures(user=user, connections=connections)
    events = last_events(connections=connections)
    cards = []
    for conn in connections:
        ds = datasets.get(conn.pk) or {"total": 0, "published": 0, "unpublished": 0, "error": 0, "busy": 0,
                                       "limit_reached": 0, "unknown": 0, "synced_at": None}
        hv = harvesters.get(conn.pk) or {"total": 0, "with_errors": 0, "running": 0}
        jb = jobs.get(conn.pk) or {}
        card = Card(connection=conn, role=role_for(user, conn), datasets=ds, harvesters=hv, jobs=jb,
                    last_event=events.get(conn.pk))
        card.figures = [
            Figure("datasets", ds["total"], dataset_list_url(conn)),
            Figure("published", ds["published"], dataset_list_url(conn, published="yes")),
            Figure("unpublished", ds["unpublished"], dataset_list_url(conn, published="no")),
            Figure("in error", ds["error"], dataset_list_url(conn, status="error"), "error" if ds["error"] else ""),
            Figure("processing", ds["busy"], dataset_list_url(conn, status="busy"),
                   "processing" if ds["busy"] else ""),
            Figure("limit reached", ds["limit_reached"], dataset_list_url(conn, status="limit_reached"),
                   "limit_reached" if ds["limit_reached"] else ""),
            Figure("harvesters with errors", hv["with_errors"], harvester_board_url(conn, health="errors"),
                   "error" if hv["with_errors"] else ""),
        ]
        card.job_figures = [Figure(label, jb.get(status, 0), jobs_list_url(conn, status=status), status)
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


def watchdog(*, user, now: datetime | None = None, limit: int = 50) -> Watchdog:
    """Datasets and harvesters busy longer than WATCHDOG_BUSY_MINUTES, jobs past their deadline, recent failures."""
    now = now or timezone.now()
    minutes = watchdog_minutes()
    since = now - timedelta(minutes=minutes)
    connections = connections_visible_to(user)
    datasets = list(DatasetSnapshot.objects.filter(connection__in=connections, status__in=BUSY_STATUSES)
                    .filter(Q(status_since__lt=since) | Q(status_since__isnull=True, status_checked_at__lt=since))
                    .select_related("connection").order_by("status_since", "pk")[:limit])
    harvesters = list(HarvesterSnapshot.objects.filter(connection__in=connections, status__in=HARVESTER_BUSY)
                      .annotate(since=Coalesce("last_started_at", "status_seen_at")).filter(since__lt=since)
                      .select_related("connection").order_by("since", "pk")[:limit])
    from portaladmin.jobs.selectors import job_list

    visible_jobs = job_list(user=user)
    stuck = list(visible_jobs.filter(status__in=JOB_ACTIVE).filter(Q(deadline__lt=now) | Q(stuck_at__isnull=False))
                 .select_related("connection", "started_by").prefetch_related("connections")
                 .order_by("deadline", "pk")[:limit])
    failed = list(visible_jobs.filter(status__in=JOB_FAILED, failed_count__gt=0, retries__isnull=True,
                                      finished_at__gte=now - timedelta(hours=24))
                  .select_related("connection", "started_by").prefetch_related("connections")
                  .order_by("-finished_at", "-pk")[:limit])
    return Watchdog(threshold_minutes=minutes, datasets=datasets, harvesters=harvesters, stuck_jobs=stuck,
                    failed_jobs=failed)


# --- the cross-portal dataset board ---------------------------------------------------------------------
def fleet_datasets(*, user, connection_slug: str = "", q: str = "", status: str = "",
                   published: bool | None = None, restricted: bool | None = None, sort: str = "dataset_id",
                   connections: list[Connection] | None = None) -> QuerySet[DatasetSnapshot]:
    """Every visible connection's snapshot in one searchable, filterable, sortable queryset.

    `connections`: the user's visible connections when the caller already has them (saves the subquery).
    """
    if connections is None:
        connections = list(connections_visible_to(user))
    connections = [c.pk for c in connections if not connection_slug or c.slug == connection_slug]
    return snapshot_list_across(connections=connections, q=q, published=published, status=status,
                                restricted=restricted, sort=sort)


BOARD_FIELDS = ("uid", "dataset_id", "title", "status", "status_message", "is_published", "is_restricted",
                "updated_at", "connection_id", "connection__slug", "connection__name", "connection__base_url")


def fleet_dataset_page(*, user, page: int | str = 1, per_page: int = 50, connections=None, **filters) -> Page:
    """One page of fleet_datasets() in two queries: the page's ids with the total (a window count), its rows.

    The sort runs over (sort keys, id) only, never whole rows, so a deep page of 10,000 rows stays cheap, and
    the total comes with the ids (COUNT(*) OVER ()), so the filter is evaluated once. Only the rows shown are
    then read, with their connection. A page past the end falls back to a count and the last page.
    """
    qs = fleet_datasets(user=user, connections=connections, **filters)
    try:
        number = max(1, int(page))
    except (TypeError, ValueError):
        number = 1
    ids_qs = qs.annotate(fleet_total=Window(Count("id"))).values_list("id", "fleet_total")
    found = list(ids_qs[(number - 1) * per_page:number * per_page])
    if found:
        count = found[0][1]
    else:
        count = qs.count() if number > 1 else 0
        if count:
            number = -(-count // per_page)
            found = list(ids_qs[(number - 1) * per_page:number * per_page])
    paginator = Paginator(qs.values_list("id", flat=True), per_page)
    paginator.__dict__["count"] = count  # Paginator.count is a cached_property: already counted
    ids = [row[0] for row in found]
    rows = {r.id: r for r in DatasetSnapshot.objects.filter(id__in=ids).select_related("connection")
            .only(*BOARD_FIELDS)} if ids else {}
    return Page([rows[i] for i in ids if i in rows], number, paginator)


# --- the harvester health board -------------------------------------------------------------------
HEALTH_FILTERS = ("errors", "running", "ok", "never")


def fleet_harvesters(*, user, connection_slug: str = "", health: str = "", q: str = "") -> list[HarvesterSnapshot]:
    connections = connections_visible_to(user)
    if connection_slug:
        connections = connections.filter(slug=connection_slug)
    qs = HarvesterSnapshot.objects.filter(connection__in=connections).select_related("connection")
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(uid__icontains=q) | Q(type__icontains=q))
    if health == "errors":
        qs = qs.filter(Q(has_error=True) | Q(resource_errors_count__gt=0))  # the overview's figure, exactly
    elif health == "running":
        qs = qs.filter(status__in=HARVESTER_BUSY)
    rows = list(qs.order_by("connection__name", "name", "uid"))
    if health in ("ok", "never"):
        rows = [r for r in rows if r.health == health]
    return rows


@dataclass
class ErrorGroup:
    message: str
    occurrences: int = 0  # resources (or harvester runs) with this message
    harvesters: list[HarvesterSnapshot] = field(default_factory=list)


def harvester_error_groups(rows: list[HarvesterSnapshot], *, limit: int = 50) -> list[ErrorGroup]:
    """The error messages of every harvester, grouped by text across connections, most frequent first."""
    groups: dict[str, ErrorGroup] = {}

    def add(message: str, harvester: HarvesterSnapshot, n: int = 1) -> None:
        text = (message or "").strip() or "(no message)"
        group = groups.setdefault(text, ErrorGroup(text))
        group.occurrences += n
        if harvester not in group.harvesters:
            group.harvesters.append(harvester)

    for row in rows:
        if row.error_message:
            add(row.error_message, row)
        for message in (row.resource_errors or {}).values():
            add(str(message), row)
        if row.has_error and not row.error_message and not row.resource_errors:
            add("The last run hit an error (no message from the portal).", row)
    return sorted(groups.values(), key=lambda g: (-g.occurrences, g.message))[:limit]


def harvester_refresh_states(*, user) -> list[HarvesterRefresh | Connection]:
    """One entry per visible connection: its HarvesterRefresh, or the Connection when never refreshed."""
    connections = list(connections_visible_to(user).order_by("name"))
    refs = {r.connection_id: r for r in HarvesterRefresh.objects.filter(connection__in=connections)}
    states = []
    for conn in connections:
        ref = refs.get(conn.pk) or HarvesterRefresh(connection=conn)
        ref.connection = conn
        states.append(ref)
    return states


# --- people across portals (remote, parallel and bounded) --------------------------------------------
@dataclass
class PersonMatch:
    username: str
    email: str
    name: str
    is_active: bool | None
    permissions: list[str]
    groups: list[dict]  # {"uid", "title"}
    last_seen_at: str | None


@dataclass
class PersonResult:
    connection: Connection
    role: Role | None
    matches: list[PersonMatch] = field(default_factory=list)
    error: str = ""

    @property
    def can_offboard(self) -> bool:
        return self.role == Role.ADMIN


def _matches(user, query: str) -> bool:
    q = query.strip().lower()
    return q in ((user.username or "").lower(), (user.email or "").lower())


def _lookup_one(query: str):
    def call(client) -> list[PersonMatch]:
        found = [u for u in client.user_list(search=query, limit=100) if _matches(u, query)]
        titles: dict[str, str] = {}
        if any(u.groups for u in found):
            try:
                titles = {g.uid: g.title for g in client.group_iter()}
            except Exception:  # noqa: BLE001 - titles are a nicety; uids still show
                titles = {}
        return [PersonMatch(username=u.username, email=u.email,
                            name=" ".join(p for p in (u.first_name, u.last_name) if p) or u.display_name,
                            is_active=u.is_active, permissions=sorted(u.permissions),
                            groups=[{"uid": g.get("uid", ""), "title": g.get("title") or titles.get(g.get("uid"), "")}
                                    for g in u.groups],
                            last_seen_at=u.last_seen_at) for u in found]
    return call


def person_lookup(*, user, query: str) -> list[PersonResult]:
    """Look a person up by e-mail or username on every visible connection at once (bounded, per-call timeout)."""
    connections = list(connections_visible_to(user).order_by("name", "pk"))
    outcomes: list[Outcome] = fan_out(connections, _lookup_one(query))
    return [PersonResult(connection=o.connection, role=role_for(user, o.connection), matches=o.value or [],
                         error=o.error) for o in outcomes]
