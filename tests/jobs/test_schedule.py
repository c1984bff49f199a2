"""Issue 23: the poller reads first what most likely finished. Pure rules, then the engine on a fake clock.

No timings are asserted: the clock is ours (django.utils.timezone.now is replaced), every read is counted.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from portaladmin.jobs import engine, schedule
from portaladmin.jobs.models import ItemStatus, JobItem, JobStatus
from portaladmin.jobs.services import job_cancel
from portaladmin.jobs.watch import job_watched, watch_seconds, watched_jobs
from tests.jobs.conftest import iso

K = schedule.Knobs(first=2.0, tick=2.0, cap=60.0, lag_share=0.10, watched=1.0)


# --- the pure rules ------------------------------------------------------------------------------
def test_watched_items_are_read_every_tick_whatever_their_age():
    for elapsed in (0, 30, 600, 5000):
        assert schedule.next_delay(elapsed=elapsed, expected=300, watched=True, knobs=K) <= K.tick


def test_without_history_the_gap_stays_within_a_tenth_of_the_time_so_far():
    for elapsed in (0, 5, 20, 60, 120, 300, 600):
        delay = schedule.next_delay(elapsed=elapsed, knobs=K)
        # the read falls due up to one tick late: gap + tick stays within max(first + tick, 10 %)
        assert delay + K.tick <= max(K.first + K.tick, 0.10 * elapsed)
    assert schedule.next_delay(elapsed=3000, knobs=K) == K.cap


def test_learned_duration_makes_reads_sparse_before_the_expected_end_and_dense_around_it():
    expected = 600.0
    low, high = schedule.window(expected)
    assert low < expected < high
    elapsed, reads_before, reads_in = 2.0, 0, 0
    while elapsed < low:
        elapsed += schedule.next_delay(elapsed=elapsed, expected=expected, knobs=K)
        reads_before += 1
    assert elapsed == pytest.approx(low)  # lands on the window's start
    while elapsed <= high:
        delay = schedule.next_delay(elapsed=elapsed, expected=expected, knobs=K)
        assert delay <= 0.02 * expected + 1e-9
        elapsed += delay
        reads_in += 1
    naive = expected / 3
    assert reads_before + reads_in < naive / 4
    # far fewer reads than the general rule before the window
    general, e = 0, 2.0
    while e < low:
        e += schedule.next_delay(elapsed=e, knobs=K)
        general += 1
    assert reads_before < general


def test_expected_seconds_is_the_median_of_the_recent_past():
    assert schedule.expected_seconds([]) is None
    assert schedule.expected_seconds([30, 32, 400, 31, 29, 1000, 1000]) == 31  # the last five only
    t = datetime(2026, 1, 1, tzinfo=UTC)
    # on the portal's clock when it gave both ends (our finished_at includes our own lag)
    assert schedule.past_duration(sent_at=t, finished_at=t + timedelta(seconds=90), portal_sent_at=t,
                                  remote_since=t + timedelta(seconds=60)) == 60
    assert schedule.past_duration(sent_at=t, finished_at=t + timedelta(seconds=90), portal_sent_at=None,
                                  remote_since=None) == 90


def test_read_order_aborts_then_watched_then_hinted_then_most_overdue():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        dict(item_id=1, cancelling=False, watched=False, hinted=False, expected_end=None,
             next_poll_at=now - timedelta(hours=1)),  # the oldest
        dict(item_id=2, cancelling=False, watched=False, hinted=False, expected_end=now - timedelta(minutes=90),
             next_poll_at=now),  # long overdue against its expected end
        dict(item_id=3, cancelling=False, watched=False, hinted=True, expected_end=None, next_poll_at=now),
        dict(item_id=4, cancelling=False, watched=True, hinted=False, expected_end=None, next_poll_at=now),
        dict(item_id=5, cancelling=True, watched=False, hinted=False, expected_end=None, next_poll_at=now),
    ]
    order = [r["item_id"] for r in sorted(rows, key=lambda r: schedule.sort_key(now=now, **r))]
    assert order == [5, 4, 3, 2, 1]


# --- the engine on a fake clock --------------------------------------------------------------------
@pytest.fixture
def clock(monkeypatch):
    """A clock we move by hand: the engine, the models and the watch all read it."""
    current = [timezone.now().replace(microsecond=0)]
    monkeypatch.setattr(timezone, "now", lambda: current[0])

    class Clock:
        def now(self):
            return current[0]

        def advance(self, seconds):
            current[0] += timedelta(seconds=seconds)

    return Clock()


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def send_all(job):
    for item in job.items.order_by("id"):
        engine.items_process([item.pk])


def tick(connection):
    """One poll tick and its batch, as the worker runs them. Returns the ids read, in order."""
    batches = engine.poll_tick()
    ids = batches.get(connection.pk, [])
    if connection.pk in batches:
        engine.poll_batch(connection_id=connection.pk, item_ids=ids, hint=batches.hints.get(connection.pk, 0))
    return ids


def test_watched_job_is_read_first_and_at_least_every_other_tick(start_job, portal, connection, clock, jobs_settings):
    jobs_settings.JOBS_PORTAL_REQUEST_BUDGET = 5
    jobs_settings.JOBS_LIST_HINT_MIN_ITEMS = 10_000  # no hints in this test
    old = start_job([f"da_old_{i}" for i in range(8)])
    send_all(old)
    clock.advance(30)
    new = start_job([f"da_new_{i}" for i in range(3)])
    send_all(new)
    for uid in list(portal.status):
        portal.set(uid, "processing")
    clock.advance(5)
    # nobody watches: the oldest items go first
    first = tick(connection)
    assert set(first) <= set(old.items.values_list("id", flat=True))
    # someone opens the new job's page: its items are due at once and read before the older job's
    assert job_watched(new.pk) is True and watched_jobs([new.pk, old.pk]) == {new.pk}
    assert job_watched(new.pk) is False  # still the same watching, no second pull-forward
    clock.advance(2)
    read = tick(connection)
    new_ids = set(new.items.values_list("id", flat=True))
    assert set(read[:3]) == new_ids
    # and again at least every other tick while watched, however long it has been processing
    for _ in range(3):
        read = set()
        for _ in range(2):
            clock.advance(2)
            job_watched(new.pk)
            read |= set(tick(connection))
        assert new_ids <= read
    # watching stops: the gaps grow again
    jobs_settings.JOBS_PORTAL_REQUEST_BUDGET = 20
    clock.advance(max(watch_seconds() + 1, 90))
    tick(connection)
    gaps = [(i.next_poll_at - clock.now()).total_seconds() for i in new.items.all()]
    assert min(gaps) > schedule.Knobs.from_settings().watched


def test_finished_items_of_the_same_job_predict_the_others_only_when_they_agree():
    assert schedule.expected_from_peers([30, 31, 29, 30]) is None  # too few
    assert schedule.expected_from_peers([30, 31, 29, 30, 32, 30]) == 30
    assert schedule.expected_from_peers([10, 60, 200, 410, 590, 300]) is None  # a wide spread predicts nothing
    assert schedule.expected_from_peers([30, 31, 29, 30, 32, 30, 31, 30, 29, 600]) == 30  # one outlier in ten


def test_an_item_without_a_past_takes_the_time_its_jobs_finished_items_agree_on(start_job, portal, connection, clock):
    job = start_job([f"da_{i}" for i in range(8)])
    for item in job.items.order_by("id")[:6]:
        engine.items_process([item.pk])
        portal.set(item.target, "processing")
    clock.advance(2)
    tick(connection)
    clock.advance(40)  # the first six took 42 s each
    for item in job.items.order_by("id")[:6]:
        portal.set(item.target, "idle", is_published=True)
    tick(connection)
    assert job.items.filter(status=ItemStatus.SUCCEEDED).count() == 6
    late = job.items.order_by("id")[6]
    engine.items_process([late.pk])
    portal.set(late.target, "processing")
    clock.advance(2)
    tick(connection)
    late.refresh_from_db()
    assert late.expected_end is not None
    assert 35 <= (late.expected_end - late.sent_at).total_seconds() <= 45


def test_when_the_jobs_finished_items_agree_every_waiting_item_gets_the_expectation_not_only_those_read(
        start_job, portal, connection, clock):
    job = start_job([f"da_{i}" for i in range(8)])
    send_all(job)
    for item in job.items.all():
        portal.set(item.target, "processing")
    clock.advance(2)
    tick(connection)
    slow = list(job.items.order_by("id")[6:])
    JobItem.objects.filter(pk__in=[i.pk for i in slow]).update(next_poll_at=clock.now() + timedelta(minutes=10))
    clock.advance(40)
    for item in job.items.order_by("id")[:6]:
        portal.set(item.target, "idle", is_published=True)
    read = tick(connection)
    assert not {i.pk for i in slow} & set(read)
    for item in slow:
        item.refresh_from_db()
        assert item.expected_end is not None and item.next_poll_at == item.expected_end  # due at its end, not in 10 min


def test_the_expected_end_is_learned_from_the_datasets_own_past_publishes(start_job, portal, connection, clock):
    past = start_job(["da_slow", "da_new"])
    send_all(past)
    JobItem.objects.filter(job=past, target="da_new").update(status=ItemStatus.CANCELLED)
    portal.set("da_slow", "processing")
    clock.advance(2)
    tick(connection)
    clock.advance(300)  # it took five minutes
    portal.set("da_slow", "idle", is_published=True)
    tick(connection)
    assert past.items.get(target="da_slow").status == ItemStatus.SUCCEEDED

    clock.advance(60)
    portal.set("da_new", "idle", since=clock.now() - timedelta(days=1))
    job = start_job(["da_slow", "da_new"])
    send_all(job)
    portal.set("da_slow", "processing")
    portal.set("da_new", "processing")
    clock.advance(2)
    tick(connection)
    slow, new = job.items.get(target="da_slow"), job.items.get(target="da_new")
    assert new.expected_end is None  # no past publish: the general rule
    assert slow.expected_end is not None
    expected = (slow.expected_end - slow.sent_at).total_seconds()
    assert 295 <= expected <= 310
    # before the window around its expected end, far fewer reads than the item without history gets
    reads_before = portal.count("dataset_status", "da_slow"), portal.count("dataset_status", "da_new")
    while (clock.now() - slow.sent_at).total_seconds() < expected - 40:
        clock.advance(2)
        tick(connection)
    sparse = portal.count("dataset_status", "da_slow") - reads_before[0]
    general = portal.count("dataset_status", "da_new") - reads_before[1]
    assert sparse * 2 < general
    portal.set("da_slow", "idle", is_published=True)
    for _ in range(30):
        clock.advance(2)
        tick(connection)
        if job.items.get(target="da_slow").status != ItemStatus.WAITING:
            break
    done = job.items.get(target="da_slow")
    assert done.status == ItemStatus.SUCCEEDED
    assert (done.finished_at - done.sent_at).total_seconds() <= expected + 15


def test_items_the_list_says_changed_are_read_first_but_only_a_read_proves_success(start_job, portal, connection,
                                                                                  clock, jobs_settings):
    jobs_settings.JOBS_PORTAL_REQUEST_BUDGET = 4
    jobs_settings.JOBS_LIST_HINT_MIN_ITEMS = 2
    uids = [f"da_{i}" for i in range(12)]
    job = start_job(uids)
    send_all(job)
    for uid in uids:
        portal.set(uid, "processing", is_published=False)
    for _ in range(4):  # everything read once (the hints need a known last state)
        clock.advance(2)
        tick(connection)
    assert not job.items.filter(poll_count=0).exists()
    clock.advance(120)
    portal.set("da_11", "idle", is_published=True)  # the newest item is the one that finished
    lists, calls = portal.count("dataset_list"), len(portal.calls)
    read = tick(connection)  # this tick spends one request of its budget on the list
    assert portal.count("dataset_list") == lists + 1 and len(read) == 3
    hinted = job.items.get(target="da_11")
    assert hinted.pk not in read  # the tick did not know: it took the three longest due
    # ...but the batch read it right after the list, in place of its last read (due again at once)
    assert portal.count("dataset_status", "da_11") == 2 and len(portal.calls) - calls == 4
    hinted.refresh_from_db()
    assert hinted.status == ItemStatus.SUCCEEDED and hinted.hinted_at is None
    displaced = job.items.get(pk=read[-1])
    assert displaced.status == ItemStatus.WAITING and displaced.next_poll_at <= clock.now()


def test_list_windows_cover_every_place_with_the_fewest_pages():
    assert schedule.list_windows([]) == []
    assert schedule.list_windows([None, 3, 700]) == [0]  # unknown places: the first page, as before places
    assert schedule.list_windows([100, 1200, 2300, 1210, 2999]) == [50, 1150, 2250]
    # each window starts LIST_DRIFT before its first place and holds the next 1,000
    assert schedule.list_windows([1049, 1050, 2000]) == [999, 1950]
    # read in turn down the list, whatever windows came and went meanwhile
    assert schedule.next_window([50, 1150, 2250], None) == 50
    assert schedule.next_window([50, 1150, 2250], 50) == 1150
    assert schedule.next_window([50, 2250], 1150) == 2250
    assert schedule.next_window([50, 1150, 2250], 2250) == 50
    assert schedule.next_window([1150], 1150) == 1150 and schedule.next_window([], 7) == 0


def _big_list_job(targets, *, budget, portal, connection, start_job, jobs_settings):
    """A 2,500-dataset portal whose rows keep their list places (as a sync leaves them), a publish of `targets`
    sent and processing; hints allowed from one item on."""
    from portaladmin.datasets.models import DatasetSnapshot

    jobs_settings.JOBS_PORTAL_REQUEST_BUDGET = budget
    jobs_settings.JOBS_LIST_HINT_MIN_ITEMS = 1
    uids = [f"da_{i:04d}" for i in range(2500)]
    for uid in uids:
        portal.status[uid]  # the portal's list order
    DatasetSnapshot.objects.bulk_create([DatasetSnapshot(connection=connection, uid=uid, dataset_id=uid,
                                                         list_position=place) for place, uid in enumerate(uids)])
    job = start_job(targets)
    send_all(job)
    for uid in targets:
        portal.set(uid, "processing", is_published=False)
    return job


def test_the_list_hint_reads_the_part_of_a_big_list_that_holds_the_jobs_datasets(start_job, portal, connection,
                                                                                 clock, jobs_settings):
    """Datasets at places 100, 1,200 and 2,300 of a 2,500-dataset portal: before places were kept, only the first
    1,000 were listed and the other two never hinted; now each window of the list is read in turn."""
    targets = ["da_0100", "da_1200", "da_2300"]
    job = _big_list_job(targets, budget=4, portal=portal, connection=connection, start_job=start_job,
                        jobs_settings=jobs_settings)
    clock.advance(2)
    tick(connection)  # each read once: a hint needs a known last state
    assert not job.items.filter(poll_count=0).exists()
    for uid in targets:
        portal.set(uid, "idle", is_published=True)
    offsets = []
    for _ in range(3):  # three hint ticks, the items' own reads far off (a long expected end)
        JobItem.objects.filter(job=job, status=ItemStatus.WAITING).update(next_poll_at=clock.now() + timedelta(hours=1))
        clock.advance(engine.hint_seconds())
        before = len(portal.calls)
        tick(connection)
        offsets += [int(t) for m, t in portal.calls[before:] if m == "dataset_list"]
    assert offsets == [50, 1150, 2250]  # down the list, each window once
    assert set(job.items.values_list("status", flat=True)) == {ItemStatus.SUCCEEDED}
    # a dataset the sync never placed (created since): the first page stands for it, as before
    assert engine.schedule.list_windows([None]) == [0]


def test_a_tick_reads_several_windows_of_the_list_when_the_budget_allows(start_job, portal, connection, clock,
                                                                         jobs_settings):
    """One list request per window holding waiting datasets, at most a quarter of the budget: with a budget of 8,
    two of the three windows per hint (then the third), the reads of the batch two fewer."""
    targets = ["da_0100", "da_1200", "da_2300"]
    job = _big_list_job(targets, budget=8, portal=portal, connection=connection, start_job=start_job,
                        jobs_settings=jobs_settings)
    clock.advance(2)
    tick(connection)
    JobItem.objects.filter(job=job).update(next_poll_at=clock.now() + timedelta(hours=1))
    clock.advance(engine.hint_seconds())
    batches = engine.poll_tick()
    assert batches.hints == {connection.pk: 2}
    before = len(portal.calls)
    engine.poll_batch(connection_id=connection.pk, item_ids=batches[connection.pk], hint=batches.hints[connection.pk])
    assert [int(t) for m, t in portal.calls[before:] if m == "dataset_list"] == [50, 1150]
    JobItem.objects.filter(job=job).update(next_poll_at=clock.now() + timedelta(hours=1))
    clock.advance(engine.hint_seconds())
    before = len(portal.calls)
    tick(connection)
    assert [int(t) for m, t in portal.calls[before:] if m == "dataset_list"][0] == 2250  # the sweep goes on


def test_a_hint_tick_with_several_lists_stays_within_the_budget(start_job, portal, connection, clock, jobs_settings):
    """A full batch: the lists, the tick's reads and the hinted items read in their place make at most the budget."""
    targets = [f"da_{i:04d}" for base in (100, 1200, 2300) for i in range(base, base + 6)]
    job = _big_list_job(targets, budget=8, portal=portal, connection=connection, start_job=start_job,
                        jobs_settings=jobs_settings)
    for _ in range(4):
        clock.advance(2)
        tick(connection)
    assert not job.items.filter(poll_count=0).exists()
    for uid in targets:
        portal.set(uid, "idle", is_published=True)
    JobItem.objects.filter(job=job).update(next_poll_at=clock.now())  # every item due: the batch is full
    clock.advance(engine.hint_seconds())
    batches = engine.poll_tick()
    assert batches.hints == {connection.pk: 2} and len(batches[connection.pk]) == 6
    before = len(portal.calls)
    made = engine.poll_batch(connection_id=connection.pk, item_ids=batches[connection.pk],
                             hint=batches.hints[connection.pk])
    assert len(portal.calls) - before == made <= 8
    assert portal.count("dataset_list") >= 2


