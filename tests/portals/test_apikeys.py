"""The connection's own key (health, permissions, age, revocation) and the portal's API keys page.

Unit tests answer with `responses`; integration tests drive the sandbox portal over real HTTP."""

import datetime as dt

import pytest
import responses
from django.urls import reverse
from django.utils import timezone

from portaladmin.audit.models import AuditEvent
from portaladmin.portals.models import Connection, Health

API = "https://data.example.org/api/automation/v1.0"


def _count_ok():
    responses.get(f"{API}/datasets/", json={"total_count": 7, "next": None, "previous": None, "results": []})


def _key(**over):
    key = {"uid": "ak_own", "label": "portaladmin", "permissions": ["edit_dataset"], "created_at":
           (timezone.now() - dt.timedelta(days=400)).isoformat(), "user": {"username": "louise.data"},
           "is_revoked": False, "revocation_status": {"revoked_at": None, "revocation_reason": ""}}
    key.update(over)
    return key


def _test(client, connection):
    return client.post(reverse("portals:test", kwargs={"conn": connection.slug})).content.decode()


# --- the stored key's health (responses) ---------------------------------------------------------------

@responses.activate
def test_test_connection_reads_the_keys_permissions_owner_and_age(client_as, cast, connection):
    _count_ok()
    search = responses.post(f"{API}/apikeys/search_key/", json={"found": True, "result": _key()})
    html = _test(client_as(cast["viewer"]), connection)
    connection.refresh_from_db()
    assert connection.health == Health.OK
    assert connection.key_uid == "ak_own" and connection.key_owner == "louise.data"
    assert connection.key_permissions == ["edit_dataset"] and connection.key_too_old
    assert b'"key": "canary-key-6f1d2e9a0b7c4e3f"' in search.calls[0].request.body  # in the body, not the URL
    assert "canary" not in search.calls[0].request.url
    page = client_as(cast["viewer"]).get(connection.get_absolute_url()).content.decode()
    assert 'data-key="owner">louise.data' in page and "edit_dataset" in page
    assert 'data-flag="key-age"' in page and "400 days old" in page
    assert "Reachable" in html
    listing = client_as(cast["viewer"]).get(reverse("portals:list")).content.decode()
    assert 'data-flag="key-age"' in listing


@responses.activate
def test_key_age_threshold_is_configurable(client_as, cast, connection, settings):
    settings.PORTALS_KEY_MAX_AGE_DAYS = 500
    _count_ok()
    responses.post(f"{API}/apikeys/search_key/", json={"found": True, "result": _key()})
    _test(client_as(cast["viewer"]), connection)
    connection.refresh_from_db()
    assert connection.key_age_days == 400 and not connection.key_too_old


@responses.activate
def test_a_key_the_portal_reports_revoked_turns_health_red(client_as, cast, connection):
    _count_ok()
    revoked = _key(is_revoked=True, revocation_status={"revoked_at": "2026-01-02T03:04:05Z",
                                                       "revocation_reason": "leaked"})
    responses.post(f"{API}/apikeys/search_key/", json={"found": True, "result": revoked})
    html = _test(client_as(cast["viewer"]), connection)
    connection.refresh_from_db()
    assert connection.health == Health.KEY_REVOKED and connection.key_revoked
    assert "badge-key_revoked" in html and "revoked on 2026-01-02" in html


@responses.activate
def test_a_key_that_may_not_read_keys_says_what_cannot_be_shown(client_as, cast, connection):
    _count_ok()
    responses.post(f"{API}/apikeys/search_key/", status=403,
                   json={"error_code": "permission_denied", "message": "No."})
    _test(client_as(cast["viewer"]), connection)
    connection.refresh_from_db()
    assert connection.health == Health.OK  # the key works: it only may not read keys
    assert connection.key_permissions is None and "may not read the portal's API keys" in connection.key_info_message
    assert connection.key_lacks("publish_dataset") == ""  # unknown: no warning, no disabled button
    page = client_as(cast["viewer"]).get(connection.get_absolute_url()).content.decode()
    assert "may not read the portal" in page and "not known" in page


