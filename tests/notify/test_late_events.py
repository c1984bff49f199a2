""""Dataset late against its frequency": told once when a dataset becomes late (never on every tick), grouped per
connection, only to people with a role there, immediately or in the daily digest."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.datasets.services import catalogue_sync_run
from portaladmin.notify.events import dataset_late_scan
from portaladmin.notify.models import (
    DatasetChange,
    Delivery,
    DeliveryStatus,
    Event,
    EventKind,
    Rule,
    Schedule,
)
from portaladmin.notify.services import delivery_send, digest_send, notify_tick
from portaladmin.notify.tasks import notify_tick_task
from portaladmin.portals.client import client_for
from portaladmin.portals.models import Role

KEY = "sandbox-late-key-0123456789"
DAILY = "http://publications.europa.eu/resource/authority/frequency/DAILY"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.JOBS_NOTIFY_ON_FAILURE = False
    settings.PORTALADMIN_SELF_URL = "https://portaladmin.example.org"


def rule_for(user, **fields) -> Rule:
    return Rule.objects.create(owner=user, name=fields.pop("name", "late"), events=[EventKind.DATASET_LATE], **fields)


def snapshot(conn, uid, *, late_at, modified=None):
    return DatasetSnapshot.objects.create(connection=conn, uid=uid, dataset_id=f"ds-{uid}", title=uid.title(),
                                          late_at=late_at, modified=modified or late_at - timedelta(days=3))


@pytest.mark.django_db
def test_a_dataset_becoming_late_is_told_once(make_connection, make_user, rung, django_capture_on_commit_callbacks):
    lyon = make_connection("lyon", name="Lyon")
    rule_for(make_user("vera", role=Role.VIEWER, connection=lyon))
    now = timezone.now()
    snapshot(lyon, "da_1", late_at=now + timedelta(hours=1))
    snapshot(lyon, "da_old", late_at=now - timedelta(days=30))  # late long before anyone watched: not news
    assert dataset_late_scan(now=now) == []
    later = now + timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        [event] = dataset_late_scan(now=later)
        assert dataset_late_scan(now=later + timedelta(minutes=1)) == []  # the next ticks: nothing new
        assert dataset_late_scan(now=later + timedelta(hours=5)) == []
    assert event.kind == EventKind.DATASET_LATE
    assert event.subject.startswith("ds-da_1 on Lyon is late: data last modified ")
    assert "expected again by" in event.subject and event.subject.endswith("UTC")
    assert event.link == "/c/lyon/datasets/da_1/" and event.data["outcome"] == "late"
    assert Delivery.objects.count() == 1
    for delivery_id in list(rung):
        delivery_send(delivery_id=delivery_id)
    [message] = mail.outbox
    assert "is late" in message.subject and "https://portaladmin.example.org/c/lyon/datasets/da_1/" in message.body

    # fresh data moves late_at; becoming late again is news again
    DatasetSnapshot.objects.filter(uid="da_1").update(late_at=later + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert len(dataset_late_scan(now=later + timedelta(days=1, minutes=1))) == 1
    assert Event.objects.filter(kind=EventKind.DATASET_LATE).count() == 2


@pytest.mark.django_db
def test_many_late_at_once_is_one_message_per_connection_and_no_leak(make_connection, make_user, rung,
                                                                      django_capture_on_commit_callbacks):
    lyon, rennes = make_connection("lyon", name="Lyon"), make_connection("rennes", name="Rennes")
    vera = make_user("vera", role=Role.VIEWER, connection=lyon)  # no role on Rennes
    rule_for(vera)
    Rule.objects.create(owner=vera, name="errors only", events=[EventKind.DATASET_ERROR])
    now = timezone.now()
    for i in range(120):
        snapshot(lyon, f"da_{i}", late_at=now - timedelta(minutes=i + 1))
    snapshot(rennes, "da_r", late_at=now - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        events = dataset_late_scan(now=now)
    assert sorted(e.connections.get().name for e in events) == ["Lyon", "Rennes"]
    lyon_event = next(e for e in events if e.connections.get() == lyon)
    assert lyon_event.subject == "120 datasets on Lyon are late against their expected update frequency"
    assert lyon_event.link == "/c/lyon/datasets/?freshness=late" and lyon_event.data["counts"]["late"] == 120
    # one delivery: vera's late rule on Lyon; nothing about Rennes, nothing for the errors-only rule
    assert list(Delivery.objects.values_list("event__connections__slug", "rule__name")) == [("lyon", "late")]
    assert DatasetChange.objects.filter(status="late").count() == 121


@pytest.mark.django_db
def test_late_datasets_in_the_daily_digest(make_connection, make_user, rung, django_capture_on_commit_callbacks):
    lyon = make_connection("lyon", name="Lyon")
    rule = rule_for(make_user("vera", role=Role.VIEWER, connection=lyon), schedule=Schedule.DIGEST, digest_hour=8,
                    timezone="UTC")
    day = datetime(2026, 3, 10, tzinfo=UTC)
    snapshot(lyon, "da_1", late_at=day + timedelta(hours=2))
    snapshot(lyon, "da_2", late_at=day + timedelta(hours=5))
    with django_capture_on_commit_callbacks(execute=True):
        dataset_late_scan(now=day + timedelta(hours=3))
        dataset_late_scan(now=day + timedelta(hours=6))
    assert rung == []  # a digest rings no one at once
    assert notify_tick(now=day + timedelta(hours=8)) == ([], [rule.pk])
    assert digest_send(rule_id=rule.pk, now=day + timedelta(hours=8)) == DeliveryStatus.SENT
    [message] = mail.outbox
    assert message.subject == "[portaladmin] Daily digest: 2 events on 1 connection"
    assert "ds-da_1 on Lyon is late" in message.body and "ds-da_2 on Lyon is late" in message.body


@pytest.mark.django_db
def test_the_notify_tick_runs_the_late_scan(make_connection, make_user, rung, django_capture_on_commit_callbacks):
    lyon = make_connection("lyon", name="Lyon")
    rule_for(make_user("vera", role=Role.VIEWER, connection=lyon))
    snapshot(lyon, "da_1", late_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        notify_tick_task()
        notify_tick_task()
    assert Event.objects.filter(kind=EventKind.DATASET_LATE).count() == 1


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_daily_dataset_on_the_sandbox_becomes_late_once(sandbox_connection, make_user, rung):
    """The frequency comes from the portal's metadata (read by the catalogue sync), late_at from freshness."""
    conn = sandbox_connection("nlate", slug="demo", name="Demo", api_key=KEY, datasets=2, users=1, groups=0,
                              harvesters=0, pages=0)
    rule_for(make_user("vera", role=Role.VIEWER, connection=conn))
    client = client_for(conn)
    daily = sorted(client.dataset_iter(), key=lambda d: d.dataset_id)[0]
    client.metadata_update(daily.uid, "dcat", "accrualperiodicity", value=DAILY)
    client.metadata_update(daily.uid, "default", "modified", value=(timezone.now() - timedelta(days=1)).isoformat())
    catalogue_sync_run(connection=conn)
    row = DatasetSnapshot.objects.get(connection=conn, uid=daily.uid)
    assert row.late_at is not None and not row.is_late  # due within the day and a half
    now = timezone.now()
    assert dataset_late_scan(now=now) == []
    catalogue_sync_run(connection=conn)  # a sync re-writes the row: still nothing to tell
    [event] = dataset_late_scan(now=row.late_at + timedelta(minutes=1))
    assert event.subject.startswith(f"{daily.dataset_id} on Demo is late")
    catalogue_sync_run(connection=conn)
    assert dataset_late_scan(now=row.late_at + timedelta(minutes=2)) == []
    assert Delivery.objects.filter(event=event).count() == 1
