"""Freshness: a dataset whose data is older than its expected update frequency allows is "late" (schedules first,
else dcat.accrualperiodicity / frequency metadata); the list and the cross-portal board filter by it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portaladmin.datasets.freshness import LATE_FACTOR, late_at, period_from_crons, period_from_frequency
from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.datasets.services import catalogue_sync_run
from portaladmin.portals.client import client_for

from .test_views import HX, register_reads, url

DAY = timedelta(days=1)


@pytest.mark.parametrize("value, period", [
    ("http://publications.europa.eu/resource/authority/frequency/DAILY", DAY),
    ("WEEKLY", 7 * DAY), ("monthly", 31 * DAY), ("Mensuelle", 31 * DAY), ("Quotidien", DAY), ("annual", 366 * DAY),
    ("R/P1D", DAY), ("P1W", 7 * DAY), ("PT6H", timedelta(hours=6)), ({"value": "QUARTERLY"}, 92 * DAY),
    (["weekly"], 7 * DAY),
    ("IRREG", None), ("http://publications.europa.eu/resource/authority/frequency/NEVER", None), ("", None),
    (None, None), ("every now and then", None), ("PT1M", None), (42, None),
])
def test_period_from_frequency(value, period):
    assert period_from_frequency(value) == period


def test_period_from_crons_takes_the_most_frequent_schedule_and_the_weekend_gap():
    monday = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert period_from_crons(["0 3 * * *", "0 */6 * * *"], now=monday) == timedelta(hours=6)
    assert period_from_crons(["0 3 * * 1-5"], now=monday) == 3 * DAY  # Friday → Monday: not late on a Sunday
    assert period_from_crons(["not a cron"], now=monday) is None and period_from_crons([], now=monday) is None


def test_late_at():
    modified = datetime(2026, 3, 1, tzinfo=UTC)
    assert late_at(modified=modified, period=DAY) == modified + DAY * LATE_FACTOR
    assert late_at(modified=None, period=DAY) is None and late_at(modified=modified, period=None) is None


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_sync_reads_the_frequency_metadata_from_the_sandbox(sandbox_connection):
    conn = sandbox_connection("fresh", datasets=3, users=1, groups=0, harvesters=0, pages=0)
    client = client_for(conn)
    daily, monthly, plain = sorted(client.dataset_iter(), key=lambda d: d.dataset_id)
    client.metadata_update(daily.uid, "dcat", "accrualperiodicity",
                           value="http://publications.europa.eu/resource/authority/frequency/DAILY")
    client.metadata_update(monthly.uid, "dcat", "accrualperiodicity",
                           value="http://publications.europa.eu/resource/authority/frequency/MONTHLY")
    recent = timezone.now() - timedelta(days=3)
    client.metadata_update(monthly.uid, "default", "modified", value=recent.isoformat())
    catalogue_sync_run(connection=conn)
    rows = {r.uid: r for r in DatasetSnapshot.objects.filter(connection=conn)}
    assert rows[daily.uid].metadata_period == DAY and rows[daily.uid].is_late  # seeded: modified months ago
    assert rows[monthly.uid].metadata_period == 31 * DAY and not rows[monthly.uid].is_late
    assert rows[plain.uid].metadata_period is None and rows[plain.uid].late_at is None
    assert not rows[plain.uid].is_late  # no expected frequency: never late


@pytest.mark.django_db
def test_schedules_set_the_expected_frequency_and_survive_a_sync(api, client_as, cast, make_snapshot, connection):
    from .conftest import API, dataset_json, page_json

    old = timezone.now() - timedelta(days=2)
    make_snapshot("da_1", "trees", modified=old)
    register_reads(api)  # its schedule: "0 3 * * *", daily
    client_as(cast["viewer"]).get(url("tab", uid="da_1", tab="schedules"), headers=HX)
    row = DatasetSnapshot.objects.get(uid="da_1")
    assert row.schedule_period == DAY and row.late_at == old + DAY * LATE_FACTOR and row.is_late
    # A sync rewrites the metadata's period (none here) but the schedule's still decides.
    listed = dataset_json("da_1")
    listed["metadata"]["default"]["modified"]["value"] = old.isoformat()
    api.get(f"{API}/datasets/", json=page_json([listed]))
    catalogue_sync_run(connection=connection)
    row.refresh_from_db()
    assert row.metadata_period is None and row.schedule_period == DAY and row.is_late


@pytest.mark.django_db
def test_the_list_and_the_fleet_board_filter_late_datasets(client_as, cast, make_snapshot, synced):
    now = timezone.now()
    make_snapshot("da_1", "late-one", modified=now - 5 * DAY, metadata_period=DAY, late_at=now - 3 * DAY)
    make_snapshot("da_2", "fresh-one", modified=now, metadata_period=DAY, late_at=now + DAY)
    make_snapshot("da_3", "no-frequency")
    client = client_as(cast["viewer"])
    late = client.get(url("list"), {"freshness": "late"}).content.decode()
    assert "late-one" in late and "fresh-one" not in late and "no-frequency" not in late
    assert 'class="badge badge-late"' in late and "Data last modified" in late
    on_time = client.get(url("list"), {"freshness": "on_time"}, headers=HX)
    assert "late-one" not in on_time.content.decode() and "fresh-one" in on_time.content.decode()
    assert on_time["HX-Push-Url"].endswith("?freshness=on_time")  # the canonical, shareable URL keeps it
    board = client.get(reverse("fleet:datasets"), {"freshness": "late"}).content.decode()
    assert "late-one" in board and "fresh-one" not in board and "no-frequency" not in board
    assert 'class="badge badge-late"' in board and '<option value="late" selected>Late</option>' in board
    assert "no-frequency" in client.get(reverse("fleet:datasets"), {"freshness": "on_time"}).content.decode()
