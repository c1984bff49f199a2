"""People end to end over live HTTP: portaladmin's views → the real client → the sandbox portal (live_server).

The jobs run in this process (engine.items_process for each doorbell), so the test database can stay SQLite;
test_crash_worker.py covers real workers and a kill.
"""

import re

import pytest
from django.urls import reverse

from portaladmin.jobs import engine
from portaladmin.jobs.models import ItemStatus, Job
from portaladmin.portals.models import Role
from portaladmin.sandbox.models import SandboxObject
from portaladmin.sandbox.services import request_counts, reset_request_log, seed_portal

pytestmark = pytest.mark.live

NAME = "people-it"


@pytest.fixture
def live_conn(live_server, make_connection):
    _, key = seed_portal(NAME, datasets=0, users=6, groups=2, harvesters=0, pages=0,
                         api_key="people-it-key-0123456789", reset=True)
    return make_connection(NAME, base_url=live_server.url + f"/sandbox/{NAME}", api_key=key)


@pytest.fixture
def operator(make_user, live_conn):
    return make_user("oscar", role=Role.OPERATOR, connection=live_conn)


def portal_users() -> dict[str, dict]:
    return {o.data["email"].lower(): o.data for o in SandboxObject.objects.filter(portal__name=NAME, kind="user")}


def portal_groups() -> list[str]:
    return list(SandboxObject.objects.filter(portal__name=NAME, kind="group").values_list("key", flat=True))


def run_job(doorbells: list[list[int]]) -> None:
    while doorbells:
        engine.items_process(doorbells.pop(0))


def confirm_preview(client, response) -> Job:
    assert response.status_code == 302, response.content.decode()[:2000]
    preview = client.get(response["Location"]).content.decode()
    confirm = re.search(r'action="([^"]+/confirm/)"', preview).group(1)
    done = client.post(confirm)
    assert done.status_code == 302
    return Job.objects.get(pk=int(re.search(r"/jobs/(\d+)/", done["Location"]).group(1))), preview


def test_invite_50_with_mixed_results(client, live_conn, operator, no_enqueue, settings):
    settings.INVITE_CHUNK_SIZE = 20
    members = sorted(portal_users())[:5]  # already on the portal
    group_uid = portal_groups()[0]
    new = [f"new{i}@example.org" for i in range(40)]
    malformed = ["not-an-email", "also@", "@nope.org", "sp ace@example.org", "x@@example.org"]
    lines = ["email;first_name;groups"] + [f"{e};New {i};{group_uid}" for i, e in enumerate(new)]
    lines += [f"{e};Old;" for e in members] + [f"{e};Bad;" for e in malformed]
    assert len(lines) - 1 == 50
    reset_request_log(NAME)
    client.force_login(operator)
    response = client.post(reverse("people:invite", kwargs={"conn": live_conn.slug}), {"text": "\n".join(lines)})
    job, preview = confirm_preview(client, response)
    assert "45</strong> to send" in preview and "5</strong> rejected" in preview
    run_job(no_enqueue)
    job.refresh_from_db()
    assert job.status == "partially_failed" and job.total == 45
    assert job.succeeded_count == 40 and job.failed_count == 5
    for item in job.items.all():
        if item.target in members:
            assert item.status == ItemStatus.FAILED and "already a member" in item.message, item.message
        else:
            assert item.status == ItemStatus.SUCCEEDED and item.message == "Invited.", item.message
    users = portal_users()
    assert all(e in users for e in new) and not any(e in users for e in malformed if "@" in e and "." in e)
    # 45 rows at 20 per request: 3 POSTs, nothing else written
    assert request_counts(NAME, method="POST", path_contains="/users/invite/") == 3
    assert request_counts(NAME, method="POST") == 3
    # the users list shows them (remote search)
    page = client.get(reverse("people:users", kwargs={"conn": live_conn.slug}) + "?search=new1").content.decode()
    assert "new1@example.org" in page and "new19@example.org" in page


def test_batch_add_to_a_group(client, live_conn, operator, no_enqueue):
    client.force_login(operator)
    created = client.post(reverse("people:group_create", kwargs={"conn": live_conn.slug}), {"title": "Newcomers"})
    group_uid = re.search(r"/groups/([^/]+)/$", created["Location"]).group(1)
    users = list(SandboxObject.objects.filter(portal__name=NAME, kind="user").order_by("id"))
    member = users[3]
    client.post(reverse("people:group_member_add", kwargs={"conn": live_conn.slug, "group_uid": group_uid}),
                {"username": member.key})
    outside = [u for u in users if u.key != member.key]
    lines = [outside[0].key, outside[1].data["email"].upper(), outside[2].key, "ghost-user", outside[0].key,
             member.key]
    url = reverse("people:group_batch_add", kwargs={"conn": live_conn.slug, "group_uid": group_uid})
    job, preview = confirm_preview(client, client.post(url, {"text": "\n".join(lines)}))
    assert "3</strong> to send" in preview and "No user “ghost-user”" in preview
    assert "Already a member of this group." in preview and "Same user as line 1." in preview
    run_job(no_enqueue)
    job.refresh_from_db()
    assert job.kind == "group.batch_add" and job.status == "succeeded" and job.succeeded_count == 3
    now_in = set(SandboxObject.objects.filter(portal__name=NAME, kind="member", parent=group_uid)
                 .values_list("key", flat=True))
    assert {outside[0].key, outside[1].key, outside[2].key} <= now_in
    # the group page lists the new members
    page = client.get(reverse("people:group", kwargs={"conn": live_conn.slug, "group_uid": group_uid}))
    assert outside[2].key in page.content.decode()


