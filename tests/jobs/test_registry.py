"""The kind registry is generic: chunked kinds, non-pollable kinds, unknown outcomes, aborts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portaladmin.audit.models import AuditEvent
from portaladmin.jobs import engine, registry
from portaladmin.jobs.models import ItemStatus, JobItem, JobStatus
from portaladmin.jobs.registry import ItemResult, JobKind, get_kind
from tests.jobs.conftest import due, expire


class _Invite(JobKind):
    name = "test.invite"
    label = "Invite"
    target_noun = "person"
    chunk_size = 3

    def perform_chunk(self, client, items):
        client.calls.append(("invite", ",".join(i.target for i in items)))
        return {i.pk: ItemResult(ok="bad" not in i.target, message="" if "bad" not in i.target else "invalid e-mail")
                for i in items}


@pytest.fixture
def invite_kind():
    registry.register(_Invite)
    yield get_kind("test.invite")
    registry._REGISTRY.pop("test.invite", None)


def test_chunked_kind_claims_a_chunk_and_records_each_row(invite_kind, start_job, portal, no_enqueue):
    emails = ["a@x.org", "bad@x", "c@x.org", "d@x.org", "e@x.org"]
    job = start_job(emails, kind="test.invite")
    assert sorted(len(g) for g in no_enqueue) == [2, 3]  # one doorbell per chunk of 3
    for group in no_enqueue:
        engine.items_process(group)
    assert [c for c in portal.calls] == [("invite", "a@x.org,bad@x,c@x.org"), ("invite", "d@x.org,e@x.org")]
    job.refresh_from_db()
    assert job.status == JobStatus.PARTIALLY_FAILED and job.succeeded_count == 4 and job.failed_count == 1
    assert JobItem.objects.get(job=job, target="bad@x").message == "invalid e-mail"
    assert AuditEvent.objects.filter(action="test.invite", job_id=job.pk).count() == 5
    assert job.title == "Invite 5 persons"


def test_unknown_outcome_of_an_unverifiable_kind_fails_with_advice(invite_kind, start_job, portal, no_enqueue):
    job = start_job(["a@x.org"], kind="test.invite")
    item = job.items.get()
    engine.items_claim([item.pk])
    JobItem.objects.filter(pk=item.pk).update(action_sent=True, sent_at=timezone.now() - timedelta(seconds=9))
    expire(item)
    engine.items_process([item.pk])
    item.refresh_from_db()
    assert portal.calls == []  # never sent twice blindly
    assert item.status == ItemStatus.FAILED and "Check the portal before retrying" in item.message


def test_dataset_abort_kind_succeeds_on_any_final_state(start_job, portal, connection):
    portal.set("da_1", "processing")
    job = start_job(["da_1"], kind="dataset.abort")
    item = job.items.get()
    engine.items_process([item.pk])
    portal.set("da_1", "error", since=timezone.now() - timedelta(hours=1), message="Aborted by user")
    due(item)
    engine.poll_batch(connection_id=connection.pk, item_ids=[item.pk])
    item.refresh_from_db()
    assert item.status == ItemStatus.SUCCEEDED and "Processing stopped" in item.message


def test_unknown_kind_is_refused():
    with pytest.raises(LookupError):
        get_kind("nope.nothing")


def test_built_in_kinds_are_registered():
    names = set(registry.kinds())
    assert {"dataset.publish", "dataset.unpublish", "dataset.publish_metadata", "dataset.abort", "harvester.start",
            "harvester.abort", "harvester.publish", "harvester.unpublish"} <= names


def test_a_chunk_given_back_is_rung_whole_by_the_tick(invite_kind, start_job, portal, connection, jobs_settings,
                                                      no_enqueue, django_capture_on_commit_callbacks):
    """A chunk is one request: after a 429 gave it back, the tick rings it whole even when the portal's budget has
    room for fewer sends than its rows (it rang the first rows as one request and the rest later: more requests,
    and the steps of a chunk that must run in order could run in two workers at once)."""
    jobs_settings.JOBS_PORTAL_REQUEST_BUDGET = 2
    job = start_job(["a@x.org", "b@x.org", "c@x.org"], kind="test.invite")
    no_enqueue.clear()
    JobItem.objects.filter(job=job).update(next_poll_at=timezone.now() - timedelta(seconds=1), enqueued_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        engine.dispatch_due_sends(now=timezone.now())
    assert [sorted(ids) for ids in no_enqueue] == [sorted(job.items.values_list("id", flat=True))]
