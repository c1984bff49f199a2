"""The overview's dataset figures, maintained by triggers on the catalogue snapshot (see models.SnapshotCount).

Every SQL string here is built from this file's constants only (no input): S608/B608 do not apply.
"""
# ruff: noqa: S608


from django.db import migrations, models

SNAPSHOT = "datasets_datasetsnapshot"
COUNTS = "fleet_snapshotcount"
COLUMNS = "connection_id, total, published, unpublished, error, busy, limit_reached, unknown, checked, synced_at"
BUSY = "('queued', 'processing', 'aborting_processing', 'deleting', 'saving_version')"  # datasets.BUSY_STATUSES


def figures(r: str) -> list[str]:
    """The counted columns of one snapshot row `r` as 0/1 (the same SQL on PostgreSQL and SQLite)."""
    return [f"CASE WHEN {r}.is_published THEN 1 ELSE 0 END", f"CASE WHEN NOT {r}.is_published THEN 1 ELSE 0 END",
            f"CASE WHEN {r}.status = 'error' THEN 1 ELSE 0 END", f"CASE WHEN {r}.status IN {BUSY} THEN 1 ELSE 0 END",
            f"CASE WHEN {r}.status = 'limit_reached' THEN 1 ELSE 0 END",
            f"CASE WHEN {r}.status = 'unknown' THEN 1 ELSE 0 END",
            f"CASE WHEN {r}.status_checked_at IS NOT NULL THEN 1 ELSE 0 END"]


def _pg_function() -> str:
    ins = ", ".join(f"sum({f})" for f in figures("r"))
    dele = ", ".join(f"-sum({f})" for f in figures("r"))
    diffs = [f"({n}) - ({o})" for n, o in zip(figures("n"), figures("o"), strict=True)]
    upd = ", ".join(f"sum({d})" for d in diffs)
    changed = " + ".join(f"abs({d})" for d in diffs)
    newer = "max(n.synced_at) FILTER (WHERE n.synced_at > o.synced_at)"
    return f"""
CREATE OR REPLACE FUNCTION fleet_snapshot_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO {COUNTS} ({COLUMNS})
    SELECT r.connection_id, count(*), {ins}, max(r.synced_at) FROM new_rows r GROUP BY r.connection_id;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO {COUNTS} ({COLUMNS})
    SELECT r.connection_id, -count(*), {dele}, NULL FROM old_rows r GROUP BY r.connection_id;
  ELSE
    -- only what changed a figure (the scan's reservations change none), one row per connection and statement
    INSERT INTO {COUNTS} ({COLUMNS})
    SELECT n.connection_id, 0, {upd}, {newer}
    FROM new_rows n JOIN old_rows o ON o.id = n.id GROUP BY n.connection_id
    HAVING sum({changed}) > 0 OR {newer} IS NOT NULL;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER fleet_snapshot_count_ins AFTER INSERT ON {SNAPSHOT} REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION fleet_snapshot_count();
CREATE TRIGGER fleet_snapshot_count_upd AFTER UPDATE ON {SNAPSHOT} REFERENCING OLD TABLE AS old_rows
  NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_snapshot_count();
CREATE TRIGGER fleet_snapshot_count_del AFTER DELETE ON {SNAPSHOT} REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION fleet_snapshot_count();
"""  # nosec B608 - built from this file's constants


def _sqlite_triggers() -> list[str]:
    ins = ", ".join(figures("NEW"))
    dele = ", ".join(f"-({f})" for f in figures("OLD"))
    diffs = [f"({n}) - ({o})" for n, o in zip(figures("NEW"), figures("OLD"), strict=True)]
    changed = " OR ".join(f"({d}) != 0" for d in diffs)
    return [
        f"CREATE TRIGGER fleet_snapshot_count_ins AFTER INSERT ON {SNAPSHOT} BEGIN INSERT INTO {COUNTS} ({COLUMNS}) "
        f"VALUES (NEW.connection_id, 1, {ins}, NEW.synced_at); END",  # nosec B608
        f"CREATE TRIGGER fleet_snapshot_count_del AFTER DELETE ON {SNAPSHOT} BEGIN INSERT INTO {COUNTS} ({COLUMNS}) "
        f"VALUES (OLD.connection_id, -1, {dele}, NULL); END",  # nosec B608
        f"CREATE TRIGGER fleet_snapshot_count_upd AFTER UPDATE ON {SNAPSHOT} WHEN {changed} OR "
        f"NEW.synced_at > OLD.synced_at BEGIN INSERT INTO {COUNTS} ({COLUMNS}) VALUES (NEW.connection_id, 0, "
        f"{', '.join(diffs)}, CASE WHEN NEW.synced_at > OLD.synced_at THEN NEW.synced_at END); END",  # nosec B608
    ]


def install(apps, schema_editor):
    conn = schema_editor.connection
    with conn.cursor() as cursor:
        # the figures of the rows already there, then the triggers (the migration runs in one transaction)
        cursor.execute(f"INSERT INTO {COUNTS} ({COLUMNS}) SELECT r.connection_id, count(*), "
                       + ", ".join(f"sum({f})" for f in figures("r"))
                       + f", max(r.synced_at) FROM {SNAPSHOT} r GROUP BY r.connection_id")
        if conn.vendor == "postgresql":
            cursor.execute(_pg_function())
        elif conn.vendor == "sqlite":
            for statement in _sqlite_triggers():
                cursor.execute(statement)
        else:
            raise NotImplementedError(f"snapshot count triggers for {conn.vendor}")


def uninstall(apps, schema_editor):
    conn = schema_editor.connection
    with conn.cursor() as cursor:
        for name in ("ins", "upd", "del"):
            cursor.execute(f"DROP TRIGGER IF EXISTS fleet_snapshot_count_{name}"
                           + (f" ON {SNAPSHOT}" if conn.vendor == "postgresql" else ""))
        if conn.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS fleet_snapshot_count()")


class Migration(migrations.Migration):

    dependencies = [
        ('fleet', '0001_initial'),
        ('datasets', '0004_freshness'),
    ]

    operations = [
        migrations.CreateModel(
            name='SnapshotCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('connection_id', models.IntegerField()),
                ('total', models.IntegerField(default=0)),
                ('published', models.IntegerField(default=0)),
                ('unpublished', models.IntegerField(default=0)),
                ('error', models.IntegerField(default=0)),
                ('busy', models.IntegerField(default=0)),
                ('limit_reached', models.IntegerField(default=0)),
                ('unknown', models.IntegerField(default=0)),
                ('checked', models.IntegerField(default=0)),
                ('synced_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'indexes': [models.Index(fields=['connection_id'], name='fleet_snapcount_conn')],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
