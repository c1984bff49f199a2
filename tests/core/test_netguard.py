"""Portal URL validation and the private-address refusal matrix."""

import socket

import pytest

from portaladmin.core.netguard import BlockedAddress, check_host, normalize_portal_url, validate_portal_url

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
    with pytest.raises(ValueError, match="private, loopback or link-local|cannot be resolved"):
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
