# PostgreSQL only (issue 23): the search text with every character doubled ("bikes 57" → "bbiikkeess  5577"),
# a stored generated column with a trigram index. A two-character search word ("57", a district number) has no
# trigram, so the trigram index on `search` cannot narrow it and a search such as "parking 57" rechecked every
# row containing "parking" (25,000 of 200,000) to find its 1,000; doubled, "57" is "5577", which has trigrams.
# s contains w exactly when doubled(s) contains doubled(w), so results do not change (datasets.lookups).
# The database computes the column on every write, whoever writes; Django does not know the column.
# SQLite has no trigram index and keeps its (connection, search) covering index: nothing is added there.
from django.db import migrations

PAIRS_UP = (
    "ALTER TABLE datasets_datasetsnapshot ADD COLUMN IF NOT EXISTS search_pairs text "
    "GENERATED ALWAYS AS (regexp_replace(search, '(.)', '\\1\\1', 'g')) STORED",
    "CREATE INDEX IF NOT EXISTS snapshot_search_pairs_trgm ON datasets_datasetsnapshot "
    "USING gin (search_pairs gin_trgm_ops)",
)
PAIRS_DOWN = (
    "DROP INDEX IF EXISTS snapshot_search_pairs_trgm",
    "ALTER TABLE datasets_datasetsnapshot DROP COLUMN IF EXISTS search_pairs",
)


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ('datasets', '0006_board_sort_indexes'),
    ]

    operations = [
        migrations.RunPython(_run(PAIRS_UP), _run(PAIRS_DOWN)),
    ]