def test_a_hint_never_overrides_the_truth_rules(start_job, portal, connection, clock, jobs_settings):
    jobs_settings.JOBS_LIST_HINT_MIN_ITEMS = 1
    job = start_job(["da_1"])
    send_all(job)
    portal.set("da_1", "processing", is_published=False)
    clock.advance(2)
    tick(connection)
    portal.status["da_1"]["is_published"] = True  # the list says published, the status still processing
    clock.advance(engine.hint_seconds())
    tick(connection)
    clock.advance(2)
    tick(connection)
    item = job.items.get()
    assert item.status == ItemStatus.WAITING and item.remote_state == "processing"


def test_cancel_sends_no_request_for_unsent_items_and_aborts_before_any_read(start_job, portal, connection, clock,
                                                                             operator, jobs_settings):
    jobs_settings.JOBS_PORTAL_REQUEST_BUDGET = 6
    jobs_settings.JOBS_LIST_HINT_MIN_ITEMS = 10_000
    other = start_job([f"da_other_{i}" for i in range(6)])
    send_all(other)
    job = start_job([f"da_c_{i}" for i in range(8)])
    for item in job.items.order_by("id")[:4]:
        engine.items_process([item.pk])  # four sent, four not yet
    for uid in list(portal.status):
        portal.set(uid, "processing")
    clock.advance(10)
    calls = len(portal.calls)
    job_cancel(job=job, actor=operator)
    job.refresh_from_db()
    assert len(portal.calls) == calls  # the unsent ones end at once, with no request
    assert job.cancelled_count == 4 and job.running_count == 4
    clock.advance(2)
    tick(connection)
    new_calls = portal.calls[calls:]
    # the aborts go first, one request each; the other job's reads only after them
    assert [m for m, _ in new_calls[:4]] == ["dataset_abort"] * 4
    assert [m for m, _ in new_calls[4:]] == ["dataset_status"] * 2
    assert portal.count("dataset_status", "da_c_0") == 0  # no read after an accepted abort
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.cancelled_count == 8
    assert all("abort was sent" in m for m in job.items.filter(action_sent=True).values_list("message", flat=True))


