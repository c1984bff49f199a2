"""Two-character search words (issue 23): on PostgreSQL they also go through the doubled-text trigram index
(datasets.lookups, migration 0007); the rows found must be exactly those whose search text contains every word."""

import random

import pytest
from django.db import connection as db

from portaladmin.datasets.lookups import doubled
from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.datasets.selectors import snapshot_list, snapshot_list_across
from tests.conftest import needs_postgres


def test_doubled_text_contains_exactly_when_the_text_does():
    # The property the index relies on: a match of doubled(w) at an odd position of doubled(s) still spells w in s.
    rnd = random.Random(7)
    for _ in range(4000):
        text = "".join(rnd.choice("ab5 7%_") for _ in range(rnd.randint(0, 9)))
        word = "".join(rnd.choice("ab5 7%_") for _ in range(rnd.randint(1, 3)))
        assert (word in text) == (doubled(word) in doubled(text)), (text, word)


@pytest.fixture
def rows(connection, make_snapshot):
    texts = ["parking 57 district", "parking 157", "parking 5 7", "parks 75", "schools 57", "parking-57", "57",
             "a_b 50% off", "ab 50 off", "parking 5757"]
    return [make_snapshot(f"da_{i}", f"ds-{i}", search=text) for i, text in enumerate(texts)]


@pytest.mark.django_db
@pytest.mark.parametrize("q", ["57", "parking 57", "75", "5 7", "50%", "a_", "%", "_b", "parking 5", "zz 57"])
def test_short_words_find_the_rows_that_contain_them(connection, rows, q):
    wanted = sorted(r.uid for r in rows if all(w in r.search for w in q.split()))
    assert sorted(snapshot_list(connection=connection, q=q).values_list("uid", flat=True)) == wanted
    got = snapshot_list_across(connections=[connection], q=q).values_list("uid", flat=True)
    assert sorted(got) == wanted
    # Also as a subquery (the table has another alias there): the same rows.
    inner = snapshot_list_across(connections=[connection], q=q).values("id")
    assert sorted(DatasetSnapshot.objects.filter(id__in=inner).values_list("uid", flat=True)) == wanted


@needs_postgres()
@pytest.mark.django_db
def test_postgres_stores_the_doubled_text_and_uses_it(connection, rows):
    sql, params = snapshot_list_across(connections=[connection], q="parking 57").query.sql_with_params()
    assert '"search_pairs" LIKE' in sql and "%55777%" not in params and "%5577%" in params
    with db.cursor() as cursor:
        cursor.execute("SELECT search_pairs FROM datasets_datasetsnapshot WHERE uid = %s", ["da_0"])
        assert cursor.fetchone()[0] == doubled("parking 57 district")
    row = DatasetSnapshot.objects.get(uid="da_1")
    row.search = "renamed 42"
    row.save(update_fields=["search"])  # the database keeps the column in step, whoever writes
    assert list(snapshot_list(connection=connection, q="42").values_list("uid", flat=True)) == ["da_1"]
