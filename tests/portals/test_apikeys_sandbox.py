"""The API keys page and the connection's own key against the sandbox portal over real HTTP."""

import pytest
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.portals.models import Health
from portaladmin.sandbox.models import SandboxObject


@pytest.fixture
def connection(sandbox_connection):
    """The cast's connection is a sandbox portal answering over real HTTP (overrides conftest's)."""
    return sandbox_connection("keys", slug="demo", api_key="sandbox-key-0123456789abcdef", datasets=2, users=2,
                              groups=1, harvesters=0, pages=0)


@pytest.fixture
def sandbox(connection, cast):
    return connection


def test_sandbox_key_health_list_search_edit_and_revoke(client_as, cast, sandbox):
    admin = client_as(cast["admin"])
    # given a second key on the portal
    from portaladmin.portals.client import client_for

    other = client_for(sandbox).apikey_create(label="CI robot", permissions=["edit_dataset"])
    # Test connection reads the connection's own key
    admin.post(reverse("portals:test", kwargs={"conn": sandbox.slug}))
    sandbox.refresh_from_db()
    assert sandbox.health == Health.OK and sandbox.key_label == "portaladmin (sandbox seed)"
    assert "publish_dataset" in sandbox.key_permissions and sandbox.key_owner == "admin"
    url = reverse("portals:apikeys", kwargs={"conn": sandbox.slug})
    page = admin.get(url).content.decode()
    assert other.uid in page and "this connection" in page and other.key not in page
    searched = admin.get(url, {"q": "robot"}).content.decode()
    assert other.uid in searched and sandbox.key_uid not in searched
    # edit the other key
    edit = reverse("portals:apikey-edit", kwargs={"conn": sandbox.slug, "key_uid": other.uid})
    assert "CI robot" in admin.get(edit).content.decode()
    admin.post(edit, {"label": "CI robot 2", "permissions": ["edit_dataset", "publish_dataset"]})
    stored = SandboxObject.objects.get(kind="apikey", key=other.uid).data
    assert stored["label"] == "CI robot 2" and stored["permissions"] == ["edit_dataset", "publish_dataset"]
    # revoking needs the confirmation box
    revoke = reverse("portals:apikey-revoke", kwargs={"conn": sandbox.slug, "key_uid": other.uid})
    admin.post(revoke, {"reason": "unused"})
    assert SandboxObject.objects.get(kind="apikey", key=other.uid).data["is_revoked"] is False
    admin.post(revoke, {"reason": "unused", "confirm": "1"})
    assert SandboxObject.objects.get(kind="apikey", key=other.uid).data["is_revoked"] is True
    sandbox.refresh_from_db()
    assert sandbox.health == Health.OK  # another key: the connection is unaffected
    # revoking the connection's own key turns its health red, and Test connection keeps saying why
    own = reverse("portals:apikey-revoke", kwargs={"conn": sandbox.slug, "key_uid": sandbox.key_uid})
    admin.post(own, {"reason": "rotation", "confirm": "1"})
    sandbox.refresh_from_db()
    assert sandbox.health == Health.KEY_REVOKED and sandbox.key_revoked
    admin.post(reverse("portals:test", kwargs={"conn": sandbox.slug}))
    sandbox.refresh_from_db()
    assert sandbox.health == Health.KEY_REVOKED and "revoked" in sandbox.health_message
    overview = admin.get(reverse("home")).content.decode()
    assert 'data-health="key_revoked"' in overview
    actions = list(AuditEvent.objects.filter(action__startswith="apikey.").values_list("action", "target"))
    assert ("apikey.revoked", other.uid) in actions and ("apikey.edited", other.uid) in actions


def test_sandbox_create_a_key_for_the_connection_shown_once_and_stored_encrypted(client_as, cast, sandbox):
    admin = client_as(cast["admin"])
    admin.post(reverse("portals:test", kwargs={"conn": sandbox.slug}))
    sandbox.refresh_from_db()
    old_uid = sandbox.key_uid
    url = reverse("portals:apikeys", kwargs={"conn": sandbox.slug})
    posted = admin.post(url, {"label": "portaladmin 2026", "permissions": ["edit_domain", "publish_dataset"],
                              "revoke_previous": "on", "reveal": "on"})
    shown = reverse("portals:apikey-new", kwargs={"conn": sandbox.slug})
    assert posted.status_code == 302 and posted["Location"] == shown  # Post/Redirect/Get: the key in no URL
    answer = admin.get(shown)
    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]
    sandbox.refresh_from_db()
    secret = sandbox.api_key
    assert secret != "sandbox-key-0123456789abcdef" and secret in answer.content.decode()
    assert secret not in posted.content.decode() and secret not in str(dict(admin.session))
    # a reload: shown already, no second key created (and the one just made not revoked by a second create)
    again = admin.get(shown).content.decode()
    assert secret not in again and "already shown" in again
    assert SandboxObject.objects.filter(kind="apikey", data__label="portaladmin 2026").count() == 1
    assert secret not in sandbox.api_key_encrypted
    assert sandbox.key_permissions == ["edit_domain", "publish_dataset"] and sandbox.key_stored_by == cast["admin"]
    assert SandboxObject.objects.get(kind="apikey", key=old_uid).data["is_revoked"] is True
    # the new key works, and is never shown again
    admin.post(reverse("portals:test", kwargs={"conn": sandbox.slug}))
    sandbox.refresh_from_db()
    assert sandbox.health == Health.OK and sandbox.key_label == "portaladmin 2026"
    for page in (url, sandbox.get_absolute_url(), reverse("audit:list"), reverse("portals:list")):
        assert secret not in admin.get(page).content.decode()
    # without "show me", the answer is a redirect and carries no key
    quiet = admin.post(url, {"label": "portaladmin quiet", "permissions": ["edit_dataset"]})
    assert quiet.status_code == 302
    sandbox.refresh_from_db()
    assert sandbox.key_label == "portaladmin quiet" and sandbox.key_lacks("publish_dataset")
    # a key without edit_domain may not create keys: the portal's refusal is shown, the stored key stays
    before = sandbox.api_key_encrypted
    refused = admin.post(url, {"label": "one more", "permissions": ["edit_dataset"]}).content.decode()
    assert "may not list the portal" in refused  # the portal's refusal, in the one wording of core.portalerrors
    sandbox.refresh_from_db()
    assert sandbox.api_key_encrypted == before




def test_the_periodic_check_sees_a_key_revoked_on_the_portal_without_anyone_pressing_test(sandbox, settings):
    from datetime import timedelta

    from django.utils import timezone

    from portaladmin.portals.models import Connection
    from portaladmin.portals.services import connection_health_check_due, connection_test

    connection = sandbox
    connection_test(connection=connection)
    connection.refresh_from_db()
    assert connection.health == Health.OK and connection.key_permissions
    settings.PORTALS_HEALTH_CHECK_MINUTES = 60
    assert connection_health_check_due() == 0  # tested a moment ago: not again
    # someone revokes the key in the portal's back office
    for obj in SandboxObject.objects.filter(kind="apikey", data__label="portaladmin (sandbox seed)"):
        obj.data = {**obj.data, "is_revoked": True}
        obj.save(update_fields=["data"])
    events = AuditEvent.objects.count()
    assert connection_health_check_due(now=timezone.now() + timedelta(minutes=61)) == 1
    connection = Connection.objects.get(pk=connection.pk)
    assert connection.health != Health.OK and "refused the key" in connection.health_message
    assert AuditEvent.objects.count() == events  # a background check is nobody's action