def test_the_dataset_orders_take_list_hints_but_not_aborts():
    from portaladmin.jobs.registry import get_kind

    hinted = {name for name in ("dataset.publish", "dataset.unpublish", "dataset.publish_metadata", "dataset.abort",
                                "harvester.start") if get_kind(name).list_hints}
    assert hinted == {"dataset.publish", "dataset.unpublish", "dataset.publish_metadata"}


def test_a_republish_is_hinted_by_the_listed_updated_at_when_the_portal_moves_it(start_job, portal, connection,
                                                                                   clock, jobs_settings):
    """Already-published datasets: the flag cannot change, but a portal that moves updated_at when processing ends
    shows the end in the list; the hinted item is read in the same batch."""
    jobs_settings.JOBS_PORTAL_REQUEST_BUDGET = 4
    jobs_settings.JOBS_LIST_HINT_MIN_ITEMS = 2
    portal.moves_updated_at = True
    uids = [f"da_{i}" for i in range(12)]
    for uid in uids:
        portal.status[uid]["is_published"] = True
    job = start_job(uids)
    send_all(job)
    for uid in uids:
        portal.set(uid, "processing", is_published=True)
    for _ in range(4):
        clock.advance(2)
        tick(connection)
    clock.advance(120)
    portal.set("da_7", "idle")  # published still; updated_at moves to the end
    read = tick(connection)
    item = job.items.get(target="da_7")
    assert item.pk not in read and item.status == ItemStatus.SUCCEEDED
    assert job.items.filter(status=ItemStatus.SUCCEEDED).count() == 1  # the others: still processing, not hinted


