"""The cross-portal dataset board and the harvester health board (local snapshots only)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet, Window

from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.datasets.selectors import snapshot_list_across
from portaladmin.fleet.models import HARVESTER_BUSY, HarvesterRefresh, HarvesterSnapshot
from portaladmin.portals.models import Connection
from portaladmin.portals.permissions import connections_visible_to


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
