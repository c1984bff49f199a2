"""Compare and promote a code editor page and a studio page between two sandbox portals (real HTTP)."""

import pytest
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.jobs.models import ItemStatus, Job, JobStatus
from portaladmin.portals.client import client_for
from portaladmin.portals.models import Membership, Role
from portaladmin.promote import services
from portaladmin.promote.pages import CODE, STUDIO, page_diff, page_promote, page_snapshot
from portaladmin.sandbox.services import reset_request_log
from tests.promote.conftest import portal_writes
from tests.sandbox_fixtures import run_worker_and_poller

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def _differences(stage, prod, kind, slug):
    rows = page_diff(page_snapshot(client_for(stage), kind, slug), page_snapshot(client_for(prod), kind, slug))
    return {r.key: r.status for r in rows if r.status != "same"}


@pytest.fixture
def page_promoter(make_user, stage, prod):
    user = make_user("pia", role=Role.OPERATOR, connection=stage)
    Membership.objects.create(user=user, connection=prod, role=Role.ADMIN)
    return user


def run_page_job(actor, stage, targets, kind, slug, clock):
    job = services.page_promote_start(actor=actor, source=stage, kind=kind, slug=slug, targets=targets)
    return run_worker_and_poller(job, clock, steps=5)


def test_code_page_promote_is_one_job_then_same_then_zero_writes(stage, prod, page_promoter, sandbox_clock,
                                                                 no_enqueue):
    s = client_for(stage)
    s.code_page_update("home", {"slug": "home", "title": {"en": "Home", "fr": "Accueil"}, "tags": ["new"],
                                "content": {"html": {"en": "<h1>Hi</h1>", "fr": "<h1>Salut</h1>"},
                                            "css": {"en": "", "fr": ""}}})
    s.code_page_group_ruleset_create("home", group_uid="analysts", permissions=["edit_page"])
    s.code_page_create({"slug": "stage-only", "title": {"en": "New"}, "content": {"html": {"en": "x"}, "css": {}}})
    before = _differences(stage, prod, CODE, "home")
    assert {"title.fr", "content.html.fr", "tags", "group Analysts"} <= set(before)

    for slug in ("home", "stage-only"):
        job = run_page_job(page_promoter, stage, [prod], CODE, slug, sandbox_clock)
        items = list(job.items.order_by("id"))
        assert job.status == JobStatus.SUCCEEDED, [(i.target, i.message) for i in items]
        assert [i.payload["part"] for i in items] == ["page", "access"]  # a code page has no publication
        assert AuditEvent.objects.filter(action="promote.page", job_id=job.pk).count() == len(items)
        assert _differences(stage, prod, CODE, slug) == {}
        calls = [line for i in items for line in i.details.get("calls", [])]
        assert calls[0] == ("PUT /code_editor_pages/home/ — update" if slug == "home"
                            else "POST /code_editor_pages/ — create stage-only")

    reset_request_log("prod")
    again = run_page_job(page_promoter, stage, [prod], CODE, "home", sandbox_clock)
    assert again.status == JobStatus.SUCCEEDED and portal_writes("prod") == 0
    assert {i.message for i in again.items.all()} == {"Already the same: nothing written."}


def test_studio_page_promote_creates_and_publishes_on_two_targets(stage, prod, page_promoter, sandbox_connection,
                                                                  sandbox_clock, no_enqueue):
    third = sandbox_connection("third", slug="third", name="Third", api_key="promote-third-key-0123456789",
                               datasets=1, users=3, groups=3, harvesters=0, pages=1)
    Membership.objects.create(user=page_promoter, connection=third, role=Role.ADMIN)
    s = client_for(stage)
    page = s.studio_page_create({"slug": "roads-dashboard", "title": "Roads", "description": "All roads",
                                 "public": True})
    s.studio_page_publish(page.uid)
    job = run_page_job(page_promoter, stage, [prod, third], STUDIO, "roads-dashboard", sandbox_clock)
    assert job.status == JobStatus.SUCCEEDED, [(i.target, i.message) for i in job.items.all()]
    assert job.items.count() == 6  # page, access, publication × 2 portals
    first = job.items.get(connection=prod, payload__part="page")
    assert first.details["calls"][0].startswith("POST /studio_pages/")
    assert job.items.get(connection=prod, payload__part="publication").details["calls"][0].endswith("publish")
    assert _differences(stage, prod, STUDIO, "roads-dashboard") == {}
    assert _differences(stage, third, STUDIO, "roads-dashboard") == {}


