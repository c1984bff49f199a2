"""Reads of the catalogue snapshot (local database only: nothing here calls a portal).

Other apps (fleet overview, status boards) may call every function of this module.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.paginator import Page, Paginator
from django.db import connections, router
from django.db.models import Count, Max, Min, Q, QuerySet, Subquery
from django.utils import timezone

from portaladmin.datasets import lookups  # noqa: F401 - registers search__pairs_contains
from portaladmin.datasets.models import BUSY_STATUSES, CatalogueSync, DatasetSnapshot, StatusScan
from portaladmin.portals.models import Connection

# Sort keys accepted by snapshot_list (the list view offers the same ones). Ties break on id: SQLite indexes
# end with the rowid, so (connection, title) serves ORDER BY title, id without a sort step.
SORTS: dict[str, tuple[str, ...]] = {
    "dataset_id": ("dataset_id", "id"),
    "-dataset_id": ("-dataset_id", "-id"),
    "title": ("title", "id"),
    "-title": ("-title", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "status": ("status", "dataset_id", "id"),
    "-status": ("-status", "dataset_id", "id"),
}
# The columns a list row shows (the description and the search text stay on disk).
LIST_FIELDS = ("uid", "dataset_id", "title", "keywords", "status", "status_message", "status_checked_at",
               "is_published", "is_restricted", "updated_at", "connection_id", "late_at", "modified")
# Searches matching at most this many rows are read through the (connection, search) index, then sorted.
SMALL_MATCH = 500
DEFAULT_SORT = "dataset_id"

# Status filter values: every portal state, plus "busy" (any non-terminal state) and "unknown".
STATUS_FILTERS = ("idle", "queued", "processing", "aborting_processing", "deleting", "saving_version", "error",
                  "limit_reached", "busy", "unknown")


def search_text(*parts: object) -> str:
    """The lower-cased text the `search` column holds and the query is compared with (≤ 1000 characters)."""
    return " ".join(str(p) for p in parts if p).lower()[:1000]


def _filter(qs: QuerySet, *, q: str = "", published: bool | None = None, status: str = "",
            restricted: bool | None = None, late: bool | None = None) -> QuerySet:
    q = (q or "").strip().lower()
    if q:
        # `search` is already lower-cased: a plain LIKE, no LOWER()/UPPER() on every row.
        pairs = connections[router.db_for_read(DatasetSnapshot)].vendor == "postgresql"
        for word in q.split()[:5]:
            qs = qs.filter(search__contains=word)
            if pairs and len(word) == 2:  # no trigram in two characters: the doubled text's index narrows it
                qs = qs.filter(search__pairs_contains=word)
    if published is not None:
        qs = qs.filter(is_published=published)
    if status == "busy":
        qs = qs.filter(status__in=BUSY_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if restricted is not None:
        qs = qs.filter(is_restricted=restricted)
    if late is not None:  # late: its data is older than its expected update period allows (datasets.freshness)
        now = timezone.now()
        qs = qs.filter(late_at__lt=now) if late else qs.filter(Q(late_at__isnull=True) | Q(late_at__gte=now))
    return qs


def snapshot_list(*, connection: Connection, q: str = "", published: bool | None = None, status: str = "",
                  restricted: bool | None = None, sort: str = DEFAULT_SORT,
                  late: bool | None = None) -> QuerySet[DatasetSnapshot]:
    """The datasets of one connection, searched (dataset_id, title, keywords), filtered and sorted."""
    qs = _filter(DatasetSnapshot.objects.filter(connection=connection), q=q, published=published, status=status,
                 restricted=restricted, late=late)
    return qs.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


# "Apply to all matching the filter": at most this many datasets in one bulk action (a larger set is refused
# with a message rather than cut silently).
MATCHING_MAX = 5000


def snapshot_uids_matching(*, connection: Connection, querystring: str, limit: int = MATCHING_MAX) -> list[str]:
    """The uids of the datasets the list shows for its filter querystring ("q=…&status=error&freshness=late";
    `page` and unknown parameters are ignored, invalid values too, as on the list). Every bulk action offering
    "all matching the filter" sends that querystring in a hidden `matching` field and turns it into uids here.
    Returns at most `limit` + 1 uids, so that the caller can tell "more than the limit" and refuse."""
    from django.http import QueryDict

    from portaladmin.datasets.forms import (
        DatasetListForm,  # the list's own parsing (forms import this module)
    )

    filters = DatasetListForm(QueryDict(querystring or "")).filters()
    return list(snapshot_list(connection=connection, **filters).values_list("uid", flat=True)[: limit + 1])


def snapshot_page(*, connection: Connection, page: int | str = 1, per_page: int = 50, q: str = "",
                  published: bool | None = None, status: str = "", restricted: bool | None = None,
                  sort: str = DEFAULT_SORT, late: bool | None = None) -> Page:
    """One page of snapshot_list, in 2 or 3 queries whatever the filters (count, [matching ids], rows).

    A search that matches few rows is read through the (connection, search) index and then sorted, instead of
    walking the sort index row by row to find the few matches; a search that matches none reads no rows."""
    filtered = status or published is not None or restricted is not None or late is not None
    if q.strip() and filtered and connections[router.db_for_read(DatasetSnapshot)].vendor == "sqlite":
        # SQLite, search and other filters: match the words on the narrow (connection, search) index once, then
        # let the filter / sort indexes probe that id list by rowid (no table read for rows that do not match).
        # Not on PostgreSQL: with its statistics not yet gathered (the minute after a first catalogue sync),
        # its planner ran this as a nested loop re-scanning the subquery for every row, 25-60 s per page at
        # 10,000 rows; the plain conditions use the trigram and filter indexes together whatever the statistics.
        matching = _filter(DatasetSnapshot.objects.filter(connection=connection), q=q).values("id")
        qs = (_filter(DatasetSnapshot.objects.filter(connection=connection, id__in=Subquery(matching)),
                      published=published, status=status, restricted=restricted, late=late)
              .order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT])).only(*LIST_FIELDS))
    else:
        qs = snapshot_list(connection=connection, q=q, published=published, status=status, restricted=restricted,
                           sort=sort, late=late).only(*LIST_FIELDS)
    count = qs.count()
    if q.strip() and 0 < count <= SMALL_MATCH:
        ids = list(qs.order_by().values_list("id", flat=True)[:SMALL_MATCH])
        qs = DatasetSnapshot.objects.filter(id__in=ids).order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT])) \
            .only(*LIST_FIELDS)
    paginator = Paginator(qs, per_page)
    paginator.__dict__["count"] = count  # already counted (Paginator.count is a cached_property)
    result = paginator.get_page(page)
    if count == 0:
        result.object_list = []
    return result


def snapshot_list_across(*, connections: Iterable[Connection] | QuerySet, q: str = "",
                         published: bool | None = None, status: str = "", restricted: bool | None = None,
                         sort: str = DEFAULT_SORT, late: bool | None = None) -> QuerySet[DatasetSnapshot]:
    """The same over several connections (pass connections_visible_to(user)); rows carry .connection."""
    qs = _filter(DatasetSnapshot.objects.filter(connection__in=connections), q=q, published=published,
                 status=status, restricted=restricted, late=late)
    return qs.select_related("connection").order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]), "connection_id")


def snapshot_get(*, connection: Connection, uid: str) -> DatasetSnapshot | None:
    return DatasetSnapshot.objects.filter(connection=connection, uid=uid).first()


def snapshot_get_by_dataset_id(*, connection: Connection, dataset_id: str) -> DatasetSnapshot | None:
    return DatasetSnapshot.objects.filter(connection=connection, dataset_id=dataset_id).first()


def snapshot_status_counts(*, connection: Connection) -> dict[str, int]:
    """{status: count} for one connection (statuses with no dataset are absent)."""
    rows = DatasetSnapshot.objects.filter(connection=connection).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def catalogue_summary(*, connections: Iterable[Connection] | QuerySet) -> dict[int, dict]:
    """Per connection id: total, published, restricted, error, limit_reached, busy, unknown, synced_at.

    One aggregate query for any number of connections (the fleet overview's figures).
    """
    rows = (DatasetSnapshot.objects.filter(connection__in=connections).values("connection_id")
            .annotate(total=Count("id"),
                      published=Count("id", filter=Q(is_published=True)),
                      restricted=Count("id", filter=Q(is_restricted=True)),
                      error=Count("id", filter=Q(status="error")),
                      limit_reached=Count("id", filter=Q(status="limit_reached")),
                      busy=Count("id", filter=Q(status__in=BUSY_STATUSES)),
                      unknown=Count("id", filter=Q(status="unknown")),
                      checked=Count("id", filter=Q(status_checked_at__isnull=False)),
                      oldest_check=Min("status_checked_at"),
                      synced_at=Max("synced_at")))
    return {row.pop("connection_id"): row for row in rows}


def status_knowledge(*, connections: Iterable[Connection] | Iterable[int]) -> dict:
    """{"total", "checked", "oldest"} over several connections: how complete the status knowledge is (one query)."""
    ids = [c.pk if isinstance(c, Connection) else c for c in connections]
    return DatasetSnapshot.objects.filter(connection_id__in=ids).aggregate(
        total=Count("id"), checked=Count("id", filter=Q(status_checked_at__isnull=False)),
        oldest=Min("status_checked_at"))


def scan_state(*, connection: Connection) -> dict:
    """How complete the status knowledge of one connection is, and the state of its status scan (two queries).

    {"total", "checked" (rows with a status read), "oldest" (the oldest read), "requested_at", "since_request"
    (rows read since the last "check now"), "running" (that request is not complete), "error" (the scan stopped
    or waits after a server error), "stopped"}.
    """
    state = StatusScan.objects.filter(connection=connection).first()
    requested = state.requested_at if state else None
    agg = DatasetSnapshot.objects.filter(connection=connection).aggregate(
        total=Count("id"), checked=Count("id", filter=Q(status_checked_at__isnull=False)),
        oldest=Min("status_checked_at"),
        since_request=Count("id", filter=Q(status_checked_at__gte=requested)) if requested else Count(
            "id", filter=Q(pk__isnull=True)))
    stopped = bool(state and state.stopped_at)
    return {**agg, "requested_at": requested, "stopped": stopped, "error": state.error if state else "",
            "running": bool(requested and not stopped and agg["since_request"] < agg["total"])}


def catalogue_last_sync(*, connection: Connection) -> CatalogueSync | None:
    """The last sync that finished without error (its finished_at is what "synced … ago" shows)."""
    return (CatalogueSync.objects.filter(connection=connection, finished_at__isnull=False, error="")
            .order_by("-finished_at").first())


def catalogue_sync_state(*, connection: Connection) -> dict:
    """{"last_ok": CatalogueSync|None, "latest": CatalogueSync|None, "running": bool} in one query."""
    recent = list(CatalogueSync.objects.filter(connection=connection).order_by("-requested_at", "-id")[:10])
    latest = recent[0] if recent else None
    last_ok = next((s for s in recent if s.ok), None)
    if last_ok is None and recent and len(recent) == 10:
        last_ok = catalogue_last_sync(connection=connection)
    return {"last_ok": last_ok, "latest": latest, "running": bool(latest and latest.is_active)}