def test_an_updated_at_from_before_the_state_last_read_gives_no_hint(start_job, portal, connection, clock,
                                                                     jobs_settings):
    """A portal that moves updated_at when it takes the order (not when it ends): once a read showed the busy
    state that began after it, the list stops hinting, so no read is wasted on it tick after tick."""
    jobs_settings.JOBS_LIST_HINT_MIN_ITEMS = 1
    job = start_job(["da_1"])
    send_all(job)
    portal.status["da_1"]["is_published"] = True
    portal.updated_at["da_1"] = iso(clock.now())  # moved when the order arrived
    portal.set("da_1", "processing", since=clock.now() + timedelta(seconds=3), is_published=True)
    clock.advance(4)
    tick(connection)
    reads = portal.count("dataset_status", "da_1")
    for _ in range(3):
        clock.advance(engine.hint_seconds())
        tick(connection)
    item = job.items.get()
    assert item.hinted_at is None and portal.count("dataset_list") >= 1
    # reads on its schedule only (general rule: a gap of at least 2 s), never an extra one for a hint
    assert portal.count("dataset_status", "da_1") - reads <= 3
    assert item.status == ItemStatus.WAITING


# --- sends share the budget with the reads (engine.paced) ----------------------------------------------------------
def ring(no_enqueue, django_capture_on_commit_callbacks):
    """The worker: send every doorbell rung so far. Returns how many items it sent."""
    sent = 0
    while no_enqueue:
        ids = no_enqueue.pop(0)
        with django_capture_on_commit_callbacks(execute=True):
            sent += engine.items_process(ids)
    return sent


