"""core.db.bulk_insert_values: every row written as given, whichever columns are the same on every row (on
PostgreSQL those go as one parameter, the others as arrays) — checked on SQLite and, with DATABASE_URL, PostgreSQL."""

import pytest

from portaladmin.audit.models import AuditEvent, Outcome
from portaladmin.core.db import bulk_insert_values

pytestmark = pytest.mark.django_db


def _row(**over):
    row = dict(actor_id=None, actor_name="ops", connection_id=None, connection_name="Lyon", action="user.invite",
               target="a@example.org", outcome=Outcome.SUCCESS, error="", ip=None, job_id=7, extra={})
    row.update(over)
    return row


def _read():
    fields = ("actor_name", "connection_id", "connection_name", "action", "target", "outcome", "error", "ip",
              "job_id", "extra")
    return [{f: getattr(e, f) for f in fields} for e in AuditEvent.objects.order_by("id")]


@pytest.mark.parametrize("rows", [
    # some columns the same on every row, others not (an invite chunk's audit events)
    [_row(target=f"u{i}@example.org", outcome=Outcome.FAILURE if i % 3 else Outcome.SUCCESS,
          error="refused" if i % 3 else "") for i in range(7)],
    # every column the same
    [_row() for _ in range(3)],
    # JSON values that differ, NULLs beside values, an address, 1 vs True kept apart by type
    [_row(extra={"n": i}, ip="192.0.2.1" if i else None, job_id=None if i == 2 else i) for i in range(4)],
    # one row
    [_row(target="only@example.org", extra={"a": [1, 2]})],
])
def test_rows_are_written_as_given(connection, rows):
    rows = [dict(r, connection_id=connection.pk) for r in rows]
    bulk_insert_values(AuditEvent, rows)
    got = _read()
    assert len(got) == len(rows)
    for want, have in zip(rows, got, strict=True):
        assert have == {k: want[k] for k in have}
    assert all(e.created_at is not None for e in AuditEvent.objects.all())  # auto_now_add filled


def test_batches_and_nothing_to_write(connection):
    bulk_insert_values(AuditEvent, [])
    rows = [_row(connection_id=connection.pk, target=f"t{i}") for i in range(25)]
    bulk_insert_values(AuditEvent, rows, batch_size=4)
    assert [e["target"] for e in _read()] == [f"t{i}" for i in range(25)]
