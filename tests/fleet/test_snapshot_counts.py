"""The overview's dataset figures are kept by the snapshot's triggers (fleet.counts): always equal to a recount,
whoever writes the snapshot and however (create, bulk create, update, bulk update, delete, a deleted connection),
and the compaction never loses or doubles a change."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.fleet.counts import dataset_counts, snapshot_counts_compact
from portaladmin.fleet.models import SnapshotCount
from portaladmin.fleet.selectors.overview import dataset_figures, dataset_figures_recount


def same(connections):
    counted = dataset_counts(connections=connections)
    recounted = dataset_figures_recount(connections=connections)
    assert counted == recounted
    return counted


@pytest.mark.django_db(transaction=True)
def test_counts_follow_every_kind_of_snapshot_write(connection, other, make_snapshots):
    conns = [connection, other]
    assert same(conns) == {}  # never synced: no figures (the card shows dashes), not zeros
    make_snapshots(connection, 30, prefix="a", is_published=True, status="idle")
    make_snapshots(connection, 10, prefix="b", is_published=False, status="error")
    make_snapshots(other, 5, prefix="c", is_published=None, status="queued")
    DatasetSnapshot.objects.create(connection=other, uid="da_one", dataset_id="one", status="limit_reached",
                                   is_published=True)
    figures = same(conns)
    assert figures[connection.pk]["total"] == 40 and figures[connection.pk]["error"] == 10
    assert figures[other.pk]["busy"] == 5 and figures[other.pk]["limit_reached"] == 1

    # the status scan's kind of writes: a status read, a reservation (changes no figure), a check time
    now = timezone.now()
    DatasetSnapshot.objects.filter(connection=connection, dataset_id__startswith="b-").update(
        status="processing", status_checked_at=now)
    before = SnapshotCount.objects.count()
    DatasetSnapshot.objects.filter(connection=connection).update(status_scan_until=now + timedelta(minutes=1))
    assert SnapshotCount.objects.count() == before  # no figure changed: no count row
    rows = list(DatasetSnapshot.objects.filter(connection=connection, dataset_id__startswith="a-")[:7])
    for row in rows:
        row.is_published, row.status = False, "unknown"
    DatasetSnapshot.objects.bulk_update(rows, ["is_published", "status"])
    row = DatasetSnapshot.objects.get(uid="da_one")
    row.status = "idle"
    row.save()
    figures = same(conns)
    assert figures[connection.pk]["busy"] == 10 and figures[connection.pk]["checked"] == 10
    assert figures[connection.pk]["unpublished"] == 17

    # a sync: new synced_at on every row, rows gone from the portal deleted
    later = now + timedelta(minutes=15)
    DatasetSnapshot.objects.filter(connection=connection).update(synced_at=later)
    DatasetSnapshot.objects.filter(connection=connection, dataset_id__startswith="a-0001").delete()
    figures = same(conns)
    assert figures[connection.pk]["synced_at"] == later

    # a rolled-back write leaves no trace
    with pytest.raises(RuntimeError), transaction.atomic():
        DatasetSnapshot.objects.filter(connection=other).delete()
        raise RuntimeError("rollback")
    same(conns)

    # compaction: one row per connection, the same figures
    removed = snapshot_counts_compact()
    assert removed > 2 and SnapshotCount.objects.count() == 2
    assert same(conns) == figures
    assert snapshot_counts_compact() == 2 and SnapshotCount.objects.count() == 2  # idempotent

    # a deleted connection: its rows cascade away, the compaction drops what they left
    other.delete()
    snapshot_counts_compact()
    assert set(SnapshotCount.objects.values_list("connection_id", flat=True)) == {connection.pk}
    assert dataset_figures(connections=[connection]) == dataset_figures_recount(connections=[connection])