def paced_tick(connection, no_enqueue, capture):
    """One tick: its reads, then the worker sends what the tick rang. Returns (ids read, items sent)."""
    with capture(execute=True):
        read = tick(connection)
    return read, ring(no_enqueue, capture)


def test_a_big_publish_starts_with_half_a_tick_and_the_tick_rings_the_rest_within_the_budget(
        start_job, portal, connection, clock, jobs_settings, no_enqueue, django_capture_on_commit_callbacks):
    jobs_settings.JOBS_PORTAL_REQUEST_BUDGET = 10
    jobs_settings.JOBS_LIST_HINT_MIN_ITEMS = 10_000
    job = start_job([f"da_{i}" for i in range(40)])
    assert sum(len(ids) for ids in no_enqueue) == 5  # half a tick's budget goes at once
    assert ring(no_enqueue, django_capture_on_commit_callbacks) == 5
    assert job.items.filter(status=ItemStatus.PENDING, enqueued_at__isnull=True).count() == 35
    assert engine.sweep()["requeued"] == 0  # waiting for their turn is not a lost doorbell
    for _ in range(12):
        clock.advance(2)
        calls = len(portal.calls)
        read, sent = paced_tick(connection, no_enqueue, django_capture_on_commit_callbacks)
        assert len(portal.calls) - calls <= 10 + 10 // 4  # reads and sends together: about the budget per tick
        assert sent >= 5 or not job.items.filter(status=ItemStatus.PENDING).exists()  # sends never starve
    assert not job.items.filter(status=ItemStatus.PENDING).exists()


