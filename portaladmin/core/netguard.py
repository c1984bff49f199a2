"""Portal URL validation and the private-network guard.

A connection profile stores a URL typed by a user; portaladmin then makes requests to it from
its servers. To stop that becoming a way into the internal network (SSRF), URLs must be https
(plain http only when PORTALS_ALLOW_HTTP), carry no credentials, and resolve to public addresses
(unless PORTALS_ALLOW_PRIVATE_NETWORKS). The address check runs again at connect time in the
client, so a name that later resolves to 127.0.0.1 is still refused.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class BlockedAddress(ValueError):
    pass


def normalize_portal_url(value: str) -> str:
    """Accept a bare domain or a URL; return scheme://host[:port][/path] without a trailing slash.

    A trailing /api/automation/v1.0 is dropped: the client appends it.
    """
    value = value.strip()
    if "://" not in value:
        value = "https://" + value
    parts = urlsplit(value)
    path = parts.path.rstrip("/")
    for suffix in ("/api/automation/v1.0", "/api/automation/v1.0/"):
        if path.endswith(suffix.rstrip("/")):
            path = path[: -len(suffix.rstrip("/"))]
    netloc = parts.hostname or ""
    if ":" in netloc:  # IPv6 literal
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    return f"{parts.scheme.lower()}://{netloc.lower()}{path}"


def validate_portal_url(value: str, *, allow_http: bool | None = None, allow_private: bool | None = None) -> str:
    """Return the normalized URL or raise ValueError with a message for the user."""
    allow_http = settings.PORTALS_ALLOW_HTTP if allow_http is None else allow_http
    allow_private = settings.PORTALS_ALLOW_PRIVATE_NETWORKS if allow_private is None else allow_private
    raw = value.strip()
    if not raw:
        raise ValueError("Enter the portal's domain or URL.")
    if any(c.isspace() for c in raw):
        raise ValueError("The URL must not contain spaces.")
    candidate = raw if "://" in raw else "https://" + raw
    try:
        parts = urlsplit(candidate)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError("This is not a valid URL.") from None
    if parts.scheme not in ("https", "http"):
        raise ValueError("Only https:// portal URLs are accepted.")
    if parts.scheme == "http" and not allow_http:
        raise ValueError("Only https:// portal URLs are accepted (plain http is allowed only for local sandboxes).")
    if parts.username or parts.password or "@" in parts.netloc:
        raise ValueError("The URL must not contain a user name or password; the API key goes in its own field.")
    if parts.query or parts.fragment:
        raise ValueError("The URL must not contain a query string or fragment.")
    host = parts.hostname
    if not host:
        raise ValueError("The URL has no host name.")
    if not allow_private:
        check_host(host, parts.port or (443 if parts.scheme == "https" else 80))
    return normalize_portal_url(candidate)


def is_blocked_ip(ip: str) -> bool:
    addr = ipaddress.ip_address(ip)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or (isinstance(addr, ipaddress.IPv6Address) and addr.sixtofour is not None and is_blocked_ip(str(addr.sixtofour)))
    )


def check_host(host: str, port: int = 443) -> list[str]:
    """Resolve host and raise BlockedAddress if any address is private. Returns the addresses.

    Literal forms that resolvers accept (decimal 2130706433, hex 0x7f000001, short 127.1) are
    resolved by getaddrinfo exactly as the HTTP library would, so they are caught too.
    """
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise BlockedAddress(f"The host name {host!r} cannot be resolved.") from None
    addresses = sorted({info[4][0] for info in infos})
    for ip in addresses:
        if is_blocked_ip(ip.split("%")[0]):
            raise BlockedAddress(
                f"{host} resolves to a private, loopback or link-local address ({ip}); "
                "such portals are refused unless PORTALS_ALLOW_PRIVATE_NETWORKS is on."
            )
    return addresses