def test_user_page_edits_and_last_admin_refusal(client, live_conn, make_user):
    admin = make_user("alice", role=Role.ADMIN, connection=live_conn)
    client.force_login(admin)
    target = next(o.key for o in SandboxObject.objects.filter(portal__name=NAME, kind="user") if o.key != "admin")
    url = reverse("people:user_permissions", kwargs={"conn": live_conn.slug, "username": target})
    assert client.post(url, {"permissions": ["edit_dataset", "publish_dataset"]}).status_code == 302
    data = SandboxObject.objects.get(portal__name=NAME, kind="user", key=target).data
    assert data["permissions"] == ["edit_dataset", "publish_dataset"]
    # the portal refuses to remove its only domain administrator: its message is shown as is
    response = client.post(reverse("people:user_remove", kwargs={"conn": live_conn.slug, "username": "admin"}),
                           {"confirm": "admin"})
    page = client.get(response["Location"]).content.decode()
    assert "The removal of the only domain administrator is not allowed." in page
    assert SandboxObject.objects.filter(portal__name=NAME, kind="user", key="admin").exists()
    # a plain user can be removed
    response = client.post(reverse("people:user_remove", kwargs={"conn": live_conn.slug, "username": target}),
                           {"confirm": target})
    assert response.status_code == 302
    assert not SandboxObject.objects.filter(portal__name=NAME, kind="user", key=target).exists()


def test_groups_create_edit_delete_and_export(client, live_conn, make_user):
    admin = make_user("alice", role=Role.ADMIN, connection=live_conn)
    client.force_login(admin)
    response = client.post(reverse("people:group_create", kwargs={"conn": live_conn.slug}),
                           {"title": "Map makers", "description": "GIS", "permissions": ["edit_dataset"]})
    assert response.status_code == 302
    uid = re.search(r"/groups/([^/]+)/$", response["Location"]).group(1)
    edit = reverse("people:group_edit", kwargs={"conn": live_conn.slug, "group_uid": uid})
    assert client.post(edit, {"title": "Map team", "permissions": []}).status_code == 302
    assert SandboxObject.objects.get(portal__name=NAME, kind="group", key=uid).data["title"] == "Map team"
    listing = client.get(reverse("people:groups", kwargs={"conn": live_conn.slug}) + "?search=map").content.decode()
    assert "Map team" in listing
    delete = reverse("people:group_delete", kwargs={"conn": live_conn.slug, "group_uid": uid})
    assert client.post(delete, {"confirm": uid}).status_code == 302
    assert not SandboxObject.objects.filter(portal__name=NAME, kind="group", key=uid).exists()
    export = client.get(reverse("people:users_export", kwargs={"conn": live_conn.slug}) + "?delimiter=%3B")
    body = b"".join(export.streaming_content).decode()
    assert body.splitlines()[0].startswith("username;email")


def test_portal_errors_on_half_the_requests_nothing_lost_nothing_sent_twice(client, live_conn, operator, no_enqueue,
                                                                            settings):
    """The sandbox answers about half the requests with 5xx/429 (before acting). Every row still ends with a
    result, and each address reaches the portal once (a second send would answer "already a member")."""
    from datetime import timedelta

    from django.utils import timezone

    from portaladmin.jobs.models import JobItem
    from portaladmin.portals.models import Connection
    from portaladmin.sandbox.services import set_faults

    settings.INVITE_CHUNK_SIZE = 10
    settings.JOBS_MAX_ATTEMPTS = 12
    emails = [f"flaky{i}@example.org" for i in range(60)]
    client.force_login(operator)
    response = client.post(reverse("people:invite", kwargs={"conn": live_conn.slug}), {"text": "\n".join(emails)})
    job, _ = confirm_preview(client, response)
    set_faults(NAME, error_rate=0.35, throttle_rate=0.15, retry_after=1, seed=7)
    for _ in range(60):
        run_job(no_enqueue)
        job.refresh_from_db()
        if not job.is_active:
            break
        # time travel: retry times and the rate-limit pause are over; the sweeper rings again
        past = timezone.now() - timedelta(seconds=1)
        JobItem.objects.filter(job=job, status=ItemStatus.PENDING).update(next_poll_at=past)
        Connection.objects.filter(pk=live_conn.pk).update(paused_until=None)
        engine.dispatch_due_sends(now=timezone.now())  # the poll tick's job: ring what is due, within budget
        engine.sweep()
    job.refresh_from_db()
    assert not job.is_active, job.status
    assert request_counts(NAME, status=500) + request_counts(NAME, status=502) + request_counts(NAME, status=503) > 0
    assert request_counts(NAME, status=429) > 0
    users = portal_users()
    for item in job.items.all():
        assert item.status in (ItemStatus.SUCCEEDED, ItemStatus.FAILED) and item.message, (item.target, item.status)
        assert "already a member" not in item.message  # never sent twice
        if item.status == ItemStatus.SUCCEEDED:
            assert item.target in users
    assert job.succeeded_count == 60, [(i.target, i.message) for i in job.items.filter(status=ItemStatus.FAILED)]