def test_a_failed_page_step_is_retried_without_repeating_the_succeeded_ones(stage, prod, page_promoter,
                                                                            sandbox_clock, no_enqueue):
    from portaladmin.sandbox.services import request_counts, seed_portal

    s = client_for(stage)
    only_on_stage = [u.username for u in s.user_iter()][-1]
    page = s.studio_page_create({"slug": "regions", "title": "Regions", "description": "", "public": False})
    s.studio_page_user_ruleset_create(page.uid, username=only_on_stage, permissions=["edit_page"])
    s.studio_page_publish(page.uid)
    job = run_page_job(page_promoter, stage, [prod], STUDIO, "regions", sandbox_clock)
    by_part = {i.payload["part"]: i for i in job.items.all()}
    assert job.status == JobStatus.PARTIALLY_FAILED
    assert by_part["page"].status == ItemStatus.SUCCEEDED
    assert by_part["access"].status == ItemStatus.FAILED and only_on_stage in by_part["access"].message
    assert by_part["access"].details["unknown_principals"] == [f"user {only_on_stage}"]
    assert by_part["publication"].message.startswith("Not run")

    seed_portal("prod", users=8)  # the person now exists on prod
    reset_request_log("prod")
    retry = run_page_job_retry(job, page_promoter, sandbox_clock)
    assert retry.status == JobStatus.SUCCEEDED, [(i.target, i.message) for i in retry.items.all()]
    assert sorted(i.payload["part"] for i in retry.items.all()) == ["access", "publication"]
    assert request_counts("prod", path_contains="/studio_pages/", method="POST") == 2  # the grant + the publish
    assert _differences(stage, prod, STUDIO, "regions") == {}


def run_page_job_retry(job, actor, clock):
    from portaladmin.jobs.services import job_retry_failed

    return run_worker_and_poller(job_retry_failed(job=job, actor=actor), clock, steps=5)


@pytest.mark.parametrize("edit", ["fields", "access"])
def test_a_page_changed_on_the_source_during_its_promote_is_said_in_the_result(
        stage, prod, page_promoter, sandbox_clock, no_enqueue, monkeypatch, edit):
    """Someone edits the source page while its promote runs (between two steps): the job's result says so, as
    the dataset promote does. An access rule added meanwhile counts too, whether or not it moves updated_at."""
    from portaladmin.promote import pages

    real = pages.page_promote
    edited = []

    def page_promote_while_someone_edits_the_source(**kwargs):
        if kwargs.get("parts") == ["access"] and not edited:
            s = client_for(stage)
            if edit == "fields":
                s.code_page_update("home", {"slug": "home", "description": "Edited meanwhile",
                                            "content": {"html": {"en": "<p>New</p>"}, "css": {"en": ""}}})
            else:
                s.code_page_group_ruleset_create("home", group_uid="analysts", permissions=["edit_page"])
            edited.append(True)
        return real(**kwargs)

    monkeypatch.setattr(pages, "page_promote", page_promote_while_someone_edits_the_source)
    job = run_page_job(page_promoter, stage, [prod], CODE, "home", sandbox_clock)
    last = job.items.order_by("id").last()
    assert edited and "The source page changed during the promote: compare again." in last.message
    assert last.details["source_changed"] is True

    monkeypatch.setattr(pages, "page_promote", real)  # promoted again, nobody editing: no such note
    again = run_page_job(page_promoter, stage, [prod], CODE, "home", sandbox_clock)
    assert again.status == JobStatus.SUCCEEDED
    assert not any(i.details.get("source_changed") for i in again.items.all())
    assert _differences(stage, prod, CODE, "home") == {}


def test_the_page_dry_run_lists_every_part_and_sends_nothing(stage, prod):
    s = client_for(stage)
    s.studio_page_create({"slug": "fresh", "title": "Fresh", "description": "", "public": True})
    s.studio_page_publish(next(p for p in s.studio_page_iter() if p.slug == "fresh").uid)
    reset_request_log("prod")
    planned = page_promote(kind=STUDIO, slug="fresh", source_client=s, target_client=client_for(prod), dry_run=True)
    assert planned.calls[0].startswith("POST /studio_pages/ — create fresh")
    assert planned.calls[-1] == "POST /studio_pages/{new page}/publish/ — publish"
    assert portal_writes("prod") == 0


