"""Fixtures for notifications: a real HTTP webhook receiver, finished jobs, and the worker's doorbell recorded."""

import pytest

from portaladmin.jobs.models import ItemStatus

from .receiver import Receiver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def rung(monkeypatch):
    """The delivery ids the services rang the worker for (no broker in unit tests)."""
    from portaladmin.notify import tasks

    sent: list[int] = []
    monkeypatch.setattr(tasks.notify_deliver_task, "delay", lambda delivery_id: sent.append(delivery_id))
    return sent


@pytest.fixture
def finish_job(no_enqueue, django_capture_on_commit_callbacks):
    """A publish job on `connections` whose items end as given, finished the way the engine finishes jobs."""
    from portaladmin.jobs.services import job_create, job_refresh

    def make(actor, targets: dict, *, failed: int = 0, cancelled: int = 0):
        job = job_create(kind="dataset.publish", actor=actor,
                         targets={conn: [f"da_{conn.slug}_{i}" for i in range(n)] for conn, n in targets.items()})
        items = list(job.items.order_by("id"))
        for index, item in enumerate(items):
            status = (ItemStatus.FAILED if index < failed else
                      ItemStatus.CANCELLED if index < failed + cancelled else ItemStatus.SUCCEEDED)
            item.status = status
            item.message = "The portal shows the dataset in error: bad CSV." if status == ItemStatus.FAILED else ""
            item.save()
        with django_capture_on_commit_callbacks(execute=True):
            job = job_refresh(job_id=job.pk)
        return job

    return make


@pytest.fixture
def send_test(rung, django_capture_on_commit_callbacks):
    """Press "send a test event" (the doorbell is rung once the transaction commits)."""
    from portaladmin.notify.services import rule_send_test

    def press(rule):
        with django_capture_on_commit_callbacks(execute=True):
            return rule_send_test(rule=rule)

    return press
