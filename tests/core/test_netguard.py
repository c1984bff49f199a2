"""Portal URL validation and the private-address refusal matrix."""

import socket

import pytest

from portaladmin.core.netguard import (
    BlockedAddress,
    check_host,
    is_blocked_ip,
    normalize_portal_url,
    validate_portal_url,
)

STRICT = {"allow_http": False, "allow_private": False}


@pytest.mark.parametrize("value, expected", [
    ("data.example.org", "https://data.example.org"),
    ("https://Data.Example.org/", "https://data.example.org"),
    ("https://data.example.org/api/automation/v1.0/", "https://data.example.org"),
    ("http://127.0.0.1:8000/sandbox/demo", "http://127.0.0.1:8000/sandbox/demo"),
])
def test_normalize(value, expected):
    assert normalize_portal_url(value) == expected


@pytest.mark.parametrize("host", [
    "127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "10.0.0.5", "172.16.3.4", "192.168.1.1",
    "169.254.169.254", "0.0.0.0", "[::1]", "[fe80::1]", "[fc00::1]", "[::ffff:127.0.0.1]", "localhost",
])
def test_private_and_loopback_forms_are_refused(host):
    with pytest.raises(ValueError, match="not a public internet address|cannot be resolved"):
        validate_portal_url(f"https://{host}/", **STRICT)


def test_name_resolving_to_loopback_is_refused(monkeypatch):
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "innocent.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(BlockedAddress):
        check_host("innocent.example.com")
    with pytest.raises(ValueError, match="127.0.0.1"):
        validate_portal_url("https://innocent.example.com", **STRICT)


def test_public_address_is_accepted(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo",
                        lambda host, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443))])
    assert validate_portal_url("data.example.com", **STRICT) == "https://data.example.com"


@pytest.mark.parametrize("value, message", [
    ("http://data.example.org", "Only https://"),
    ("ftp://data.example.org", "Only https://"),
    ("https://u:p@data.example.org", "must not contain a user name"),
    ("https://data.example.org/?apikey=x", "query string"),
    ("https://data.example.org:99999", "not a valid URL"),
    ("   ", "Enter the portal"),
    ("https://exa mple.org", "spaces"),
])
def test_malformed_urls(value, message):
    with pytest.raises(ValueError, match=message):
        validate_portal_url(value, **STRICT)


def test_http_and_private_allowed_for_the_sandbox():
    assert validate_portal_url("http://127.0.0.1:8000/sandbox/demo", allow_http=True, allow_private=True) \
        == "http://127.0.0.1:8000/sandbox/demo"


# Finding 5: everything that is not globally routable is refused, in every spelling.
@pytest.mark.parametrize("ip", [
    "100.64.0.1", "100.100.100.200",  # carrier-grade NAT (a cloud metadata service lives at 100.100.100.200)
    "192.0.0.8", "198.18.0.1", "203.0.113.5", "192.0.2.1", "240.0.0.1", "255.255.255.255", "0.1.2.3",
    "224.0.0.1", "239.255.255.250",  # multicast, which ipaddress calls global for IPv4
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.0.1", "169.254.169.254",
    "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1", "ff0e::1", "2001:db8::1", "100::1",
    "::ffff:127.0.0.1", "::ffff:100.64.0.1", "::ffff:169.254.169.254",  # IPv4-mapped
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1",  # NAT64 embedding private IPv4
    "2002:7f00:1::1", "2002:a00:1::1",  # 6to4 embedding private IPv4
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo (client 127.0.0.1 obfuscated)
    "::7f00:1", "::a9fe:a9fe",  # deprecated IPv4-compatible
])
def test_non_global_addresses_are_blocked(ip):
    assert is_blocked_ip(ip)


@pytest.mark.parametrize("ip", [
    "93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4007:80e::200e",
    "::ffff:8.8.8.8", "64:ff9b::808:808",  # a public IPv4 address reached through mapping or DNS64
])
def test_global_addresses_pass(ip):
    assert not is_blocked_ip(ip)


@pytest.mark.parametrize("ip", ["100.64.0.1", "64:ff9b::7f00:1", "::7f00:1", "fec0::1"])
def test_non_global_resolution_is_refused_unless_private_networks_are_allowed(monkeypatch, ip):
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    monkeypatch.setattr(socket, "getaddrinfo",
                        lambda host, port, *a, **k: [(family, socket.SOCK_STREAM, 6, "", (ip, port))])
    with pytest.raises(ValueError, match="not a public internet address"):
        validate_portal_url("https://metadata.example.com", **STRICT)
    assert validate_portal_url("https://metadata.example.com", allow_http=False, allow_private=True) \
        == "https://metadata.example.com"
