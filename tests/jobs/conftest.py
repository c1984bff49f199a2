"""Fixtures for the job engine: a fake portal client (swapped in at portaladmin.jobs.remote.get_client)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from portaladmin.jobs import remote
from portaladmin.portals.client.errors import PortalConflict
from portaladmin.portals.client.schemas import DatasetStatus, Harvester, HarvesterErrors
from portaladmin.portals.models import Role


@pytest.fixture(autouse=True)
def _nobody_watching():
    """A job is "watched" while its page polls (jobs/watch.py, kept in the cache): a job page opened by an earlier
    test must not make a later test's job read as watched. SQLite gives a rolled-back id again (PostgreSQL never
    does); only the in-memory cache is cleared — a Redis cache may share its database with the broker."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()
    yield


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


class FakePortal:
    """A tiny in-memory portal: dataset statuses we set by hand, every call recorded, faults queued per method."""

    def __init__(self):
        self.calls: list[tuple[str, str]] = []
        self.status: dict[str, dict] = defaultdict(lambda: {"status": "idle", "since": iso(timezone.now() - timedelta(days=1)),
                                                            "is_published": False})
        self.faults: dict[str, list[Exception]] = defaultdict(list)
        self.on_publish = "queued"  # the state a publish moves to (None: leave it, the race)
        self.harvesters: dict[str, dict] = {}
        self.clock_offset = timedelta(0)
        self.ordered: dict[str, bool] = {}  # uid → the is_published its last publish/unpublish asked for
        self.moves_updated_at = False  # True: a final state moves the dataset's listed updated_at (some portals)
        self.updated_at: dict[str, str] = {}

    def count(self, method: str, target: str | None = None) -> int:
        return sum(1 for m, t in self.calls if m == method and (target is None or t == target))

    def counts(self) -> Counter:
        return Counter(m for m, _ in self.calls)

    def fail_next(self, method: str, exc: Exception) -> None:
        self.faults[method].append(exc)

    def set(self, uid: str, status: str, *, since: datetime | None = None, **extra) -> None:
        """Set a state; by default entered one second from now, i.e. after any order sent so far."""
        if status == "idle" and "is_published" not in extra:  # an order that completes does what it says
            extra["is_published"] = self.ordered.get(uid, self.status[uid].get("is_published", False))
        self.status[uid] = {"status": status, "since": iso(since or timezone.now() + timedelta(seconds=1)), **extra}
        if self.moves_updated_at and status in ("idle", "error", "limit_reached"):
            self.updated_at[uid] = self.status[uid]["since"]

    def last_answer_clock(self):
        """Like the real client: the portal's Date header (whole seconds; this fake's clock is ours + offset)."""
        from portaladmin.portals.client.base import AnswerClock

        return AnswerClock(date=(timezone.now() + self.clock_offset).replace(microsecond=0), round_trip=0.001)

    def _call(self, method: str, target: str) -> None:
        self.calls.append((method, target))
        if self.faults[method]:
            raise self.faults[method].pop(0)

    # --- the client methods the kinds use ---
    def dataset_publish(self, uid):
        self._call("dataset_publish", uid)
        if self.status[uid]["status"] not in ("idle", "error", "limit_reached"):
            raise PortalConflict(f"Invalid precondition, dataset status is '{self.status[uid]['status']}'",
                                 status=400, error_code="invalid_dataset_status")
        self.ordered[uid] = True
        if self.on_publish:
            self.set(uid, self.on_publish)

    def dataset_unpublish(self, uid):
        self._call("dataset_unpublish", uid)
        self.ordered[uid] = False
        self.set(uid, "queued")

    def dataset_publish_metadata(self, uid):
        self._call("dataset_publish_metadata", uid)
        self.set(uid, "queued")

    def dataset_abort(self, uid):
        self._call("dataset_abort", uid)
        if self.status[uid]["status"] != "processing":
            raise PortalConflict("abort is accepted only while processing", status=400,
                                 error_code="invalid_dataset_status")
        self.set(uid, "aborting_processing")

    def dataset_status(self, uid):
        self._call("dataset_status", uid)
        return DatasetStatus.from_dict(dict(self.status[uid]))

    def dataset_list(self, *, limit=20, offset=0, dataset_id=None):
        """The cheap list: no status, but is_published (what the poller's hints use)."""
        from portaladmin.portals.client.schemas import Dataset, Page

        self._call("dataset_list", str(offset))
        rows = [Dataset.from_dict({"uid": uid, "is_published": st.get("is_published"),
                                   "updated_at": self.updated_at.get(uid)})
                for uid, st in list(self.status.items())[offset:offset + limit]]
        return Page(total_count=len(self.status), results=rows)

    def harvester_get(self, uid):
        self._call("harvester_get", uid)
        return Harvester.from_dict({"uid": uid, "status": "idle", "has_error": False, **self.harvesters.get(uid, {})})

    def harvester_start(self, uid):
        self._call("harvester_start", uid)
        self.harvesters[uid] = {**self.harvesters.get(uid, {}), "status": "queued"}

    def harvester_abort(self, uid):
        self._call("harvester_abort", uid)

    def harvester_publish(self, uid):
        self._call("harvester_publish", uid)

    def harvester_unpublish(self, uid):
        self._call("harvester_unpublish", uid)

    def harvester_errors(self, uid):
        self._call("harvester_errors", uid)
        return HarvesterErrors.from_dict({"harvester": "The source answered 500.", "resources": {}})


@pytest.fixture
def portal(monkeypatch):
    fake = FakePortal()
    monkeypatch.setattr(remote, "get_client", lambda connection: fake)
    return fake


@pytest.fixture
def operator(make_user, connection):
    return make_user("oscar", role=Role.OPERATOR, connection=connection)


@pytest.fixture
def jobs_settings(settings):
    settings.JOBS_MAX_ATTEMPTS = 3
    settings.JOBS_LEASE_SECONDS = 60
    settings.JOBS_POLL_BACKOFF_CAP = 60.0
    settings.JOBS_PORTAL_REQUEST_BUDGET = 20
    settings.JOBS_NOTIFY_ON_FAILURE = True
    return settings


@pytest.fixture
def no_enqueue(monkeypatch):
    """Record the doorbells instead of talking to a broker."""
    sent: list[list[int]] = []
    from portaladmin.jobs import tasks

    monkeypatch.setattr(tasks, "enqueue_process", lambda item_ids: sent.append(list(item_ids)))
    monkeypatch.setattr(tasks.jobs_poll_batch_task, "delay", lambda **kw: None)
    return sent


@pytest.fixture
def start_job(operator, connection, no_enqueue, django_capture_on_commit_callbacks, jobs_settings):
    from portaladmin.jobs.services import job_create

    def start(uids=("da_1",), *, kind="dataset.publish", actor=None, targets=None):
        with django_capture_on_commit_callbacks(execute=True):
            return job_create(kind=kind, actor=actor or operator, targets=targets or {connection: list(uids)})

    return start


def expire(item) -> None:
    """Time-travel: the item's lease (and any retry delay) is over."""
    from portaladmin.jobs.models import JobItem

    past = timezone.now() - timedelta(seconds=1)
    JobItem.objects.filter(pk=item.pk).update(lease_until=past)
    JobItem.objects.filter(pk=item.pk, next_poll_at__isnull=False).update(next_poll_at=past)


def due(item) -> None:
    from portaladmin.jobs.models import JobItem

    JobItem.objects.filter(pk=item.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