def test_reads_of_items_likely_finished_go_before_new_sends(start_job, portal, connection, clock, jobs_settings,
                                                           no_enqueue, django_capture_on_commit_callbacks):
    jobs_settings.JOBS_PORTAL_REQUEST_BUDGET = 10
    jobs_settings.JOBS_LIST_HINT_MIN_ITEMS = 10_000
    job = start_job([f"da_{i}" for i in range(30)])
    ring(no_enqueue, django_capture_on_commit_callbacks)
    sent = list(job.items.filter(action_sent=True).order_by("id"))
    assert len(sent) == 5
    for item in sent:  # their own past: each should be done 10 s after its send
        JobItem.objects.filter(pk=item.pk).update(expected_end=item.sent_at + timedelta(seconds=10))
        portal.set(item.target, "processing")
    clock.advance(12)
    for item in sent:
        portal.set(item.target, "idle", is_published=True)
    read, sent_now = paced_tick(connection, no_enqueue, django_capture_on_commit_callbacks)
    assert sorted(read) == sorted(item.pk for item in sent)  # all five overdue items read, none left for later
    assert job.items.filter(status=ItemStatus.SUCCEEDED).count() == 5
    assert sent_now == 5  # and the rest of the budget went to sends


def test_other_reads_leave_the_sends_half_the_budget(start_job, portal, connection, clock, jobs_settings, no_enqueue,
                                                     django_capture_on_commit_callbacks):
    jobs_settings.JOBS_PORTAL_REQUEST_BUDGET = 10
    jobs_settings.JOBS_LIST_HINT_MIN_ITEMS = 10_000
    busy = start_job([f"da_busy_{i}" for i in range(20)])
    send_all(busy)  # twenty items already processing, each due for a read at every tick
    for item in busy.items.all():
        portal.set(item.target, "processing")
    no_enqueue.clear()
    job = start_job([f"da_new_{i}" for i in range(30)])
    ring(no_enqueue, django_capture_on_commit_callbacks)
    clock.advance(2)
    read, sent = paced_tick(connection, no_enqueue, django_capture_on_commit_callbacks)
    assert len(read) == 5 and sent == 5  # half and half, not twenty reads and no send
    assert job.items.filter(action_sent=True).count() == 10


