"""The cross-portal dataset board and the harvester health board (local snapshots only)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connections as databases
from django.db.models import F, Q, QuerySet

from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.datasets.selectors import DEFAULT_SORT, SORTS, snapshot_list_across
from portaladmin.fleet.counts import dataset_counts
from portaladmin.fleet.models import HARVESTER_BUSY, HarvesterRefresh, HarvesterSnapshot
from portaladmin.portals.models import Connection
from portaladmin.portals.permissions import connections_visible_to


# --- the cross-portal dataset board ---------------------------------------------------------------------
def fleet_datasets(*, user, connection_slug: str = "", q: str = "", status: str = "",
                   published: bool | None = None, restricted: bool | None = None, sort: str = "dataset_id",
                   connections: list[Connection] | None = None, late: bool | None = None) -> QuerySet[DatasetSnapshot]:
    """Every visible connection's snapshot in one searchable, filterable, sortable queryset.

    `connections`: the user's visible connections when the caller already has them (saves the subquery).
    """
    if connections is None:
        connections = list(connections_visible_to(user))
    connections = [c if isinstance(c, int) else c.pk for c in connections
                   if not connection_slug or isinstance(c, int) or c.slug == connection_slug]
    return snapshot_list_across(connections=connections, q=q, published=published, status=status,
                                restricted=restricted, sort=sort, late=late)


BOARD_FIELDS = ("uid", "dataset_id", "title", "status", "status_message", "status_checked_at", "is_published",
                "is_restricted", "late_at", "modified",
                "updated_at", "connection_id", "connection__slug", "connection__name", "connection__base_url")
# The columns a board row shows, without the join (fleet_dataset_page sets .connection from the list it has).
BOARD_FIELDS_LOCAL = tuple(f for f in BOARD_FIELDS if "__" not in f)


COUNT_CAP = 1000  # a count the maintained figures cannot give stops here: "more than 1,000 datasets"
# A search (PostgreSQL) the planner expects to match at most this many rows is read whole, once: its rows come from
# the trigram index, are sorted in the database, and count and page come from that one list (see _search_order).
SEARCH_CAP = 3000
NULLABLE_KEYS = {"updated_at"}  # sort keys that may be NULL: NULL sorts after every value, both ways


@dataclass
class BoardPage:
    """One page of the board: its rows, the (possibly capped) total, and the cursors of its neighbours.

    `number` is set when the page was asked for by number (?page=N), or when its place is known (a search read
    whole: "Page 2 of 3" after "Next"); pages reached through "Next"/"Previous" carry a cursor instead
    (?after=… / ?before=…: the sort key and id of the row next to them), so their URL shows the same rows
    whatever is added or removed elsewhere in the list."""

    object_list: list
    count: int  # exact when not count_more; else COUNT_CAP
    count_more: bool = False  # more than COUNT_CAP rows match (not counted further)
    number: int | None = None
    per_page: int = 50
    next_after: str = ""  # cursor of the next page ("" when this is the last)
    prev_before: str = ""  # cursor of the previous page ("" when this is the first)

    @property
    def num_pages(self) -> int | None:
        return None if self.count_more else max(1, -(-self.count // self.per_page))

    @property
    def has_next(self) -> bool:
        return bool(self.next_after)

    @property
    def has_previous(self) -> bool:
        return bool(self.prev_before)


def _keys(sort: str) -> list[tuple[str, bool]]:
    """The sort as (field, descending) pairs, always ending with the id (a total order for the cursor)."""
    return [(name.lstrip("-"), name.startswith("-")) for name in SORTS.get(sort, SORTS[DEFAULT_SORT])]


def _order(keys: list[tuple[str, bool]]) -> list:
    out = []
    for field_name, desc in keys:
        expr = F(field_name)
        if field_name in NULLABLE_KEYS:  # the same NULL placement on SQLite and PostgreSQL
            out.append(expr.desc(nulls_first=True) if desc else expr.asc(nulls_last=True))
        else:
            out.append(expr.desc() if desc else expr.asc())
    return out


def _beyond(field_name: str, value, desc: bool) -> Q | None:
    """Rows strictly after `value` on this key in this direction (NULL is larger than any value); None: none."""
    if value is None:
        return Q(**{f"{field_name}__isnull": False}) if desc else None
    if desc:
        return Q(**{f"{field_name}__lt": value})
    after = Q(**{f"{field_name}__gt": value})
    return after | Q(**{f"{field_name}__isnull": True}) if field_name in NULLABLE_KEYS else after


def _seek(keys: list[tuple[str, bool]], values: list) -> Q:
    """The rows after the row whose sort values are `values`, in the order `keys` ((a, b) > (x, y) spelt out,
    plus a bound on the first key alone so that the database reads its index from there, not from the start)."""
    terms, equal = [], Q()
    for (field_name, desc), value in zip(keys, values, strict=True):
        beyond = _beyond(field_name, value, desc)
        if beyond is not None:
            terms.append(equal & beyond)
        equal &= Q(**{f"{field_name}__isnull": True}) if value is None else Q(**{field_name: value})
    if not terms:
        return Q(pk__in=[])
    seek = terms[0]
    for term in terms[1:]:
        seek |= term
    (first, desc), value = keys[0], values[0]
    if value is not None and (first not in NULLABLE_KEYS or desc):
        seek &= Q(**{f"{first}__lte" if desc else f"{first}__gte": value})
    return seek


def _encode(row, keys) -> str:
    values = [getattr(row, "pk" if f == "id" else f) for f, _ in keys]
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, keys) -> list | None:
    """The sort values a cursor carries, or None when it does not fit this sort (the first page is shown)."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(keys) or not isinstance(values[-1], int):
            return None
        for i, (field_name, _) in enumerate(keys[:-1]):
            if values[i] is None and field_name in NULLABLE_KEYS:
                continue
            if not isinstance(values[i], str):
                return None
            if field_name in NULLABLE_KEYS:
                values[i] = datetime.fromisoformat(values[i])
        return values
    except (ValueError, TypeError, UnicodeDecodeError):
        return None


