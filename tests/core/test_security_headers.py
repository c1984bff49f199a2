"""CSP with nonces, CSRF on HTMX writes, login on every page, login throttling, Vary: HX-Request."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from portaladmin.audit.models import AuditEvent


def test_csp_header_with_nonce_matches_script_tags(client_as, cast):
    response = client_as(cast["superuser"]).get(reverse("portals:list"))
    csp = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    scripts = re.findall(r"<script[^>]*>", response.content.decode())
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert "style=" not in response.content.decode()


def test_nonce_differs_per_response(client_as, cast):
    c = client_as(cast["superuser"])
    first = c.get(reverse("portals:list"))["Content-Security-Policy"]
    second = c.get(reverse("portals:list"))["Content-Security-Policy"]
    assert first != second


def test_htmx_write_without_csrf_token_is_refused(cast, connection):
    c = Client(enforce_csrf_checks=True)
    c.force_login(cast["admin"])
    url = reverse("portals:test", kwargs={"conn": connection.slug})
    assert c.post(url, headers={"HX-Request": "true"}).status_code == 403


def test_htmx_write_with_csrf_header_passes_csrf(cast, connection, monkeypatch):
    from portaladmin.portals import services

    monkeypatch.setattr(services, "connection_test", lambda **kw: kw["connection"])
    c = Client(enforce_csrf_checks=True)
    c.force_login(cast["admin"])
    page = c.get(reverse("portals:detail", kwargs={"conn": connection.slug})).content.decode()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    response = c.post(reverse("portals:test", kwargs={"conn": connection.slug}),
                      headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200


def test_every_page_requires_login(client, connection):
    for url in [reverse("home"), reverse("portals:list"), reverse("audit:list"), reverse("jobs:list"),
                reverse("accounts:users"), reverse("datasets:list", kwargs={"conn": connection.slug})]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_healthz_is_public_and_reports(client):
    response = client.get(reverse("healthz"))
    assert response.status_code in (200, 503)
    assert set(response.json()) >= {"status", "database", "broker"}


def test_vary_on_hx_request(client_as, cast):
    response = client_as(cast["superuser"]).get(reverse("audit:list"))
    assert "HX-Request" in response["Vary"]


def test_partial_for_htmx_full_page_otherwise(client_as, cast):
    c = client_as(cast["superuser"])
    full = c.get(reverse("audit:list")).content.decode()
    part = c.get(reverse("audit:list"), headers={"HX-Request": "true"}).content.decode()
    assert "<html" in full and 'id="results"' in full
    assert "<html" not in part and 'id="results"' in part


@pytest.mark.django_db
def test_login_failures_lock_out_with_a_clear_message(client, make_user, settings):
    make_user("bob", password="right-Password-1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("login"), {"username": "bob", "password": "wrong"}, REMOTE_ADDR="10.1.1.1")
    assert response.status_code in (403, 429)
    assert "Too many failed log-ins" in response.content.decode()
    # Even the right password is refused while locked out.
    response = client.post(reverse("login"), {"username": "bob", "password": "right-Password-1"}, REMOTE_ADDR="10.1.1.1")
    assert "Too many failed log-ins" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_failed", target="bob").count() >= settings.AXES_FAILURE_LIMIT


@pytest.mark.django_db
def test_successful_login_is_audited(client, make_user):
    make_user("bob", password="right-Password-1")
    response = client.post(reverse("login"), {"username": "bob", "password": "right-Password-1"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="auth.login", actor_name="bob").exists()


def test_audit_events_are_append_only(cast):
    from portaladmin.audit.services import audit_record

    event = audit_record(action="x.y", actor=cast["admin"])
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_history_restore_gets_the_full_page(client_as, cast):
    c = client_as(cast["superuser"])
    html = c.get(reverse("audit:list"), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}).content
    assert b"<html" in html


def test_expired_session_on_htmx_request_redirects_the_whole_page(client):
    response = client.get(reverse("audit:list"), headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/login/")