def test_publish_buttons_are_disabled_with_the_reason_when_the_key_lacks_publish(client_as, cast, connection):
    Connection.objects.filter(pk=connection.pk).update(key_permissions=["edit_dataset"])
    html = client_as(cast["operator"]).get(reverse("datasets:list", kwargs={"conn": connection.slug})).content.decode()
    assert 'value="publish" class="outline small" disabled title="The connection&#x27;s API key lacks the ' \
           'publish_dataset permission."' in html
    Connection.objects.filter(pk=connection.pk).update(key_permissions=["publish_dataset"])
    html = client_as(cast["operator"]).get(reverse("datasets:list", kwargs={"conn": connection.slug})).content.decode()
    assert 'value="publish" class="outline small">' in html and "lacks the" not in html


def test_replacing_the_key_records_who_and_when_and_forgets_the_old_keys_details(client_as, cast, connection):
    Connection.objects.filter(pk=connection.pk).update(key_uid="ak_old", key_permissions=["edit_domain"],
                                                       key_revoked=True)
    data = {"name": connection.name, "slug": connection.slug, "base_url": connection.base_url,
            "api_key": "brand-new-key-0123456789", "connect_timeout": "", "read_timeout": "", "request_budget": "",
            "notes": ""}
    client_as(cast["admin"]).post(reverse("portals:edit", kwargs={"conn": connection.slug}), data)
    connection.refresh_from_db()
    assert connection.key_stored_by == cast["admin"] and connection.key_stored_at is not None
    assert connection.key_uid == "" and connection.key_permissions is None and not connection.key_revoked
    event = AuditEvent.objects.get(action="connection.key_replaced")
    assert event.actor == cast["admin"] and "brand-new-key" not in str(event.extra)
    page = client_as(cast["admin"]).get(connection.get_absolute_url()).content.decode()
    assert 'data-key="stored">' in page and "by alice" in page


@responses.activate
def test_a_refused_key_edit_puts_the_portals_errors_on_the_form(client_as, cast, connection):
    responses.get(f"{API}/apikeys/ak_x/", json=_key(uid="ak_x"))
    responses.put(f"{API}/apikeys/ak_x/", status=400, json={
        "error_code": "validation_error", "message": "Invalid", "detail": {"label": ["Too long for us."]}})
    html = client_as(cast["admin"]).post(reverse("portals:apikey-edit", kwargs={"conn": connection.slug,
                                                                               "key_uid": "ak_x"}),
                                         {"label": "x", "permissions": ["edit_dataset"]}).content.decode()
    assert "Too long for us." in html
    assert AuditEvent.objects.filter(action="apikey.edited").count() == 0


@responses.activate
def test_keys_page_says_when_the_key_may_not_list_keys(client_as, cast, connection):
    responses.get(f"{API}/apikeys/", status=403, json={"error_code": "permission_denied", "message": "No."})
    html = client_as(cast["admin"]).get(reverse("portals:apikeys", kwargs={"conn": connection.slug})).content.decode()
    assert "may not list the portal&#x27;s API keys" in html and "Create a key for this connection" in html


@pytest.mark.parametrize("who, status", [("outsider", 404), ("viewer", 403), ("operator", 403)])
def test_keys_pages_are_for_admins(client_as, cast, connection, who, status):
    for name, kwargs in (("portals:apikeys", {}), ("portals:apikey-edit", {"key_uid": "ak_x"})):
        url = reverse(name, kwargs={"conn": connection.slug, **kwargs})
        assert client_as(cast[who]).get(url).status_code == status
    url = reverse("portals:apikey-revoke", kwargs={"conn": connection.slug, "key_uid": "ak_x"})
    assert client_as(cast[who]).post(url, {"confirm": "1"}).status_code == status


@responses.activate
def test_a_refused_new_key_changes_nothing(client_as, cast, connection):
    before = connection.api_key_encrypted
    responses.post(f"{API}/apikeys/", status=400, json={
        "error_code": "validation_error", "message": "Invalid", "detail": {"permissions": ["Not yours to give."]}})
    responses.get(f"{API}/apikeys/", json={"total_count": 0, "next": None, "previous": None, "results": []})
    answer = client_as(cast["admin"]).post(reverse("portals:apikeys", kwargs={"conn": connection.slug}),
                                           {"label": "new", "permissions": ["edit_domain"], "reveal": "on"})
    assert answer.status_code == 200 and "Not yours to give." in answer.content.decode()
    connection.refresh_from_db()
    assert connection.api_key_encrypted == before and connection.key_stored_by is None
    assert not AuditEvent.objects.filter(action__in=["apikey.created", "connection.key_replaced"]).exists()