def _flip(keys):
    return [(f, not desc) for f, desc in keys]


def board_knowledge(counts: dict[int, dict]) -> dict:
    """{"total", "checked", "oldest"} over the board's connections, from the maintained counts (no row read)."""
    oldest = [c["oldest_check"] for c in counts.values() if c.get("oldest_check")]
    return {"total": sum(c["total"] for c in counts.values()), "checked": sum(c["checked"] for c in counts.values()),
            "oldest": min(oldest) if oldest else None}


def board_count(*, connections: list[int], counts: dict[int, dict] | None = None, **filters) -> tuple[int, bool]:
    """(count, more): from the maintained counts (fleet.counts) when the filters are one of their figures,
    else a count that stops after COUNT_CAP rows — never a full read of the matching rows."""
    q = (filters.get("q") or "").strip()
    status, published = filters.get("status") or "", filters.get("published")
    figure = None
    if not q and filters.get("restricted") is None and filters.get("late") is None:
        if not status:
            figure = {None: "total", True: "published", False: "unpublished"}[published]
        elif published is None and status in ("error", "busy", "limit_reached", "unknown"):
            figure = status
    if figure:
        if counts is None:
            counts = dataset_counts(connections=connections)
        return sum(c[figure] for c in counts.values()), False
    n = fleet_datasets(user=None, connections=connections, **filters).order_by().values("id")[:COUNT_CAP + 1].count()
    return min(n, COUNT_CAP), n > COUNT_CAP


def _planned_rows(qs: QuerySet) -> float:
    """The planner's estimate of how many rows `qs` returns (EXPLAIN without ANALYZE: nothing is read)."""
    sql, params = qs.order_by().query.sql_with_params()
    with databases[qs.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return float(plan[0]["Plan"]["Plan Rows"])


def _search_order(base: QuerySet, keys) -> list[int] | None:
    """The ids of every row of `base` in board order, or None when more than SEARCH_CAP rows match.

    One statement: the matching rows' sort columns, fetched through the search index and stopped after
    SEARCH_CAP + 1 rows (MATERIALIZED: the planner may not fold the sort into it and walk a sort index instead,
    testing the search on every row), then sorted — by the database, so that the order is exactly the one the
    cursors of the other pages compare with (collation, NULL placement)."""
    inner = base.order_by().values(*[f for f, _ in keys])[:SEARCH_CAP + 1]
    inner_sql, params = inner.query.sql_with_params()
    outer_sql, outer_params = DatasetSnapshot.objects.order_by(*_order(keys)).values_list("id").query.sql_with_params()
    outer_sql = outer_sql.replace(f'"{DatasetSnapshot._meta.db_table}"', "board_match")
    with databases[base.db].cursor() as cursor:
        cursor.execute(f"WITH board_match AS MATERIALIZED ({inner_sql}) {outer_sql}", [*params, *outer_params])
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) <= SEARCH_CAP else None


