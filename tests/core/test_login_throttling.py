"""Log-in throttling behind the TLS proxy (issue 16, finding 6): the client address comes from
X-Forwarded-For as far as PORTALADMIN_TRUSTED_PROXIES allows, and the lock-out is per user name + address."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.core.clientip import client_ip

PROXY = "10.0.0.2"  # every request reaches the web service from the proxy
ATTACKER, REAL_USER = "198.51.100.7", "203.0.113.9"
pytestmark = pytest.mark.django_db


def log_in(password, *, forwarded_for=None, remote=PROXY, username="admin"):
    headers = {"REMOTE_ADDR": remote}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return Client().post(reverse("login"), {"username": username, "password": password}, **headers)


def locked(response) -> bool:
    return response.status_code in (403, 429) and "Too many failed log-ins" in response.content.decode()


def test_attacker_behind_the_proxy_is_locked_and_the_real_user_still_logs_in(make_user, settings):
    settings.PORTALADMIN_TRUSTED_PROXIES = 1
    make_user("admin", password="right-Password-1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in("guess", forwarded_for=ATTACKER)
    assert locked(log_in("right-Password-1", forwarded_for=ATTACKER))  # even the right password, from there

    response = log_in("right-Password-1", forwarded_for=REAL_USER)
    assert response.status_code == 302 and response["Location"] == reverse("home")

    failures = AuditEvent.objects.filter(action="auth.login_failed", target="admin")
    assert failures.count() >= settings.AXES_FAILURE_LIMIT
    assert set(failures.values_list("ip", flat=True)) == {ATTACKER}
    assert AuditEvent.objects.get(action="auth.login", actor_name="admin").ip == REAL_USER


def test_a_client_cannot_pick_its_address_by_sending_x_forwarded_for_itself(make_user, settings):
    settings.PORTALADMIN_TRUSTED_PROXIES = 1
    make_user("admin", password="right-Password-1")
    # the proxy appends what it saw to what the attacker sent; only the proxy's entry counts
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in("guess", forwarded_for=f"192.0.2.{n}, {ATTACKER}")
    assert locked(log_in("right-Password-1", forwarded_for=f"{REAL_USER}, {ATTACKER}"))
    assert log_in("right-Password-1", forwarded_for=REAL_USER).status_code == 302


def test_without_trusted_proxies_a_spoofed_header_is_ignored(make_user, settings):
    settings.PORTALADMIN_TRUSTED_PROXIES = 0
    make_user("admin", password="right-Password-1")
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in("guess", forwarded_for=f"192.0.2.{n}", remote=ATTACKER)  # a new made-up address each time
    assert locked(log_in("right-Password-1", forwarded_for=REAL_USER, remote=ATTACKER))
    assert set(AuditEvent.objects.filter(action="auth.login_failed").values_list("ip", flat=True)) == {ATTACKER}
    assert log_in("right-Password-1", remote=REAL_USER).status_code == 302


@pytest.mark.parametrize("trusted, forwarded, remote, expected", [
    (0, "198.51.100.7", "10.0.0.2", "10.0.0.2"),
    (1, "", "10.0.0.2", "10.0.0.2"),  # not through the proxy: no header
    (1, "198.51.100.7", "10.0.0.2", "198.51.100.7"),
    (1, "1.2.3.4, 198.51.100.7", "10.0.0.2", "198.51.100.7"),
    (2, "1.2.3.4, 198.51.100.7, 10.0.0.9", "10.0.0.2", "198.51.100.7"),
    (1, "not-an-ip", "10.0.0.2", "10.0.0.2"),
    (1, "[2001:db8::7]:443", "10.0.0.2", "2001:db8::7"),
    (1, "198.51.100.7:51234", "10.0.0.2", "198.51.100.7"),
])
def test_client_ip(settings, trusted, forwarded, remote, expected):
    settings.PORTALADMIN_TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
