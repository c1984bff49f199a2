"""The status scan against the sandbox portal over real HTTP: truth, budget, shared budget with jobs, faults."""

import re
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from portaladmin.datasets.models import DatasetSnapshot, StatusScan
from portaladmin.datasets.services import catalogue_sync_run
from portaladmin.datasets.services.scan import scan_batch, scan_due, scan_request, scan_reserve
from portaladmin.jobs import engine
from portaladmin.jobs.models import ItemStatus, JobItem, JobStatus
from portaladmin.jobs.services import dataset_action_start
from portaladmin.portals.client import client_for
from portaladmin.portals.models import Connection, Health, Role
from portaladmin.sandbox import clock as sandbox_clock_module
from portaladmin.sandbox.models import SandboxDataset
from portaladmin.sandbox.services import (
    portal_datasets_with_fate,
    request_counts,
    reset_request_log,
    set_faults,
)
from portaladmin.sandbox.status import dataset_status

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

KEY = "sandbox-scan-key-0123456789"
STATUS_PATH = "/status/"


def truth(portal: str) -> dict[str, str]:
    """What GET …/status/ answers for every dataset of the sandbox portal, read from its own state machine."""
    now = sandbox_clock_module.now()
    return {ds.uid: dataset_status(ds, now)["status"] for ds in SandboxDataset.objects.filter(portal__name=portal)}


def figure(html: str, slug: str, name: str) -> int:
    card = html[html.index(f'id="card-{slug}"'):]
    return int(re.search(rf'data-figure="{name}"[^>]*><strong>(\d+)</strong>', card).group(1))


@pytest.fixture
def fast_ticks(settings):
    settings.JOBS_POLL_INTERVAL = 0.02  # the same budget per tick, ticks 100× closer together
    return settings


def test_status_scan_wait_makes_every_row_true_and_the_tiles_count_it(sandbox_connection, sandbox_clock, fast_ticks,
                                                                    make_user, client):
    conn = sandbox_connection("scan1", slug="demo", api_key=KEY, datasets=120, users=0, groups=0, harvesters=0,
                              pages=0)
    catalogue_sync_run(connection=conn)
    assert set(DatasetSnapshot.objects.filter(connection=conn).values_list("status", flat=True)) == {"unknown"}
    # one dataset processing (published, clock moved past the race window and the queue)
    busy = DatasetSnapshot.objects.filter(connection=conn).order_by("dataset_id")[2].uid
    client_for(conn).dataset_publish(busy)
    sandbox_clock.advance(1.5)
    reset_request_log("scan1")

    out = StringIO()
    call_command("status_scan", "demo", "--wait", stdout=out)

    real = truth("scan1")
    rows = dict(DatasetSnapshot.objects.filter(connection=conn).values_list("uid", "status"))
    assert rows == real
    counts = Counter(real.values())
    assert counts["error"] == len(portal_datasets_with_fate("scan1", "error")) == 7
    assert counts["limit_reached"] == len(portal_datasets_with_fate("scan1", "limit_reached")) == 5
    assert real[busy] == "processing"
    assert request_counts("scan1", path_contains=STATUS_PATH) == 120  # one read per dataset, nothing more
    assert request_counts("scan1") == 120
    text = out.getvalue()
    assert "demo: 120 datasets:" in text and "error 7" in text and "limit reached 5" in text
    assert "processing 1" in text and "120 status requests" in text
    # the error rows carry the portal's message and record-error summary, each row its checked_at
    error_row = DatasetSnapshot.objects.get(connection=conn, uid=portal_datasets_with_fate("scan1", "error")[0])
    assert error_row.status_message and "record error" in error_row.status_message
    assert error_row.status_checked_at is not None and error_row.status_since is not None
    limit_row = DatasetSnapshot.objects.get(connection=conn, uid=portal_datasets_with_fate("scan1", "limit_reached")[0])
    assert "limit" in limit_row.status_message

    # the overview's tiles are the true counts and say how complete the knowledge is
    client.force_login(make_user("vera", role=Role.VIEWER, connection=conn))
    html = client.get(reverse("home")).content.decode()
    assert figure(html, "demo", "in-error") == counts["error"]
    assert figure(html, "demo", "limit-reached") == counts["limit_reached"]
    assert figure(html, "demo", "processing") == 1
    assert "Statuses: 120 of 120 checked, oldest" in html
    # the list: statuses with "checked just now" (in words, never "checked 0 minutes ago"), the status filter
    # reads the scan's results
    listing = client.get(reverse("datasets:list", kwargs={"conn": "demo"}) + "?status=error").content.decode()
    assert listing.count("badge badge-error") == 7 and listing.count("checked just now") == 7
    assert "0 minutes" not in listing
    assert "not checked yet" not in listing.split("<tbody>")[1]
    board = client.get(reverse("fleet:datasets") + "?status=limit_reached").content.decode()
    assert "5 datasets" in board and "statuses: 120 of 120 checked" in board