def _page_number(page, count: int, per_page: int, *, more: bool) -> int:
    """?page= as a page number: 1 when it is not a number; the last page when it is past the end (unless the
    count was capped: there is no known end then)."""
    try:
        number = max(1, int(page or 1))
    except (TypeError, ValueError):
        number = 1
    if not more and (number - 1) * per_page >= count:  # past the end
        number = max(1, -(-count // per_page))
    return number


def _page_of_ids(ids: list[int], keys, *, page, per_page: int, after: str, before: str) -> BoardPage | None:
    """The page of a search read whole (_search_order): by number or by the position of the cursor's row.
    None when the cursor's row no longer matches (the caller seeks past its sort values instead)."""
    result = BoardPage([], len(ids), per_page=per_page)
    after_values = _decode(after, keys) if after else None
    before_values = _decode(before, keys) if before and after_values is None else None
    position = {pk: i for i, pk in enumerate(ids)}
    cursor = after_values or before_values
    if cursor is not None and cursor[-1] not in position:
        return None
    if after_values is not None:
        start = position[after_values[-1]] + 1
    elif before_values is not None and position[before_values[-1]] > per_page:
        start = position[before_values[-1]] - per_page
    else:  # by number (a "Previous" that reaches the start shows the first page, numbered, as the seek path does)
        result.number = _page_number(1 if before_values is not None else page, len(ids), per_page, more=False)
        start = (result.number - 1) * per_page
    if result.number is None and start % per_page == 0 and start < len(ids):  # where a numbered page would be
        result.number = start // per_page + 1
    return _fill(result, ids[start:start + per_page], keys, more=start + per_page < len(ids), first=start == 0)


def _fill(result: BoardPage, page_ids: list[int], keys, *, more: bool, first: bool) -> BoardPage:
    by_pk = DatasetSnapshot.objects.only(*BOARD_FIELDS_LOCAL).in_bulk(page_ids)
    rows = [by_pk[pk] for pk in page_ids if pk in by_pk]  # a row deleted since the search is left out
    if rows and more:
        result.next_after = _encode(rows[-1], keys)
    if rows and not first:
        result.prev_before = _encode(rows[0], keys)
    result.object_list = rows
    return result


def fleet_dataset_page(*, user, page: int | str | None = 1, per_page: int = 50, connections=None, after: str = "",
                       before: str = "", counts: dict[int, dict] | None = None, **filters) -> BoardPage:
    """One page of fleet_datasets(): by number (OFFSET: the first pages) or by cursor (keyset: any depth).

    Two queries, neither reading every matching row (issue 23, 10 × 20,000 rows): the count
    (board_count: maintained figures or capped; `counts`: fleet.counts.dataset_counts of these connections when
    the caller has them) and the page's rows, read in sort order from the
    (sort key, id) indexes and stopped after per_page + 1 rows. A page past the end shows the last page.
    """
    if connections is None:
        connections = list(connections_visible_to(user))
    slug = filters.pop("connection_slug", "")
    conns = {c.pk: c for c in connections if not slug or c.slug == slug}
    keys = _keys(filters.get("sort") or DEFAULT_SORT)
    base = fleet_datasets(user=None, connections=list(conns.values()), **filters).select_related(None) \
        .only(*BOARD_FIELDS_LOCAL)
    count = more = None
    if (filters.get("q") or "").strip() and conns and databases[base.db].vendor == "postgresql" \
            and _planned_rows(base) <= SEARCH_CAP:
        # A search rarely matches many rows, but matches them anywhere in the sort order: walking a sort index
        # and testing each row reads far more than the matches. Read the matches once instead (one statement
        # gives the exact count and every page's place); past SEARCH_CAP, the capped count and the seek below.
        ids = _search_order(base, keys)
        if ids is None:
            count, more = SEARCH_CAP, True
        else:
            result = _page_of_ids(ids, keys, page=page, per_page=per_page, after=after, before=before)
            if result is not None:
                return _with_connections(result, conns)
            count, more = len(ids), False  # the cursor's row stopped matching: seek past its sort values
    if count is None:
        count, more = board_count(connections=list(conns), counts=counts, **filters)
    result = BoardPage([], count, more, per_page=per_page)
    after_values = _decode(after, keys) if after else None
    before_values = _decode(before, keys) if before and after_values is None else None
    if before_values is not None:  # read backwards from the cursor, then show in order
        rows = list(base.filter(_seek(_flip(keys), before_values)).order_by(*_order(_flip(keys)))[:per_page + 1])
        if len(rows) <= per_page:  # reached the start: show the first page instead (full, numbered)
            return fleet_dataset_page(user=user, page=1, per_page=per_page, connections=connections,
                                      counts=counts, connection_slug=slug, **filters)
        rows = rows[:per_page][::-1]
        result.next_after = _encode(rows[-1], keys)
        result.prev_before = _encode(rows[0], keys)
    else:
        qs = base.order_by(*_order(keys))
        if after_values is not None:
            qs = qs.filter(_seek(keys, after_values))
            start = 0
        else:
            result.number = _page_number(page, count, per_page, more=more)
            start = (result.number - 1) * per_page
        rows = list(qs[start:start + per_page + 1]) if count else []
        if len(rows) > per_page:
            rows = rows[:per_page]
            result.next_after = _encode(rows[-1], keys)
        if rows and (after_values is not None or start > 0):
            result.prev_before = _encode(rows[0], keys)
    result.object_list = rows
    return _with_connections(result, conns)


def _with_connections(result: BoardPage, conns: dict[int, Connection]) -> BoardPage:
    for row in result.object_list:  # the connection is already loaded: no join
        row.connection = conns[row.connection_id]
    return result


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
