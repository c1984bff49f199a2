"""Selectors over the snapshot: search, filters, sorts, pages (the list view's queries)."""

import pytest

from portaladmin.datasets.selectors import (
    catalogue_summary,
    snapshot_list_across,
    snapshot_page,
    snapshot_status_counts,
)
from tests.conftest import needs_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(make_snapshot):
    out = []
    for i in range(30):
        out.append(make_snapshot(f"da_{i:02d}", f"ds-{i:02d}", title=f"T{29 - i:02d}",
                                 status=["idle", "error", "processing"][i % 3], is_published=i % 2 == 0,
                                 is_restricted=i % 5 == 0,
                                 search=f"ds-{i:02d} t{29 - i:02d} {'river' if i < 20 else 'lake'}"))
    return out


@pytest.mark.parametrize("filters", [
    {"q": "river"}, {"q": "river", "status": "error"}, {"q": "river lake"}, {"q": "ds-1", "published": True},
    {"q": "river", "restricted": True, "sort": "-title"}, {"status": "busy"}, {"q": "nothing"},
    {"q": "river", "status": "idle", "published": False, "sort": "-updated"}, {"sort": "status"},
])
def test_page_matches_a_plain_filter(connection, rows, filters):
    def expected(row):
        words = filters.get("q", "").split()
        ok = all(w in row.search for w in words)
        if filters.get("status") == "busy":
            ok = ok and row.status == "processing"
        elif filters.get("status"):
            ok = ok and row.status == filters["status"]
        if "published" in filters:
            ok = ok and row.is_published == filters["published"]
        if "restricted" in filters:
            ok = ok and row.is_restricted == filters["restricted"]
        return ok

    page = snapshot_page(connection=connection, per_page=7, **filters)
    wanted = [r.uid for r in rows if expected(r)]
    assert page.paginator.count == len(wanted)
    got = [r.uid for p in range(1, page.paginator.num_pages + 1)
           for r in snapshot_page(connection=connection, page=p, per_page=7, **filters).object_list]
    assert sorted(got) == sorted(wanted) and len(got) == len(set(got))
    if filters.get("sort") == "-title":
        titles = [r.title for r in page.object_list]
        assert titles == sorted(titles, reverse=True)


def test_counts_and_cross_portal_views(connection, make_connection, make_snapshot, rows):
    other = make_connection("other")
    make_snapshot("da_x", "elsewhere", conn=other, status="error", search="elsewhere river")
    counts = snapshot_status_counts(connection=connection)
    assert counts == {"idle": 10, "error": 10, "processing": 10}
    summary = catalogue_summary(connections=[connection, other])
    assert summary[connection.pk]["total"] == 30 and summary[connection.pk]["busy"] == 10
    assert summary[other.pk]["error"] == 1 and summary[other.pk]["published"] == 1
    across = list(snapshot_list_across(connections=[connection, other], q="river", status="error"))
    assert {r.connection.slug for r in across} == {"demo", "other"}


@needs_postgres()
def test_search_and_filter_on_postgresql_is_not_an_id_subquery(connection, rows):
    """The id-subquery form (good for SQLite's planner) ran as a nested loop re-reading the subquery for every row
    on PostgreSQL whenever the table's statistics were stale (25-60 s per page at 10,000 rows after a first sync):
    PostgreSQL gets the plain conditions, which its trigram and filter indexes serve whatever the statistics."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(db) as queries:
        page = snapshot_page(connection=connection, per_page=7, q="river", status="error", sort="-updated")
        list(page.object_list)
    assert page.paginator.count == len([r for r in rows if "river" in r.search and r.status == "error"])
    assert not [q["sql"] for q in queries if "IN (SELECT" in q["sql"].upper()]
