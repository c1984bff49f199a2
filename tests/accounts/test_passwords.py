"""Change my password; reset it by e-mail (throttled, same answer and same work whether the address is known)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portaladmin.accounts import tasks
from portaladmin.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def reset_doorbell(monkeypatch):
    """Record the reset mails handed to the worker instead of talking to a broker."""
    sent: list[dict] = []
    monkeypatch.setattr(tasks.password_reset_send_task, "delay", lambda **kwargs: sent.append(kwargs))
    return sent


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_the_navigation_links_to_my_password_page(client_as, cast):
    html = client_as(cast["viewer"]).get(reverse("home")).content.decode()
    assert f'href="{reverse("password_change")}"' in html


def test_change_my_password_keeps_me_logged_in_and_is_audited(client, make_user):
    client.force_login(make_user("bob", password="old-Password-1"))
    page = client.get(reverse("password_change"))
    assert page.status_code == 200 and "Change my password" in page.content.decode()

    wrong = client.post(reverse("password_change"), {"old_password": "nope", "new_password1": "Brand-new-pass-42",
                                                     "new_password2": "Brand-new-pass-42"})
    assert wrong.status_code == 200 and "incorrectly" in wrong.content.decode()

    ok = client.post(reverse("password_change"), {"old_password": "old-Password-1",
                                                  "new_password1": "Brand-new-pass-42",
                                                  "new_password2": "Brand-new-pass-42"}, follow=True)
    assert ok.status_code == 200 and "Your password was changed." in ok.content.decode()
    assert client.get(reverse("home")).status_code == 200  # still logged in
    assert get_user_model().objects.get(username="bob").check_password("Brand-new-pass-42")
    assert AuditEvent.objects.filter(action="auth.password_changed", actor_name="bob").count() == 1


def test_reset_by_email_end_to_end(make_user, reset_doorbell, django_capture_on_commit_callbacks):
    make_user("bob", password="old-Password-1")
    client = Client()
    assert "Forgot your password?" in client.get(reverse("login")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": "bob@example.org"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert reset_doorbell == [{"email": "bob@example.org", "domain": "testserver", "use_https": False}]
    assert mail.outbox == []  # the web request sends nothing itself

    # the worker
    assert tasks.password_reset_send_task(**reset_doorbell[0]) == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["bob@example.org"]
    link = re.search(r"http://testserver(/password-reset/\S+/)", mail.outbox[0].body).group(1)

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": "Brand-new-pass-42",
                                                         "new_password2": "Brand-new-pass-42"}, follow=True)
    assert "Your password is set" in done.content.decode()
    login = client.post(reverse("login"), {"username": "bob", "password": "Brand-new-pass-42"})
    assert login.status_code == 302 and login["Location"] == reverse("home")
    assert AuditEvent.objects.filter(action="auth.password_reset", actor_name="bob").exists()
    # the link works once
    assert "no longer works" in Client().get(link, follow=True).content.decode()


def test_no_user_enumeration_same_answer_and_same_work(make_user, reset_doorbell,
                                                       django_capture_on_commit_callbacks):
    make_user("bob")
    answers = []
    for email in ("bob@example.org", "nobody@example.org"):
        client = Client()
        with CaptureQueriesContext(db_connection) as queries, django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("password_reset"), {"email": email})
        answers.append((response.status_code, response["Location"], len(queries)))
    assert answers[0] == answers[1]  # same status, same page, same number of queries: one timing class
    assert [d["email"] for d in reset_doorbell] == ["bob@example.org", "nobody@example.org"]
    assert tasks.password_reset_send_task(**reset_doorbell[1]) == 0
    assert mail.outbox == []


def test_inactive_and_sso_only_accounts_get_no_reset_mail(make_user):
    make_user("gone").__class__.objects.filter(username="gone").update(is_active=False)
    sso = make_user("sso")
    sso.set_unusable_password()
    sso.save()
    for email in ("gone@example.org", "sso@example.org"):
        assert tasks.password_reset_send_task(email=email, domain="testserver", use_https=True) == 0
    assert mail.outbox == []


def test_reset_is_throttled_per_address_and_per_ip(settings, reset_doorbell, django_capture_on_commit_callbacks):
    settings.PASSWORD_RESET_PER_EMAIL_PER_HOUR = 2
    settings.PASSWORD_RESET_PER_IP_PER_HOUR = 4
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        codes = [client.post(reverse("password_reset"), {"email": "Bob@Example.org"}, REMOTE_ADDR=f"10.0.0.{i}")
                 .status_code for i in range(3)]
    assert codes == [302, 302, 429]  # per address, whatever the IP (and case-insensitively)
    with django_capture_on_commit_callbacks(execute=True):
        codes = [client.post(reverse("password_reset"), {"email": f"u{i}@example.org"}, REMOTE_ADDR="10.9.9.9")
                 .status_code for i in range(5)]
    assert codes == [302, 302, 302, 302, 429]  # per IP, whatever the address
    throttled = client.post(reverse("password_reset"), {"email": "x@example.org"}, REMOTE_ADDR="10.9.9.9")
    assert "Too many reset requests" in throttled.content.decode()
    assert len(reset_doorbell) == 6  # the throttled ones were never handed to a worker
    assert AuditEvent.objects.filter(action="auth.password_reset_requested", outcome="failure").count() == 3
