"""Private-network guard at connect time: with PORTALS_ALLOW_PRIVATE_NETWORKS off, a portal whose name
resolves to a private or loopback address is refused before any request is sent."""

from __future__ import annotations

import socket

import pytest
from django.test import override_settings

from portaladmin.portals.client import PortalClient, base
from portaladmin.portals.client.errors import PortalBlockedAddress, PortalError
from tests.client import payloads as p


def _resolve_to(monkeypatch, ip: str):
    def fake(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@override_settings(PORTALS_ALLOW_PRIVATE_NETWORKS=False)
def test_name_resolving_to_loopback_is_refused(local_portal):
    # localhost really resolves to 127.0.0.1, and a real server listens there
    local_portal.route("GET", "/datasets/", p.page([], total=1))
    client = PortalClient(base_url=local_portal.url.replace("127.0.0.1", "localhost"), api_key="k" * 16,
                          timeout=(1, 1))
    with pytest.raises(PortalBlockedAddress) as exc:
        client.dataset_count()
    assert isinstance(exc.value, PortalError)
    assert not exc.value.retryable
    assert local_portal.requests == []  # nothing was sent


@override_settings(PORTALS_ALLOW_PRIVATE_NETWORKS=False)
def test_literal_private_address_is_refused(local_portal):
    client = PortalClient(base_url=local_portal.url, api_key="k" * 16, timeout=(1, 1))
    with pytest.raises(PortalBlockedAddress):
        client.dataset_count()
    assert local_portal.requests == []


@override_settings(PORTALS_ALLOW_PRIVATE_NETWORKS=False)
def test_rebinding_to_a_private_address_is_caught_after_the_cache_expires(api, monkeypatch):
    client = PortalClient(base_url="https://data.example.org", api_key="k" * 16, timeout=(1, 1))
    _resolve_to(monkeypatch, "93.184.216.34")
    api.expect("GET", "/datasets/", body=p.page([], total=2))
    assert client.dataset_count() == 2
    # the name now points inside the network
    _resolve_to(monkeypatch, "10.0.0.5")
    base.clear_guard_cache()  # what GUARD_TTL seconds do
    with pytest.raises(PortalBlockedAddress) as exc:
        client.dataset_count()
    assert "10.0.0.5" in str(exc.value)


@override_settings(PORTALS_ALLOW_PRIVATE_NETWORKS=False)
def test_public_address_passes_and_the_check_is_cached(api, monkeypatch):
    calls = []

    def fake(host, port, *args, **kwargs):
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    client = PortalClient(base_url="https://data.example.org", api_key="k" * 16, timeout=(1, 1))
    api.expect("GET", "/datasets/", body=p.page([], total=2))
    api.expect("GET", "/datasets/", body=p.page([], total=2))
    client.dataset_count()
    client.dataset_count()
    assert calls == ["data.example.org"]


@override_settings(PORTALS_ALLOW_PRIVATE_NETWORKS=True)
def test_private_networks_allowed_for_sandboxes(local_portal):
    local_portal.route("GET", "/datasets/", p.page([], total=4))
    client = PortalClient(base_url=local_portal.url.replace("127.0.0.1", "localhost"), api_key="k" * 16,
                          timeout=(1, 2))
    assert client.dataset_count() == 4
    client.close()


def test_explicit_allow_private_overrides_settings(local_portal, settings):
    settings.PORTALS_ALLOW_PRIVATE_NETWORKS = True
    client = PortalClient(base_url=local_portal.url, api_key="k" * 16, timeout=(1, 1), allow_private=False)
    with pytest.raises(PortalBlockedAddress):
        client.dataset_count()
