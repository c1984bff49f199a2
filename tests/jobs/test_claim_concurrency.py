"""Two workers claiming the same items at the same instant on PostgreSQL: exactly one wins each item."""

import threading

import pytest
from django.db import connection as db

from portaladmin.jobs import engine
from portaladmin.jobs.models import ItemStatus, JobItem
from portaladmin.jobs.services import job_create
from portaladmin.portals.models import Role
from tests.conftest import needs_postgres

pytestmark = [needs_postgres(), pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_claims_never_both_win(make_connection, make_user, monkeypatch):
    from portaladmin.jobs import tasks

    monkeypatch.setattr(tasks, "enqueue_process", lambda item_ids: None)
    conn = make_connection("race")
    user = make_user("op", role=Role.OPERATOR, connection=conn)
    job = job_create(kind="dataset.publish", actor=user, targets={conn: [f"da_{n}" for n in range(40)]})
    ids = list(job.items.values_list("id", flat=True))
    wins: dict[int, list[int]] = {i: [] for i in ids}

    def claimer(barrier, item_id, who):
        try:
            barrier.wait()
            _, claimed = engine.items_claim([item_id])
            if claimed:
                wins[item_id].append(who)
        finally:
            db.close()

    for item_id in ids:
        barrier = threading.Barrier(3)
        threads = [threading.Thread(target=claimer, args=(barrier, item_id, n)) for n in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert all(len(w) == 1 for w in wins.values()), {k: v for k, v in wins.items() if len(v) != 1}
    assert set(JobItem.objects.filter(job=job).values_list("attempts", flat=True)) == {1}
    assert JobItem.objects.filter(job=job, status=ItemStatus.RUNNING).count() == 40
