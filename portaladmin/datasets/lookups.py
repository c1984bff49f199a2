"""`search__pairs_contains`: a search word of two characters, narrowed by the doubled-text trigram index.

PostgreSQL only (migration 0007 adds the generated column `search_pairs` = `search` with every character
doubled, and its trigram index). `search LIKE '%57%'` cannot use a trigram index (two characters, no trigram),
so the database rechecked every row its other words matched; `search_pairs LIKE '%5577%'` can. A string s
contains w exactly when doubled(s) contains doubled(w) (a match at an odd position also spells w in s), so the
rows are the same as with `search__contains` — which callers keep beside it (the filter stays exact and readable).
On other databases the lookup is the plain substring test.
"""

from __future__ import annotations

from django.db.models import Lookup

from portaladmin.datasets.models import DatasetSnapshot


def doubled(text: str) -> str:
    return "".join(ch * 2 for ch in text)


class PairsContains(Lookup):
    lookup_name = "pairs_contains"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        value = self.rhs
        if connection.vendor != "postgresql":
            return (f"{lhs} LIKE %s ESCAPE '\\'", [*lhs_params, f"%{connection.ops.prep_for_like_query(value)}%"])
        # The generated column sits beside `search` in the same row: same table alias, other column name.
        column = connection.ops.quote_name("search")
        if not lhs.endswith(column):
            raise ValueError("pairs_contains applies to DatasetSnapshot.search only")
        pairs = lhs[: -len(column)] + connection.ops.quote_name("search_pairs")
        return f"{pairs} LIKE %s", [*lhs_params, f"%{connection.ops.prep_for_like_query(doubled(value))}%"]


DatasetSnapshot._meta.get_field("search").register_lookup(PairsContains)
