"""Session plumbing: mandatory timeouts, headers, one pooled connection, client_for caching, fork safety."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
import requests

from portaladmin.portals import client as client_pkg
from portaladmin.portals.client import PortalClient, base, clear_client_cache, client_for, transport
from tests.client import payloads as p
from tests.client.conftest import API, PORTAL
from tests.conftest import CANARY_KEY

ROOT = Path(__file__).resolve().parents[2]


def test_session_refuses_a_request_without_timeout(portal):
    with pytest.raises(base.MissingTimeout):
        portal.session.get(API + "/datasets/")
    with pytest.raises(base.MissingTimeout):
        portal.session.request("GET", API + "/datasets/", timeout=None)
    with pytest.raises(base.MissingTimeout):
        portal.session.request("GET", API + "/datasets/", timeout=(None, 5))


def test_a_bare_timeout_session_refuses_too():
    with base.TimeoutRequiredSession() as session, pytest.raises(base.MissingTimeout):
        session.get("http://127.0.0.1:9/")  # refused before any socket is opened


def test_every_client_call_carries_the_configured_timeout(api, monkeypatch):
    seen = []
    real_send = base.TimeoutRequiredSession.send

    def spy(self, request, **kwargs):
        seen.append(kwargs.get("timeout"))
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(base.TimeoutRequiredSession, "send", spy)
    client = PortalClient(base_url=PORTAL, api_key=CANARY_KEY, timeout=(1.5, 9.0))
    api.expect("GET", "/datasets/", body=p.page([], total=3))
    api.expect("POST", "/datasets/da_abc123/publish/", body=p.OK)
    client.dataset_count()
    client.dataset_publish("da_abc123")
    assert seen == [(1.5, 9.0), (1.5, 9.0)]


def test_default_timeout_comes_from_settings(settings):
    settings.PORTALS_CONNECT_TIMEOUT = 2.5
    settings.PORTALS_READ_TIMEOUT = 12.0
    assert PortalClient(base_url=PORTAL, api_key="k").timeout == (2.5, 12.0)


@pytest.mark.parametrize("timeout", [(0, 5), (5, 0), (-1, 5)])
def test_an_unusable_timeout_is_refused(timeout):
    with pytest.raises(ValueError):
        PortalClient(base_url=PORTAL, api_key="k", timeout=timeout)


def test_only_the_client_package_imports_requests():
    offenders = []
    for path in (ROOT / "portaladmin").rglob("*.py"):
        if "portals/client" in path.as_posix():
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "requests" or n.startswith("requests.") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_headers_auth_user_agent_and_trailing_slash(api, portal, settings):
    api.expect("GET", "/datasets/da_abc123/status/", body=p.STATUS_IDLE)
    portal.dataset_status("da_abc123")
    request = api.calls[0].request
    assert request.headers["Authorization"] == f"apikey {CANARY_KEY}"
    assert request.headers["User-Agent"] == settings.PORTALS_USER_AGENT
    assert "apikey" not in request.url.lower()
    assert request.url.endswith("/status/")


def test_identifiers_are_quoted_into_one_path_segment(api, portal):
    api.expect("GET", "/users/a%2F..%2Fb/", body=p.USER)
    portal.user_get("a/../b")
    assert api.calls[0].request.url == API + "/users/a%2F..%2Fb/"


def test_base_url_accepts_portal_root_or_api_base():
    assert PortalClient(base_url="https://x.org/", api_key="k").base_url == "https://x.org/api/automation/v1.0"
    assert PortalClient(base_url="https://x.org/api/automation/v1.0/", api_key="k").base_url == \
        "https://x.org/api/automation/v1.0"
    with pytest.raises(ValueError):
        PortalClient(base_url="ftp://x.org", api_key="k")
    with pytest.raises(ValueError):
        PortalClient(base_url="https://x.org", api_key="")


def test_redirects_are_not_followed(api, portal):
    api.add("GET", API + "/datasets/da_abc123/", status=301, headers={"Location": "https://evil.example.org/"})
    with pytest.raises(client_pkg.PortalError):
        portal.dataset_get("da_abc123")
    assert len(api.calls) == 1


def test_many_calls_share_one_tcp_connection(local_portal):
    # given a real keep-alive HTTP/1.1 server
    local_portal.route("GET", "/datasets/", p.page([], total=5))
    local_portal.route("POST", "/datasets/da_abc123/publish/", p.OK)
    local_portal.route("GET", "/datasets/da_abc123/status/", p.STATUS_IDLE)
    client = PortalClient(base_url=local_portal.url, api_key=CANARY_KEY, timeout=(2, 5))
    # when many sequential calls are made
    for _ in range(20):
        assert client.dataset_count() == 5
        client.dataset_publish("da_abc123")
        assert client.dataset_status("da_abc123").is_success
    # then one TCP connection carried all 60 requests
    assert len(local_portal.requests) == 60
    assert local_portal.connections == 1
    assert {r["headers"]["Authorization"] for r in local_portal.requests} == {f"apikey {CANARY_KEY}"}
    client.close()


def test_a_forked_process_gets_its_own_session(monkeypatch):
    client = PortalClient(base_url=PORTAL, api_key="k")
    first = client.session
    assert client.session is first
    monkeypatch.setattr(os, "getpid", lambda: -42)
    assert client.session is not first


@pytest.mark.django_db
def test_client_for_builds_from_a_connection_and_caches(make_connection):
    clear_client_cache()
    conn = make_connection("paris", base_url="https://data.paris.example.org", connect_timeout=1.0, read_timeout=7.0)
    client = client_for(conn)
    assert client.base_url == "https://data.paris.example.org/api/automation/v1.0"
    assert client.timeout == (1.0, 7.0)
    assert client_for(conn) is client
    # a new key gives a new client (and session)
    conn.set_api_key("another-key-1234567")
    conn.save()
    assert client_for(conn) is not client
    clear_client_cache()


@pytest.mark.django_db
def test_client_for_is_per_process(make_connection, monkeypatch):
    clear_client_cache()
    conn = make_connection("lyon")
    client = client_for(conn)
    monkeypatch.setattr(os, "getpid", lambda: -7)
    assert client_for(conn) is not client
    clear_client_cache()


def test_client_repr_and_session_auth_never_show_the_key(portal):
    assert CANARY_KEY not in repr(portal)
    assert CANARY_KEY not in repr(portal.session.auth)
    assert CANARY_KEY not in repr(vars(portal).get("_session"))


def test_requests_exceptions_not_leaking(api, portal):
    api.add("GET", API + "/datasets/", body=requests.exceptions.InvalidURL("bad"))
    with pytest.raises(client_pkg.PortalError):
        portal.dataset_count()


def test_settings_fall_back_when_django_is_not_configured(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    class Unconfigured:
        def __getattr__(self, name):
            raise ImproperlyConfigured(name)

    monkeypatch.setattr(transport, "settings", Unconfigured())
    client = PortalClient(base_url=PORTAL, api_key="k")
    assert client.timeout == (5.0, 30.0)
    assert client.max_retries == 3
    assert client.allow_private is False