def test_the_sweeper_rings_waiting_sends_only_when_the_tick_has_stopped(start_job, connection, clock, jobs_settings,
                                                                        no_enqueue):
    job = start_job([f"da_{i}" for i in range(30)])
    no_enqueue.clear()
    clock.advance(1)
    engine.poll_tick()  # the tick runs: the waiting sends are its own
    no_enqueue.clear()
    clock.advance(40)
    assert engine.sweep()["requeued"] == 0  # the tick ran within the grace (the lease: 60 s): they are its own
    JobItem.objects.filter(job=job, enqueued_at__isnull=False).update(enqueued_at=None)  # and its doorbells lost
    clock.advance(200)
    assert engine.sweep()["requeued"] == 30  # no tick for 240 s: the sweeper takes over, nothing is lost


def test_a_rung_send_whose_doorbell_was_lost_is_rung_again_by_the_sweeper(start_job, connection, clock, jobs_settings,
                                                                           no_enqueue, django_capture_on_commit_callbacks):
    """A worker killed with the doorbells it had taken: the items stay pending with their ring time; the sweeper
    rings them again after the grace even while the tick runs (the tick only rings items never rung)."""
    job = start_job([f"da_{i}" for i in range(30)])
    no_enqueue.clear()
    clock.advance(1)
    with django_capture_on_commit_callbacks(execute=True):
        engine.poll_tick()
    rung = set(job.items.filter(enqueued_at__isnull=False).values_list("id", flat=True))
    assert rung and len(no_enqueue)
    no_enqueue.clear()  # lost with the worker
    clock.advance(61)
    with django_capture_on_commit_callbacks(execute=True):
        engine.poll_tick()  # the tick is alive, but it does not ring what it already rang
        assert engine.sweep()["requeued"] >= len(rung)
    assert rung <= {pk for ids in no_enqueue for pk in ids}


def test_an_edit_while_the_order_runs_hints_once_not_at_every_list(start_job, portal, connection, clock, jobs_settings):
    """A metadata PUT during a long publish moves the listed updated_at (FACTS.md: every write does) while the status
    still shows the same processing state: one hinted read shows nothing changed; the same updated_at must not hint
    again at every list request for the rest of the processing (a hint is never proof, and a false one is paid once)."""
    jobs_settings.JOBS_LIST_HINT_MIN_ITEMS = 1
    job = start_job(["da_1"])
    send_all(job)
    portal.set("da_1", "processing", since=clock.now() + timedelta(seconds=1))
    clock.advance(600)
    tick(connection)  # a long publish: its reads are now about a minute apart
    portal.updated_at["da_1"] = iso(clock.now())  # someone edits the dataset's metadata meanwhile
    clock.advance(engine.hint_seconds())
    reads = portal.count("dataset_status", "da_1")
    for _ in range(10):
        tick(connection)
        clock.advance(engine.hint_seconds())
    assert portal.count("dataset_list") >= 5  # the list kept being asked
    # the one hinted read, and at most one on the item's own schedule (a gap of ~60 s at 10 min of processing)
    assert portal.count("dataset_status", "da_1") - reads <= 2
    portal.set("da_1", "idle", is_published=True)  # a real end after the edit still hints at once
    portal.updated_at["da_1"] = portal.status["da_1"]["since"]
    clock.advance(engine.hint_seconds())
    tick(connection)
    assert job.items.get().status == ItemStatus.SUCCEEDED


def test_two_big_jobs_on_one_portal_share_the_sends(start_job, portal, connection, clock, jobs_settings, no_enqueue,
                                                    django_capture_on_commit_callbacks, make_user):
    """A colleague's publish of 20 datasets started after a publish of 200 gets its turns from the next tick, not
    after the 200 have all been sent (the waiting sends of each job take turns, the oldest first within a job)."""
    from portaladmin.portals.models import Role

    jobs_settings.JOBS_PORTAL_REQUEST_BUDGET = 10
    jobs_settings.JOBS_LIST_HINT_MIN_ITEMS = 10_000
    portal.on_publish = "processing"
    big = start_job([f"da_big_{i}" for i in range(200)])
    ring(no_enqueue, django_capture_on_commit_callbacks)
    clock.advance(2)
    paced_tick(connection, no_enqueue, django_capture_on_commit_callbacks)
    other = make_user("olga", role=Role.OPERATOR, connection=connection)
    small = start_job([f"da_small_{i}" for i in range(20)], actor=other)
    ring(no_enqueue, django_capture_on_commit_callbacks)
    sends = 0
    for _ in range(4):
        clock.advance(2)
        sends += paced_tick(connection, no_enqueue, django_capture_on_commit_callbacks)[1]
    assert sends >= 4 * 10 // 4  # the sends never starve (at least a quarter of the budget per tick)
    # the small job had every other turn of those ticks (an odd one per tick to the older job), on top of its first
    # 5 (before: none until the 200 were sent)
    assert small.items.filter(action_sent=True).count() - 5 >= (sends - 4) // 2 > 0
    assert big.items.filter(action_sent=True).count() >= 5 + 5 + sends // 2


