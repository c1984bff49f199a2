"""Journeys: log in; add a sandbox connection and test it; a viewer sees no actions and is refused."""

import re

from playwright.sync_api import expect

from .conftest import login


def test_login_shows_overview_with_both_portals(page, app):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))
    login(page)
    expect(page.locator("body")).to_contain_text("Lyon Open Data (sandbox)")
    expect(page.locator("body")).to_contain_text("Bretagne Open Data (sandbox)")
    assert not [e for e in page.csp_errors if "Content Security Policy" in e]


def test_wrong_password_is_refused(page):
    page.goto("/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator("body")).to_contain_text("Please enter a correct username and password")


def test_add_sandbox_connection_and_test_it(admin_page, app):
    key = "e2e-extra-key-" + "7" * 12
    app.manage("sandbox_seed", "extra", "--datasets", "7", "--users", "3", "--harvesters", "0", "--api-key", key, "--reset")
    page = admin_page
    page.goto("/connections/new/")
    page.fill("input[name=name]", "Extra portal")
    page.fill("input[name=slug]", "extra")
    page.fill("input[name=base_url]", f"{app.url}/sandbox/extra")
    page.fill("input[name=api_key]", key)
    page.click("button:has-text('Add connection')")
    expect(page.locator("h1")).to_have_text("Extra portal")
    expect(page.locator("body")).not_to_contain_text(key)
    page.click("button:has-text('Test connection')")
    health = page.locator("#health")
    expect(health).to_contain_text("Reachable")
    expect(health).to_contain_text("7")
    assert key not in page.content()


def test_viewer_sees_no_actions_and_is_refused_when_posting(page, app):
    app.shell(
        "from django.contrib.auth import get_user_model; from portaladmin.portals.models import *; "
        "u, _ = get_user_model().objects.get_or_create(username='viewer1'); u.set_password('viewer-Pass-123'); u.save(); "
        "Membership.objects.get_or_create(user=u, connection=Connection.objects.get(slug='lyon'), "
        "defaults={'role': 'viewer'})"
    )
    login(page, "viewer1", "viewer-Pass-123")
    page.goto("/connections/lyon/")
    expect(page.locator("body")).to_contain_text("Lyon Open Data")
    expect(page.locator("text=Edit or replace key")).to_have_count(0)
    expect(page.locator("text=Delete connection")).to_have_count(0)
    # Not on bretagne at all: 404.
    response = page.goto("/connections/bretagne/")
    assert response.status == 404
    # Posting anyway (with a valid CSRF token taken from the page) is refused.
    page.goto("/connections/lyon/")
    status = page.evaluate("""async () => {
        const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'];
        const r = await fetch('/connections/lyon/delete/', {method: 'POST', headers: {'X-CSRFToken': token},
                              body: new URLSearchParams({confirm_slug: 'lyon'})});
        return r.status; }""")
    assert status == 403