def test_page_compare_screen_and_promote_needs_admin_on_the_target(client, make_user, stage, prod, no_enqueue):
    client_for(stage).code_page_update("home", {"slug": "home", "description": "Changed on stage",
                                                 "content": {"html": {"en": "<p>About</p>"}, "css": {"en": ""}}})
    user = make_user("otto", role=Role.OPERATOR, connection=stage)
    Membership.objects.create(user=user, connection=prod, role=Role.OPERATOR)
    client.force_login(user)
    compare = reverse("promote:page-compare", kwargs={"conn": "stage", "kind": "code", "slug": "home"})
    from portaladmin.sandbox.services import reset_request_log

    reset_request_log("prod")
    html = client.get(compare, {"to": "prod"}).content.decode()
    assert 'data-key="description"' in html and "admin role on Prod" in html
    assert "PUT /code_editor_pages/home/ — update" in html  # the dry run lists the call …
    assert portal_writes("prod") == 0  # … and sends nothing
    promote = reverse("promote:page-promote", kwargs={"conn": "stage", "kind": "code", "slug": "home"})
    assert client.post(promote, {"to": "prod"}).status_code == 403
    Membership.objects.filter(user=user, connection=prod).update(role=Role.ADMIN)
    response = client.post(promote, {"to": "prod"})
    assert response.status_code == 302 and "/jobs/" in response["Location"]  # one job, shown at once
    job = Job.objects.get(kind="promote.page")
    assert job.items.count() == 2 and job.params["slug"] == "home"


def test_the_page_compare_dry_run_lists_the_calls_of_every_chosen_target(client, make_user, stage, prod,
                                                                        sandbox_connection, no_enqueue):
    third = sandbox_connection("third", slug="third", name="Third", api_key="promote-third-key-0123456789",
                               datasets=1, users=3, groups=3, harvesters=0, pages=1)
    client_for(stage).code_page_create({"slug": "news", "title": {"en": "News"}, "description": "Only on stage",
                                        "content": {"html": {"en": "<p>x</p>"}, "css": {"en": ""}}})
    user = make_user("ada", role=Role.OPERATOR, connection=stage)
    for conn in (prod, third):
        Membership.objects.create(user=user, connection=conn, role=Role.ADMIN)
    client.force_login(user)
    compare = reverse("promote:page-compare", kwargs={"conn": "stage", "kind": "code", "slug": "news"})
    reset_request_log("prod")
    reset_request_log("third")

    html = client.get(compare, {"to": "prod"}).content.decode()  # one target: its calls, and the others offered
    assert 'data-target="prod"' in html and 'data-target="third"' not in html
    assert 'name="also" value="third"' in html and "Promote to Prod" in html

    html = client.get(compare, {"to": "prod", "also": "third"}).content.decode()
    assert 'data-target="prod"' in html and 'data-target="third"' in html
    third_run = html.split('data-target="third"', 1)[1].split("</section>", 1)[0]
    assert "POST /code_editor_pages/ — create news" in third_run and "not there yet" in third_run
    assert "to 2 portals" in html and '<input type="hidden" name="also" value="third">' in html
    assert portal_writes("prod") == 0 and portal_writes("third") == 0  # a dry run sends nothing

    promote = reverse("promote:page-promote", kwargs={"conn": "stage", "kind": "code", "slug": "news"})
    response = client.post(promote, {"to": "prod", "also": "third"})
    job = Job.objects.get(kind="promote.page")
    assert response.status_code == 302 and {i.connection.slug for i in job.items.all()} == {"prod", "third"}


def test_a_page_the_same_everywhere_has_nothing_to_promote(client, make_user, stage, prod):
    user = make_user("ada", role=Role.OPERATOR, connection=stage)
    Membership.objects.create(user=user, connection=prod, role=Role.ADMIN)
    client.force_login(user)
    s, p = client_for(stage), client_for(prod)
    body = {"slug": "same", "title": {"en": "Same"}, "content": {"html": {"en": "<p>x</p>"}, "css": {"en": ""}}}
    s.code_page_create(body)
    p.code_page_create(body)
    html = client.get(reverse("promote:page-compare", kwargs={"conn": "stage", "kind": "code", "slug": "same"}),
                      {"to": "prod"}).content.decode()
    assert "No differences." in html and "nothing to send" in html and 'id="nothing-to-promote"' in html
    assert 'id="page-promote"' not in html
