"""Compare and promote a code editor page and a studio page between two sandbox portals (real HTTP)."""

import pytest
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.portals.client import client_for
from portaladmin.portals.models import Membership, Role
from portaladmin.promote.pages import CODE, STUDIO, page_diff, page_promote, page_snapshot
from tests.promote.conftest import portal_writes

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def _differences(stage, prod, kind, slug):
    rows = page_diff(page_snapshot(client_for(stage), kind, slug), page_snapshot(client_for(prod), kind, slug))
    return {r.key: r.status for r in rows if r.status != "same"}


def test_code_page_promote_then_same_then_zero_writes(stage, prod, make_user):
    actor = make_user("pia", superuser=True)
    s = client_for(stage)
    s.code_page_update("home", {"slug": "home", "title": {"en": "Home", "fr": "Accueil"}, "tags": ["new"],
                                "content": {"html": {"en": "<h1>Hi</h1>", "fr": "<h1>Salut</h1>"},
                                            "css": {"en": "", "fr": ""}}})
    s.code_page_group_ruleset_create("home", group_uid="analysts", permissions=["edit_page"])
    s.code_page_create({"slug": "stage-only", "title": {"en": "New"}, "content": {"html": {"en": "x"}, "css": {}}})
    before = _differences(stage, prod, CODE, "home")
    assert {"title.fr", "content.html.fr", "tags", "group Analysts"} <= set(before)

    for slug in ("home", "stage-only"):
        result = page_promote(kind=CODE, slug=slug, source_client=s, target_client=client_for(prod), actor=actor,
                              target=prod)
        assert result.calls and not result.unknown
        assert _differences(stage, prod, CODE, slug) == {}
    assert AuditEvent.objects.filter(action="promote.page").count() >= 3

    from portaladmin.sandbox.services import reset_request_log

    reset_request_log("prod")
    again = page_promote(kind=CODE, slug="home", source_client=s, target_client=client_for(prod), actor=actor,
                         target=prod)
    assert again.calls == [] and portal_writes("prod") == 0


def test_studio_page_promote_creates_and_publishes(stage, prod, make_user):
    actor = make_user("pia", superuser=True)
    s = client_for(stage)
    page = s.studio_page_create({"slug": "roads-dashboard", "title": "Roads", "description": "All roads",
                                 "public": True})
    s.studio_page_publish(page.uid)
    result = page_promote(kind=STUDIO, slug="roads-dashboard", source_client=s, target_client=client_for(prod),
                          actor=actor, target=prod)
    assert result.calls[0].startswith("POST /studio_pages/") and result.calls[-1].endswith("publish")
    assert _differences(stage, prod, STUDIO, "roads-dashboard") == {}


def test_page_compare_screen_and_promote_needs_admin_on_the_target(client, make_user, stage, prod):
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
    assert response.status_code == 302
    assert 'id="no-differences"' in client.get(compare, {"to": "prod"}).content.decode()
