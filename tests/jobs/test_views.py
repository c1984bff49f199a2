"""The publishing monitor pages: role matrix, full page vs HTMX partial, 286 when finished, retry/cancel."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portaladmin.jobs import engine
from portaladmin.jobs.models import ItemStatus, Job, JobItem, JobStatus
from portaladmin.jobs.services import job_create
from portaladmin.portals.models import Membership, Role
from portaladmin.portals.permissions import forget_cached_roles

HX = {"HX-Request": "true"}


@pytest.fixture
def job(cast, connection, no_enqueue, jobs_settings):
    return job_create(kind="dataset.publish", actor=cast["operator"], targets={connection: ["da_1", "da_2"]})


def end(job, *statuses):
    for item, status in zip(job.items.order_by("id"), statuses, strict=True):
        JobItem.objects.filter(pk=item.pk).update(status=status, message=f"it {status}", finished_at=timezone.now())
    from portaladmin.jobs.services import job_refresh

    return job_refresh(job_id=job.pk)


@pytest.mark.parametrize("who,code", [("viewer", 200), ("operator", 200), ("admin", 200), ("superuser", 200),
                                      ("outsider", 404)])
def test_job_page_role_matrix(cast, client_as, job, who, code):
    response = client_as(cast[who]).get(reverse("jobs:detail", kwargs={"job_id": job.pk}))
    assert response.status_code == code
    if code == 200:
        body = response.content.decode()
        assert "<progress" in body and "da_1" in body and "<html" in body


def test_anonymous_is_sent_to_login(client, job):
    response = client.get(reverse("jobs:detail", kwargs={"job_id": job.pk}))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("who,sees", [("viewer", False), ("operator", True), ("admin", True)])
def test_only_operators_see_cancel(cast, client_as, job, who, sees):
    body = client_as(cast[who]).get(reverse("jobs:detail", kwargs={"job_id": job.pk})).content.decode()
    assert (reverse("jobs:cancel", kwargs={"job_id": job.pk}) in body) is sees


@pytest.mark.parametrize("who,sees", [("viewer", False), ("operator", True)])
def test_only_operators_see_retry_failed(cast, client_as, job, who, sees):
    end(job, ItemStatus.SUCCEEDED, ItemStatus.FAILED)
    body = client_as(cast[who]).get(reverse("jobs:detail", kwargs={"job_id": job.pk})).content.decode()
    assert (reverse("jobs:retry", kwargs={"job_id": job.pk}) in body) is sees


def test_htmx_poll_returns_the_fragment_while_running(cast, client_as, job):
    response = client_as(cast["viewer"]).get(reverse("jobs:detail", kwargs={"job_id": job.pk}), headers=HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'id="job-progress"' in body and 'hx-trigger="every 2s"' in body
    assert "HX-Request" in response["Vary"]


def test_htmx_poll_stops_with_286_and_a_toast_when_finished(cast, client_as, job):
    end(job, ItemStatus.SUCCEEDED, ItemStatus.FAILED)
    response = client_as(cast["viewer"]).get(reverse("jobs:detail", kwargs={"job_id": job.pk}), headers=HX)
    assert response.status_code == 286
    body = response.content.decode()
    assert "every 2s" not in body and "partially" in body.lower()
    detail = json.loads(response["HX-Trigger"])["jobFinished"]
    assert detail["level"] == "error" and "1 succeeded, 1 failed of 2" in detail["text"]


def test_polling_reads_the_database_never_the_portal(cast, client_as, job, portal):
    client_as(cast["viewer"]).get(reverse("jobs:detail", kwargs={"job_id": job.pk}), headers=HX)
    client_as(cast["viewer"]).get(reverse("jobs:status", kwargs={"job_id": job.pk}), headers=HX)
    assert portal.calls == []


def test_status_fragment_for_other_pages(cast, client_as, job):
    url = reverse("jobs:status", kwargs={"job_id": job.pk})
    response = client_as(cast["viewer"]).get(url, headers=HX)
    assert response.status_code == 200 and f'hx-get="{url}?seen=0"' in response.content.decode()
    assert "HX-Trigger" not in response  # nothing moved since the poller's last look (`seen` absent or equal)
    end(job, ItemStatus.SUCCEEDED, ItemStatus.SUCCEEDED)
    response = client_as(cast["viewer"]).get(url, {"seen": "0"}, headers=HX)
    assert response.status_code == 286 and json.loads(response["HX-Trigger"])["jobFinished"]["level"] == "success"
    # the pages' rows of the job's datasets re-read themselves (portaladmin.core.live)
    slug = job.items.first().connection.slug
    assert json.loads(response["HX-Trigger"])["changed"]["keys"] == [f"dataset:{slug}:da_1", f"dataset:{slug}:da_2"]
    assert client_as(cast["outsider"]).get(url, headers=HX).status_code == 404


def test_status_fragment_names_what_moved_while_the_job_runs(cast, client_as, job):
    url = reverse("jobs:status", kwargs={"job_id": job.pk})
    still = client_as(cast["viewer"]).get(url, {"seen": "0"}, headers=HX)
    assert still.status_code == 200 and "HX-Trigger" not in still
    JobItem.objects.filter(pk=job.items.order_by("id").first().pk).update(status=ItemStatus.SUCCEEDED)
    from portaladmin.jobs.services import job_refresh

    job_refresh(job_id=job.pk)
    moved = client_as(cast["viewer"]).get(url, {"seen": "0"}, headers=HX)
    assert moved.status_code == 200 and f'hx-get="{url}?seen=1"' in moved.content.decode()
    assert len(json.loads(moved["HX-Trigger"])["changed"]["keys"]) == 2


@pytest.mark.parametrize("who,code", [("viewer", 403), ("outsider", 404), ("operator", 302), ("admin", 302)])
def test_cancel_role_matrix(cast, client_as, job, who, code):
    response = client_as(cast[who]).post(reverse("jobs:cancel", kwargs={"job_id": job.pk}))
    assert response.status_code == code
    job.refresh_from_db()
    assert (job.status == JobStatus.CANCELLED) is (code == 302)


def test_cancel_and_retry_are_post_only(cast, client_as, job):
    c = client_as(cast["operator"])
    assert c.get(reverse("jobs:cancel", kwargs={"job_id": job.pk})).status_code == 405
    assert c.get(reverse("jobs:retry", kwargs={"job_id": job.pk})).status_code == 405


@pytest.mark.parametrize("who,code", [("viewer", 403), ("outsider", 404), ("operator", 302)])
def test_retry_role_matrix(cast, client_as, job, who, code):
    end(job, ItemStatus.SUCCEEDED, ItemStatus.FAILED)
    response = client_as(cast[who]).post(reverse("jobs:retry", kwargs={"job_id": job.pk}))
    assert response.status_code == code
    retries = Job.objects.filter(retry_of=job)
    assert retries.count() == (1 if code == 302 else 0)
    if code == 302:
        assert response["Location"] == retries.get().get_absolute_url()
        assert list(retries.get().items.values_list("target", flat=True)) == ["da_2"]


def test_retry_over_htmx_redirects_with_hx_redirect(cast, client_as, job):
    end(job, ItemStatus.FAILED, ItemStatus.FAILED)
    response = client_as(cast["operator"]).post(reverse("jobs:retry", kwargs={"job_id": job.pk}), headers=HX)
    assert response.status_code == 200 and response["HX-Redirect"].startswith("/jobs/")


def test_list_shows_only_jobs_on_visible_connections(cast, client_as, job, make_connection, make_user, no_enqueue):
    other = make_connection("secret")
    boss = make_user("boss", role=Role.OPERATOR, connection=other)
    hidden = job_create(kind="dataset.unpublish", actor=boss, targets={other: ["da_x"]})
    Membership.objects.create(user=boss, connection=job.connection, role=Role.OPERATOR)
    forget_cached_roles(boss)
    both = job_create(kind="dataset.publish", actor=boss, targets={other: ["da_y"], job.connection: ["da_z"]})
    body = client_as(cast["viewer"]).get(reverse("jobs:list")).content.decode()
    assert f'href="/jobs/{job.pk}/"' in body
    assert f'href="/jobs/{hidden.pk}/"' not in body and f'href="/jobs/{both.pk}/"' not in body
    assert client_as(cast["viewer"]).get(reverse("jobs:detail", kwargs={"job_id": both.pk})).status_code == 404
    body = client_as(cast["superuser"]).get(reverse("jobs:list")).content.decode()
    assert f'href="/jobs/{hidden.pk}/"' in body


def test_job_list_selector_lists_each_visible_job_once_and_nothing_to_outsiders(cast, job, make_connection,
                                                                                make_user, no_enqueue):
    from django.contrib.auth.models import AnonymousUser

    from portaladmin.jobs.selectors import job_list

    other = make_connection("second")
    boss = make_user("boss2", role=Role.OPERATOR, connection=other)
    Membership.objects.create(user=boss, connection=job.connection, role=Role.OPERATOR)
    forget_cached_roles(boss)
    # a job on two connections the user sees both of: listed once (no join that repeats it per connection)
    both = job_create(kind="dataset.publish", actor=boss, targets={other: ["da_y"], job.connection: ["da_z"]})
    assert list(job_list(user=boss).values_list("pk", flat=True)) == [both.pk, job.pk]
    assert list(job_list(user=cast["viewer"]).values_list("pk", flat=True)) == [job.pk]
    assert list(job_list(user=cast["outsider"])) == []
    assert list(job_list(user=AnonymousUser())) == []
    cast["viewer"].is_active = False
    assert list(job_list(user=cast["viewer"])) == []
    assert set(job_list(user=cast["superuser"]).values_list("pk", flat=True)) == {both.pk, job.pk}


def test_list_filters_and_htmx_partial(cast, client_as, job, connection, no_enqueue):
    other_kind = job_create(kind="dataset.unpublish", actor=cast["admin"], targets={connection: ["da_9"]})
    c = client_as(cast["viewer"])
    for query, shown, not_shown in [
        ({"kind": "dataset.unpublish"}, other_kind, job),
        ({"person": "oscar"}, job, other_kind),
        ({"connection": connection.slug, "status": "pending"}, job, None),
    ]:
        response = c.get(reverse("jobs:list"), query, headers=HX)
        body = response.content.decode()
        assert "<html" not in body and 'id="results"' in body
        assert f'href="/jobs/{shown.pk}/"' in body
        if not_shown:
            assert f'href="/jobs/{not_shown.pk}/"' not in body


def test_list_is_paginated(cast, client_as, connection, no_enqueue):
    for n in range(30):
        job_create(kind="dataset.publish", actor=cast["operator"], targets={connection: [f"da_{n}"]})
    body = client_as(cast["viewer"]).get(reverse("jobs:list")).content.decode()
    assert "Page 1 of 2" in body


def test_item_rows_show_state_time_and_record_errors(cast, client_as, job):
    item = job.items.order_by("id").first()
    JobItem.objects.filter(pk=item.pk).update(
        status=ItemStatus.WAITING, remote_state="processing", state_seen_at=timezone.now() - timedelta(minutes=3),
        details={"records_errors": [{"record_id": "r42", "message": "bad date"}]})
    body = client_as(cast["viewer"]).get(reverse("jobs:detail", kwargs={"job_id": job.pk})).content.decode()
    assert "badge-processing" in body and "for <time" in body and ">3 min" in body and "r42" in body and "bad date" in body
    assert "style=" not in body and "<script>" not in body


def test_engine_failure_message_is_shown(cast, client_as, job, portal):
    from portaladmin.portals.client.errors import PortalNotFound

    portal.fail_next("dataset_publish", PortalNotFound("No dataset da_1", status=404))
    engine.items_process([job.items.order_by("id").first().pk])
    body = client_as(cast["viewer"]).get(reverse("jobs:detail", kwargs={"job_id": job.pk})).content.decode()
    assert "Not found on the portal: No dataset da_1" in body


def test_job_page_shows_cancel_progress_while_items_are_being_stopped(cast, client_as, job):
    JobItem.objects.filter(job=job).update(status=ItemStatus.WAITING, action_sent=True, send_confirmed=True,
                                           sent_at=timezone.now(), next_poll_at=timezone.now())
    client = client_as(cast["operator"])
    client.post(reverse("jobs:cancel", kwargs={"job_id": job.pk}))
    url = reverse("jobs:detail", kwargs={"job_id": job.pk})
    body = client.get(url, headers=HX).content.decode()
    assert "Stopping:" in body and "2 still being stopped on the portal" in body and "about 2 s more" in body
    first = job.items.order_by("id").first()
    JobItem.objects.filter(pk=first.pk).update(status=ItemStatus.CANCELLED, finished_at=timezone.now())
    from portaladmin.jobs.services import job_refresh

    job_refresh(job_id=job.pk)
    body = client.get(url, headers=HX).content.decode()
    assert "1 cancelled" in body and "1 still being stopped" in body


def test_polling_the_job_page_marks_the_job_watched_and_its_items_due(cast, client_as, job):
    from django.core.cache import cache

    from portaladmin.jobs.watch import watched_jobs

    cache.clear()
    later = timezone.now() + timedelta(minutes=5)
    JobItem.objects.filter(job=job).update(status=ItemStatus.WAITING, sent_at=timezone.now(), next_poll_at=later)
    assert watched_jobs([job.pk]) == set()
    client_as(cast["viewer"]).get(reverse("jobs:status", kwargs={"job_id": job.pk}), headers=HX)
    assert watched_jobs([job.pk]) == {job.pk}
    assert not job.items.filter(next_poll_at__gt=timezone.now()).exists()  # read at the next tick


def test_job_page_says_items_wait_for_their_turn_within_the_portal_budget(cast, client_as, connection, no_enqueue,
                                                                          jobs_settings):
    jobs_settings.JOBS_PORTAL_REQUEST_BUDGET = 10
    big = job_create(kind="dataset.publish", actor=cast["operator"], targets={connection: [f"da_{i}" for i in range(45)]})
    body = client_as(cast["viewer"]).get(reverse("jobs:detail", kwargs={"job_id": big.pk})).content.decode()
    # 45 to send, at least 5 per 2-s tick: up to 18 s
    assert "45 waiting to be sent" in body and "allows them in about 18 s" in body
    invite = job_create(kind="user.invite", actor=cast["operator"], targets={connection: ["a@example.org"]})
    body = client_as(cast["viewer"]).get(reverse("jobs:detail", kwargs={"job_id": invite.pk})).content.decode()
    assert "1 pending" in body and "waiting to be sent" not in body  # invites are not paced


def test_the_send_estimate_is_per_portal_and_counts_the_jobs_taking_turns_there(cast, client_as, connection,
                                                                                make_connection, no_enqueue,
                                                                                jobs_settings):
    """One job on two portals: the items of each are sent within that portal's own budget, so the estimate is the
    slowest portal's (not the sum at the default budget); a second job waiting on the same portal takes every other
    turn (engine.dispatch_due_sends), which doubles the time."""
    jobs_settings.JOBS_PORTAL_REQUEST_BUDGET = 10
    slow = make_connection("slow", request_budget=2)
    for who in ("operator", "viewer"):
        Membership.objects.create(user=cast[who], connection=slow, role=Role[who.upper()])
    forget_cached_roles(cast["operator"])
    both = job_create(kind="dataset.publish", actor=cast["operator"],
                      targets={connection: [f"da_{i}" for i in range(10)], slow: [f"da_s{i}" for i in range(10)]})
    body = client_as(cast["viewer"]).get(reverse("jobs:detail", kwargs={"job_id": both.pk})).content.decode()
    # the slow portal: 10 pending, 1 send per 2-s tick (half its budget of 2): up to 20 s (not 20 / 5 ticks = 8 s)
    assert "20 waiting to be sent" in body and "allows them in about 20 s" in body
    job_create(kind="dataset.publish", actor=cast["operator"], targets={slow: [f"da_o{i}" for i in range(30)]})
    body = client_as(cast["viewer"]).get(reverse("jobs:detail", kwargs={"job_id": both.pk})).content.decode()
    assert "allows them in about 40 s" in body  # every other turn there goes to the other job
