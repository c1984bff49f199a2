"""Journey: the connection's key health is shown → an admin revokes the connection's own key on the API keys
page → the connection's health says the key is revoked (on its page, the overview, after another test).

A connection of its own (sandbox portal `keyjourney`), so revoking its key breaks no other journey."""

import re

from playwright.sync_api import expect

from .conftest import assert_no_csp_errors


def _make_connection(app) -> None:
    app.shell(
        "from django.conf import settings; from portaladmin.portals.models import Connection; "
        "from portaladmin.sandbox.services import seed_portal; "
        "_, key = seed_portal('keyjourney', datasets=2, users=2, groups=1, harvesters=0, pages=0, reset=True); "
        "c = Connection.objects.filter(slug='keyjourney').first() or Connection(slug='keyjourney', name='Key journey'); "
        "c.base_url = settings.PORTALADMIN_SELF_URL.rstrip('/') + '/sandbox/keyjourney'; "
        "c.set_api_key(key); c.save()"
    )


def test_key_health_shown_then_revoking_the_key_turns_the_connection_red(admin_page, app):
    _make_connection(app)
    page = admin_page
    page.goto("/connections/keyjourney/")
    page.get_by_role("button", name="Test connection").click()
    health = page.locator("#health")
    expect(health.locator(".badge").first).to_have_text("Reachable")
    expect(health.locator("[data-key=owner]")).to_have_text("admin")
    expect(health.locator("[data-key=permissions]")).to_contain_text("publish_dataset")

    page.get_by_role("button", name="API keys").click()
    expect(page).to_have_url(re.compile(r"/connections/keyjourney/apikeys/$"))
    own = page.locator("#apikeys tr", has_text="this connection")
    expect(own).to_have_count(1)
    own.locator("summary", has_text="revoke").click()
    own.locator("input[name=reason]").fill("e2e rotation")
    own.locator("input[name=confirm]").check()
    own.get_by_role("button", name="Revoke").click()
    expect(page.locator("#messages")).to_contain_text("this connection's own key")

    page.goto("/connections/keyjourney/")
    expect(page.locator("#health .badge").first).to_have_text("Key revoked")
    expect(page.locator("#health")).to_contain_text("was revoked")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#health .badge").first).to_have_text("Key revoked")
    page.goto("/")
    expect(page.locator("#card-keyjourney [data-health]")).to_have_attribute("data-health", "key_revoked")
    assert_no_csp_errors(page)


def test_a_new_key_shown_once_and_a_reload_creates_no_other(admin_page, app):
    app.shell(
        "from django.conf import settings; from portaladmin.portals.models import Connection; "
        "from portaladmin.sandbox.services import seed_portal; "
        "_, key = seed_portal('keyshow', datasets=1, users=2, groups=1, harvesters=0, pages=0, reset=True); "
        "c = Connection.objects.filter(slug='keyshow').first() or Connection(slug='keyshow', name='Key shown'); "
        "c.base_url = settings.PORTALADMIN_SELF_URL.rstrip('/') + '/sandbox/keyshow'; "
        "c.set_api_key(key); c.save()"
    )
    page = admin_page
    page.goto("/connections/keyshow/apikeys/")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.locator("fieldset", has_text="Permissions").locator("input[type=checkbox]").first.check()
    page.get_by_label("Show me the new key once").check()
    page.get_by_role("button", name="Create and store the key").click()
    expect(page).to_have_url(re.compile(r"/connections/keyshow/apikeys/new-key/$"))
    secret = page.get_by_label("New API key").input_value()
    assert len(secret) > 16 and secret not in page.url
    page.reload()  # no resend question, no second key: the page says it was shown
    expect(page.locator("#new-key-gone")).to_contain_text("already shown")
    assert secret not in page.content() and len(posts) == 1
    page.goto("/connections/keyshow/")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#health .badge").first).to_have_text("Reachable")  # the one key made is the one stored
    assert_no_csp_errors(page)
