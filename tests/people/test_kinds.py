"""The user.invite and group.batch_add kinds driven by the real engine, the real client and `responses`."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from portaladmin.audit.models import AuditEvent
from portaladmin.jobs import engine
from portaladmin.jobs.models import ItemStatus, Job, JobItem
from portaladmin.jobs.services import job_create
from portaladmin.portals.models import Role

from .conftest import API, body_of, paginated, query_of, user


@pytest.fixture
def oscar(make_user, connection):
    return make_user("oscar", role=Role.OPERATOR, connection=connection)


@pytest.fixture
def small_chunks(settings):
    settings.INVITE_CHUNK_SIZE = 2
    settings.JOBS_MAX_ATTEMPTS = 3


class InvitePortal:
    """A stateful fake of POST /users/invite/ and GET /users/?search= behind `responses`."""

    def __init__(self, api, members=(), refused=()):
        self.members = {m.lower() for m in members}
        self.refused = set(refused)  # addresses refused for a reason that can change (a blocked domain …)
        self.sent: list[str] = []
        api.add_callback("POST", API + "/users/invite/", callback=self.invite)
        api.add_callback("GET", API + "/users/", callback=self.search)

    def invite(self, request):
        out = {}
        for position, row in enumerate(json.loads(request.body)):
            email = row["email"]
            self.sent.append(email)
            if email in self.refused:
                out[str(position)] = {"status_code": "error", "error": {
                    "error_code": "invitation_refused", "message": f"{email} cannot be invited right now."}}
            elif email.lower() in self.members:
                out[str(position)] = {"status_code": "error", "error": {
                    "error_code": "already_member", "message": f"{email} is already a member of this domain."}}
            else:
                self.members.add(email.lower())
                out[str(position)] = {"status_code": "success", "data": user(email.split("@")[0], email)}
        return 200, {}, json.dumps(out)

    def search(self, request):
        from urllib.parse import parse_qs, urlsplit

        term = parse_qs(urlsplit(request.url).query).get("search", [""])[0].lower()
        found = [user(m.split("@")[0], m) for m in sorted(self.members) if term in m]
        return 200, {}, json.dumps(paginated(found))


def start_invite(actor, connection, emails, no_enqueue, capture):
    with capture(execute=True):
        job = job_create(kind="user.invite", actor=actor, targets={connection: [
            {"target": e, "payload": {"email": e}} for e in emails]})
    return job


def run_all(sent_groups):
    for ids in sent_groups:
        engine.items_process(ids)


def test_invites_are_sent_in_chunks_and_every_row_gets_its_result(api, connection, oscar, small_chunks, no_enqueue,
                                                                  django_capture_on_commit_callbacks):
    portal = InvitePortal(api, members=["old@example.org"])
    emails = ["a@example.org", "old@example.org", "b@example.org", "c@example.org", "d@example.org"]
    job = start_invite(oscar, connection, emails, no_enqueue, django_capture_on_commit_callbacks)
    run_all(no_enqueue)
    posts = [c for c in api.calls if c.request.method == "POST"]
    assert [len(body_of(c)) for c in posts] == [2, 2, 1]  # INVITE_CHUNK_SIZE rows per request
    assert sorted(portal.sent) == sorted(emails)
    items = {i.target: i for i in JobItem.objects.filter(job=job)}
    assert items["a@example.org"].status == ItemStatus.SUCCEEDED and items["a@example.org"].message == "Invited."
    assert items["old@example.org"].status == ItemStatus.FAILED
    assert "already a member" in items["old@example.org"].message
    job.refresh_from_db()
    assert job.status == "partially_failed" and job.succeeded_count == 4 and job.failed_count == 1
    events = AuditEvent.objects.filter(action="user.invite", job_id=job.pk)
    assert events.count() == 5 and events.filter(outcome="failure").count() == 1


def _crash_after_post(job, chunk_ids, members_before=()):
    """What a worker killed after its POST left behind: claimed, the membership read before the send, action_sent,
    no answer recorded, lease over."""
    token, items = engine.items_claim(chunk_ids)
    assert items
    for item in items:
        JobItem.objects.filter(pk=item.pk).update(details={"member_before_send": item.target in members_before})
    JobItem.objects.filter(pk__in=chunk_ids).update(action_sent=True, send_confirmed=False,
                                                   sent_at=timezone.now() - timedelta(minutes=5),
                                                   lease_until=timezone.now() - timedelta(seconds=1))


def test_a_redelivered_chunk_in_unknown_state_only_sends_the_addresses_that_are_not_members(
        api, connection, oscar, small_chunks, no_enqueue, django_capture_on_commit_callbacks):
    # given: the first chunk's POST reached the portal for a@ only (as if the portal had acted on part of it)
    portal = InvitePortal(api, members=["a@example.org"])
    job = start_invite(oscar, connection, ["a@example.org", "b@example.org"], no_enqueue,
                       django_capture_on_commit_callbacks)
    [chunk] = no_enqueue
    _crash_after_post(job, chunk)
    # when: the chunk is delivered again
    engine.items_process(chunk)
    # then: one search per row, and only b@ is POSTed
    searches = [query_of(c)["search"][0] for c in api.calls if c.request.method == "GET" and "search" in query_of(c)]
    assert searches == ["a@example.org", "b@example.org"]
    assert portal.sent == ["b@example.org"]
    items = {i.target: i for i in JobItem.objects.filter(job=job)}
    assert items["a@example.org"].status == ItemStatus.SUCCEEDED
    assert "not sent again" in items["a@example.org"].message
    assert items["b@example.org"].status == ItemStatus.SUCCEEDED


def test_after_a_crash_an_address_that_was_already_a_member_before_the_send_stays_a_failure(
        api, connection, oscar, small_chunks, no_enqueue, django_capture_on_commit_callbacks):
    # given: old@ was a member before the chunk was sent (read by before_send); the worker died after the POST
    portal = InvitePortal(api, members=["old@example.org", "new@example.org"])
    job = start_invite(oscar, connection, ["old@example.org", "new@example.org"], no_enqueue,
                       django_capture_on_commit_callbacks)
    [chunk] = no_enqueue
    _crash_after_post(job, chunk, members_before={"old@example.org"})
    engine.items_process(chunk)
    items = {i.target: i for i in JobItem.objects.filter(job=job)}
    # then: "a member now" is not taken for "our invite got through"
    assert items["old@example.org"].status == ItemStatus.FAILED
    assert "already a member" in items["old@example.org"].message
    assert items["new@example.org"].status == ItemStatus.SUCCEEDED  # became a member after we sent
    assert portal.sent == []  # nothing sent twice


def test_the_membership_is_read_once_per_chunk_before_sending(api, connection, oscar, small_chunks, no_enqueue,
                                                              django_capture_on_commit_callbacks):
    InvitePortal(api, members=["old@example.org"])
    job = start_invite(oscar, connection, ["a@example.org", "old@example.org", "b@example.org"], no_enqueue,
                       django_capture_on_commit_callbacks)
    run_all(no_enqueue)
    calls = [(c.request.method, c.request.url.split("?")[0].rsplit("/v1.0", 1)[1]) for c in api.calls]
    assert calls == [("GET", "/users/"), ("POST", "/users/invite/")] * 2  # two chunks of at most 2
    items = {i.target: i for i in JobItem.objects.filter(job=job)}
    assert items["old@example.org"].details["member_before_send"] is True
    assert items["a@example.org"].details["member_before_send"] is False


def test_a_failed_check_never_sends_blindly(api, connection, oscar, small_chunks, no_enqueue,
                                           django_capture_on_commit_callbacks):
    api.get(API + "/users/", status=500, json={"error_code": "internal_error", "message": "boom"})
    api.post(API + "/users/invite/", json={})
    job = start_invite(oscar, connection, ["a@example.org"], no_enqueue, django_capture_on_commit_callbacks)
    _crash_after_post(job, no_enqueue[0])
    engine.items_process(no_enqueue[0])
    assert not [c for c in api.calls if c.request.method == "POST"]
    item = JobItem.objects.get(job=job)
    assert item.status == ItemStatus.PENDING and "checking the portal" in item.message
    assert item.action_sent and not item.send_confirmed  # the next attempt checks again before sending


def test_a_5xx_on_the_invite_post_is_checked_before_any_resend(api, connection, oscar, small_chunks, no_enqueue,
                                                              django_capture_on_commit_callbacks):
    portal = InvitePortal.__new__(InvitePortal)
    portal.members, portal.sent = set(), []
    calls = {"n": 0}

    def flaky(request):
        calls["n"] += 1
        if calls["n"] == 1:  # the portal applied it, then answered 502
            for row in json.loads(request.body):
                portal.members.add(row["email"])
                portal.sent.append(row["email"])
            return 502, {}, json.dumps({"error_code": "internal_error", "message": "bad gateway"})
        return portal.invite(request)

    api.add_callback("POST", API + "/users/invite/", callback=flaky)
    api.add_callback("GET", API + "/users/", callback=portal.search)
    job = start_invite(oscar, connection, ["a@example.org", "b@example.org"], no_enqueue,
                       django_capture_on_commit_callbacks)
    engine.items_process(no_enqueue[0])
    JobItem.objects.filter(job=job).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    engine.items_process(no_enqueue[0])
    assert portal.sent == ["a@example.org", "b@example.org"]  # each once
    assert set(JobItem.objects.filter(job=job).values_list("status", flat=True)) == {ItemStatus.SUCCEEDED}


def test_batch_add_chunk_and_recovery_through_user_groups(api, connection, oscar, small_chunks, no_enqueue,
                                                          django_capture_on_commit_callbacks):
    api.post(API + "/groups/gis/users/batch/", json={
        "0": {"status_code": "success", "data": user("ben", groups=["gis"])}})
    api.get(API + "/users/ana/", json=user("ana", groups=["gis"]))
    api.get(API + "/users/ben/", json=user("ben"))
    api.get(API + "/users/cid/", json=user("cid"))
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(kind="group.batch_add", actor=oscar, params={"group_uid": "gis"}, targets={connection: [
            {"target": n, "payload": {"group_uid": "gis"}} for n in ("ana", "ben", "cid")]})
    first, second = no_enqueue
    _crash_after_post(job, first)  # ana (now in the group) and ben (not)
    engine.items_process(first)
    posts = [body_of(c) for c in api.calls if c.request.method == "POST"]
    assert posts == [[{"username": "ben"}]]
    api.replace("POST", API + "/groups/gis/users/batch/", json={
        "0": {"status_code": "error", "error": {"error_code": "validation_error",
                                                "message": "User 'cid' does not exist on this domain."}}})
    engine.items_process(second)
    items = {i.target: i for i in JobItem.objects.filter(job=job)}
    assert items["ana"].status == ItemStatus.SUCCEEDED and "not sent again" in items["ana"].message
    assert items["ben"].status == ItemStatus.SUCCEEDED and items["ben"].message == "Added to the group."
    assert items["cid"].status == ItemStatus.FAILED and "does not exist" in items["cid"].message
    assert AuditEvent.objects.filter(action="group.member_add", job_id=job.pk).count() == 2
    assert Job.objects.get(pk=job.pk).status == "partially_failed"


def test_retry_failed_rows_sends_the_failed_rows_that_can_change_and_not_existing_members(
        api, connection, oscar, small_chunks, no_enqueue, django_capture_on_commit_callbacks):
    from portaladmin.jobs.services import job_retry_failed

    portal = InvitePortal(api, members=["old@example.org"], refused={"b@example.org"})
    job = start_invite(oscar, connection, ["a@example.org", "old@example.org", "b@example.org"], no_enqueue,
                       django_capture_on_commit_callbacks)
    run_all(list(no_enqueue))
    no_enqueue.clear()
    assert Job.objects.get(pk=job.pk).failed_count == 2
    portal.refused.clear()  # the reason went away
    with django_capture_on_commit_callbacks(execute=True):
        retry = job_retry_failed(job=Job.objects.get(pk=job.pk), actor=oscar)
    # "already a member" would be refused again the same way: only b is sent again.
    assert retry.total == 1 and retry.items.get().payload == {"email": "b@example.org"}
    run_all(no_enqueue)
    assert Job.objects.get(pk=retry.pk).status == "succeeded"
    assert portal.sent.count("b@example.org") == 2 and portal.sent.count("old@example.org") == 1
    assert portal.sent.count("a@example.org") == 1
    retry_of_retry = Job.objects.get(pk=retry.pk)
    assert retry_of_retry.failed_count == 0
    with pytest.raises(ValueError, match="No failed item can end differently on retry"):
        job_retry_failed(job=retry_of_retry, actor=oscar)
    failure = AuditEvent.objects.get(action="user.invite", job_id=job.pk, outcome="failure",
                                     target="old@example.org")
    assert "already a member" in failure.error