def test_never_checked_rows_say_so_and_the_button_requests_a_scan(sandbox_connection, make_user, client):
    conn = sandbox_connection("scan2", slug="demo", api_key=KEY, datasets=5, users=0, groups=0, harvesters=0, pages=0)
    catalogue_sync_run(connection=conn)
    client.force_login(make_user("olga", role=Role.OPERATOR, connection=conn))
    html = client.get(reverse("datasets:list", kwargs={"conn": "demo"})).content.decode()
    assert html.count(">not checked yet</span>") == 5 and "Unknown" not in html
    assert "Statuses: 0 of 5 checked" in html and "Check statuses now" in html
    response = client.post(reverse("datasets:scan", kwargs={"conn": "demo"}), headers={"HX-Request": "true"})
    assert response.status_code == 200 and "checking… 0 of 5" in response.content.decode()
    assert StatusScan.objects.get(connection=conn).requested_at is not None
    home = client.get(reverse("home")).content.decode()
    assert "Statuses: 0 of 5 checked" in home and "5 not checked yet" in home


def test_scan_order_never_checked_then_updated_then_oldest(connection):
    now = timezone.now()

    def row(uid, checked, updated):
        return DatasetSnapshot.objects.create(connection=connection, uid=uid, dataset_id=uid, status_checked_at=checked,
                                              updated_at=updated, status="idle" if checked else "unknown")

    row("fresh", now - timedelta(minutes=5), now - timedelta(days=9))
    row("old", now - timedelta(hours=5), now - timedelta(days=9))
    row("older", now - timedelta(hours=7), now - timedelta(days=9))
    row("edited", now - timedelta(minutes=30), now - timedelta(minutes=10))
    row("new", None, now)
    row("held", None, now).__class__.objects.filter(uid="held").update(status_scan_until=now + timedelta(seconds=30))
    assert list(scan_due(connection=connection).values_list("uid", flat=True)) == ["new", "edited", "older", "old"]
    # "check now": every row read before the request is due, the fresh one last
    scan_request(connection=connection)
    assert list(scan_due(connection=connection).values_list("uid", flat=True)) == [
        "new", "edited", "older", "old", "fresh"]


def test_a_dead_worker_leaves_its_rows_due_again_after_the_lease(connection, settings):
    settings.STATUS_SCAN_BUDGET = 3
    for n in range(5):
        DatasetSnapshot.objects.create(connection=connection, uid=f"da_{n}", dataset_id=f"d{n}")
    now = timezone.now()
    first = scan_reserve(now=now, polls={})
    assert first == {connection.pk: ["da_0", "da_1", "da_2"]}
    # same tick again (a second beat, or the command): nothing more
    assert scan_reserve(now=now + timedelta(seconds=0.5), polls={}) == {}
    # the next tick takes the next rows; the worker of the first batch died
    assert scan_reserve(now=now + timedelta(seconds=2), polls={}) == {connection.pk: ["da_3", "da_4"]}
    assert scan_reserve(now=now + timedelta(seconds=4), polls={}) == {}
    # after the lease, the reserved-but-unread rows come back first (never checked)
    assert scan_reserve(now=now + timedelta(seconds=61), polls={}) == {connection.pk: ["da_0", "da_1", "da_2"]}


def test_a_running_bulk_publish_keeps_its_poll_budget_while_a_scan_runs(sandbox_connection, sandbox_clock, make_user,
                                                                     no_enqueue, settings, monkeypatch):
    """The real poll_tick hands the jobs their reads first; the scan gets only the rest; the portal's request log
    shows at most the budget per tick."""
    conn = sandbox_connection("scan3", slug="demo", api_key=KEY, datasets=60, users=0, groups=0, harvesters=0,
                              pages=0)
    Connection.objects.filter(pk=conn.pk).update(request_budget=6, status_scan_budget=4)
    conn.refresh_from_db()
    catalogue_sync_run(connection=conn)
    rung: list[tuple[int, list[str]]] = []
    from portaladmin.datasets import tasks

    monkeypatch.setattr(tasks.status_scan_batch, "delay", lambda connection_id, uids: rung.append((connection_id, uids)))
    targets = [{"target": uid, "label": uid} for uid in DatasetSnapshot.objects.filter(connection=conn).order_by(
        "dataset_id").values_list("uid", flat=True)[:5] if uid not in portal_datasets_with_fate("scan3", "error")]
    job = dataset_action_start(actor=make_user("otto", role=Role.OPERATOR, connection=conn), action="publish",
                               targets={conn: targets})
    engine.items_process(list(job.items.values_list("id", flat=True)))
    assert job.items.filter(status=ItemStatus.WAITING).count() == len(targets)

    base = timezone.now()
    per_tick = []
    for tick in range(40):
        sandbox_clock.advance(1.0)
        now = base + timedelta(seconds=2 * tick)
        JobItem.objects.filter(job=job, status=ItemStatus.WAITING).update(next_poll_at=now - timedelta(seconds=1))
        waiting = JobItem.objects.filter(job=job, status=ItemStatus.WAITING).count()
        reset_request_log("scan3")
        rung.clear()
        batches = engine.poll_tick(now=now)
        polls = sum(engine.poll_batch(connection_id=c, item_ids=ids) for c, ids in batches.items())
        scans = sum(scan_batch(connection_id=c, uids=uids)["requests"] for c, uids in rung)
        per_tick.append((waiting, polls, scans, request_counts("scan3")))
        assert polls == min(waiting, 6)  # the job keeps its whole budget
        assert scans <= min(4, 6 - polls)  # the scan takes only what is left
        assert request_counts("scan3") == polls + scans <= 6  # measured on the portal's side
        if not DatasetSnapshot.objects.filter(connection=conn, status_checked_at__isnull=True).exists() \
                and not job.items.filter(status=ItemStatus.WAITING).exists():
            break
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert per_tick[0][:3] == (len(targets), len(targets), 6 - len(targets))
    assert any(scans == 4 for _, polls, scans, _ in per_tick if polls == 0)  # once the job is done: its full share
    assert not DatasetSnapshot.objects.filter(connection=conn, status_checked_at__isnull=True).exists()