@pytest.mark.parametrize("budget", [1, 2, 3])
def test_a_portal_with_a_tiny_budget_gets_no_more_than_it(start_job, portal, connection, clock, jobs_settings,
                                                          no_enqueue, django_capture_on_commit_callbacks, budget):
    """request_budget 1-3: reads and sends together stay within the budget at every tick (the sends' floor of one
    request made 2 per tick on a budget of 1 for a whole job), the sends go on, and the reads are not starved."""
    connection.request_budget = budget
    connection.save(update_fields=["request_budget"])
    jobs_settings.JOBS_LIST_HINT_MIN_ITEMS = 10_000
    portal.on_publish = "processing"
    job = start_job([f"da_{i}" for i in range(8)])
    ring(no_enqueue, django_capture_on_commit_callbacks)
    reads_while_sending = 0
    for _ in range(40):
        clock.advance(2)
        calls = len(portal.calls)
        read, _sent = paced_tick(connection, no_enqueue, django_capture_on_commit_callbacks)
        assert len(portal.calls) - calls <= budget
        if job.items.filter(status=ItemStatus.PENDING).exists():
            reads_while_sending += len(read)
    assert not job.items.filter(status=ItemStatus.PENDING).exists()
    assert reads_while_sending > 0


def test_items_the_list_hints_while_sends_wait_take_the_place_of_reads_not_of_the_sends(
        start_job, portal, connection, clock, jobs_settings, no_enqueue, django_capture_on_commit_callbacks):
    """The tick has already given what its reads left to the sends waiting there: the items the list hints at in the
    batch displace its last reads instead of filling the budget again (a hint tick made 15 requests of a budget of
    10: the list, 4 reads, 5 hinted reads and 5 sends)."""
    jobs_settings.JOBS_PORTAL_REQUEST_BUDGET = 10
    jobs_settings.JOBS_LIST_HINT_MIN_ITEMS = 2
    portal.moves_updated_at = True
    portal.on_publish = "processing"
    job = start_job([f"da_{i}" for i in range(120)])
    ring(no_enqueue, django_capture_on_commit_callbacks)
    list_requests = 0
    for _ in range(30):
        clock.advance(2)
        for item in job.items.filter(status=ItemStatus.WAITING, sent_at__lte=clock.now() - timedelta(seconds=40)):
            if portal.status[item.target]["status"] == "processing":  # each ends 40 s after its send
                portal.set(item.target, "idle", since=clock.now() - timedelta(seconds=1))
        calls = len(portal.calls)
        lists = portal.count("dataset_list")
        paced_tick(connection, no_enqueue, django_capture_on_commit_callbacks)
        assert len(portal.calls) - calls <= 10 + 10 // 4
        list_requests += portal.count("dataset_list") - lists
    assert list_requests and job.items.filter(status=ItemStatus.SUCCEEDED).exists()


def test_jobs_take_turns_even_when_a_tick_has_room_for_one_send(start_job, portal, connection, clock, jobs_settings,
                                                                 no_enqueue, django_capture_on_commit_callbacks,
                                                                 make_user):
    """A portal with a budget of 2 rings one send a tick: the jobs waiting there still alternate (the oldest job's
    next item came first at every tick, so a later job waited for every send of the first)."""
    from portaladmin.portals.models import Role

    connection.request_budget = 2
    connection.save(update_fields=["request_budget"])
    jobs_settings.JOBS_LIST_HINT_MIN_ITEMS = 10_000
    portal.on_publish = "processing"
    first = start_job([f"da_a{i}" for i in range(30)])
    later = start_job([f"da_b{i}" for i in range(6)], actor=make_user("olga", role=Role.OPERATOR,
                                                                     connection=connection))
    ring(no_enqueue, django_capture_on_commit_callbacks)  # the first send of each
    for _ in range(12):
        clock.advance(2)
        paced_tick(connection, no_enqueue, django_capture_on_commit_callbacks)
    assert later.items.filter(action_sent=True).count() >= 4  # before: only its first, 11 of the first job's
    assert first.items.filter(action_sent=True).count() >= 4