def test_faults_404_removes_429_pauses_and_resumes_5xx_waits_key_refused_stops(sandbox_connection, settings):
    settings.STATUS_SCAN_BUDGET = 5
    conn = sandbox_connection("scan4", slug="demo", api_key=KEY, datasets=12, users=0, groups=0, harvesters=0,
                              pages=0)
    catalogue_sync_run(connection=conn)
    uids = list(DatasetSnapshot.objects.filter(connection=conn).order_by("id").values_list("uid", flat=True))
    t = timezone.now()

    # 404: deleted on the portal between the sync and the scan → removed from the snapshot
    client_for(conn).dataset_delete(uids[0])
    plan = scan_reserve(now=t, polls={})[conn.pk]
    assert plan == uids[:5]
    counts = scan_batch(connection_id=conn.pk, uids=plan)
    assert counts["removed"] == 1 and counts["checked"] == 4
    assert not DatasetSnapshot.objects.filter(uid=uids[0]).exists()

    # 429: the portal is paused for everyone; the unread rows wait for the pause and come first after it
    set_faults("scan4", throttle_rate=1.0, retry_after=7)
    reset_request_log("scan4")
    plan = scan_reserve(now=t + timedelta(seconds=2), polls={})[conn.pk]
    assert plan == uids[5:10]
    counts = scan_batch(connection_id=conn.pk, uids=plan)
    assert counts["rate_limited"] == 1 and counts["checked"] == 0
    assert request_counts("scan4") == 1  # no retries inside the budget: one request, then the pause
    conn.refresh_from_db()
    assert conn.paused_until and conn.paused_until > timezone.now() + timedelta(seconds=5)
    assert scan_reserve(now=t + timedelta(seconds=4), polls={}) == {}  # paused: nothing
    set_faults("scan4", throttle_rate=0.0)
    after = conn.paused_until + timedelta(seconds=1)
    assert scan_reserve(now=after, polls={})[conn.pk] == uids[5:10]  # resumed where it stopped

    # 5xx: the scan waits SERVER_ERROR_PAUSE, keeps its progress, then resumes
    DatasetSnapshot.objects.filter(connection=conn).update(status_scan_until=None)
    Connection.objects.filter(pk=conn.pk).update(paused_until=None)  # the pause is over (real time)
    set_faults("scan4", error_rate=1.0)
    counts = scan_batch(connection_id=conn.pk, uids=uids[5:10])
    assert counts["unavailable"] == 1
    state = StatusScan.objects.get(connection=conn)
    assert state.resume_at and state.error
    assert scan_reserve(now=after + timedelta(seconds=10), polls={}) == {}
    set_faults("scan4", error_rate=0.0)
    plan = scan_reserve(now=after + timedelta(seconds=40), polls={})[conn.pk]
    assert plan == uids[5:10]
    assert scan_batch(connection_id=conn.pk, uids=plan)["checked"] == 5

    # key refused: the scan stops, the connection's health says so, nothing is lost
    conn.refresh_from_db()
    conn.set_api_key("a-key-the-portal-does-not-know-123")
    conn.save()
    plan = scan_reserve(now=after + timedelta(seconds=42), polls={})[conn.pk]
    assert plan == uids[10:]
    counts = scan_batch(connection_id=conn.pk, uids=plan)
    assert counts["key_refused"] == 1
    conn.refresh_from_db()
    assert conn.health == Health.AUTH_FAILED and "refused the key" in conn.health_message
    state = StatusScan.objects.get(connection=conn)
    assert state.stopped_at and "scan stopped" in state.error
    assert scan_reserve(now=after + timedelta(seconds=44), polls={}) == {}
    assert DatasetSnapshot.objects.filter(connection=conn, status_checked_at__isnull=True).count() == 2
    # a new key and a request: it goes on with what is left
    conn.set_api_key(KEY)
    conn.save()
    scan_request(connection=conn)
    plan = scan_reserve(now=after + timedelta(seconds=46), polls={})[conn.pk]
    assert plan[:2] == uids[10:]
