"""Portal URL validation and the private-network guard.

A connection profile stores a URL typed by a user; portaladmin then makes requests to it from
its servers. To stop that becoming a way into the internal network (SSRF), URLs must be https
(plain http only when PORTALS_ALLOW_HTTP), carry no credentials, and resolve to globally routable
addresses (unless PORTALS_ALLOW_PRIVATE_NETWORKS). The client checks again at connect time and then
connects to the very addresses it checked (it never lets the HTTP library resolve the name a second
time), so a name that later resolves to 127.0.0.1 — DNS rebinding — is still refused.
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


# IPv6 global unicast. Everything else in IPv6 (unique-local, link-local, multicast, documentation,
# the deprecated site-local and IPv4-compatible ranges…) is refused, whatever ipaddress.is_global says.
_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")
# The well-known NAT64 prefix (RFC 6052): 64:ff9b::a.b.c.d reaches the IPv4 address a.b.c.d.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (IPv4-mapped, NAT64, 6to4, Teredo client), if any."""
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[1]
    return None


def is_blocked_ip(ip: str) -> bool:
    """True unless `ip` is a globally routable unicast address.

    `not is_global` covers private, loopback, link-local, carrier-grade NAT (100.64.0.0/10, where some
    clouds serve instance metadata), benchmarking, documentation and reserved ranges; multicast is added
    because ipaddress calls IPv4 multicast global. An IPv6 address that embeds an IPv4 address is judged
    by that address too, so ::ffff:127.0.0.1 or 64:ff9b::a00:1 cannot reach inside the network.
    """
    addr = ipaddress.ip_address(ip)
    if isinstance(addr, ipaddress.IPv6Address):
        inner = embedded_ipv4(addr)
        if inner is not None and is_blocked_ip(str(inner)):
            return True
        if addr.ipv4_mapped is not None or addr in _NAT64:
            return False  # a public IPv4 address reached over IPv6 (DNS64 networks)
        if addr not in _GLOBAL_UNICAST_V6:
            return True
    return not addr.is_global or addr.is_multicast


def resolve(host: str, port: int) -> list[tuple[int, tuple]]:
    """getaddrinfo's (family, socket address) pairs for host, in its order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise BlockedAddress(f"The host name {host!r} cannot be resolved.") from None
    out: list[tuple[int, tuple]] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6) and (family, sockaddr) not in out:
            out.append((family, sockaddr))
    if not out:
        raise BlockedAddress(f"The host name {host!r} cannot be resolved.")
    return out


def check_addresses(host: str, addresses: list[tuple[int, tuple]]) -> None:
    for _family, sockaddr in addresses:
        ip = sockaddr[0].split("%")[0]
        if is_blocked_ip(ip):
            raise BlockedAddress(
                f"{host} resolves to {ip}, which is not a public internet address (private, loopback, "
                "link-local, shared or reserved); such portals are refused unless PORTALS_ALLOW_PRIVATE_NETWORKS is on."
            )


def check_host(host: str, port: int = 443) -> list[tuple[int, tuple]]:
    """Resolve host and raise BlockedAddress if any address is not public. Returns the checked
    (family, socket address) pairs: connect to these, never resolve the name again (DNS rebinding).

    Literal forms that resolvers accept (decimal 2130706433, hex 0x7f000001, short 127.1) are
    resolved by getaddrinfo exactly as the HTTP library would, so they are caught too.
    """
    addresses = resolve(host, port)
    check_addresses(host, addresses)
    return addresses


def validate_webhook_url(value: str, *, allow_http: bool | None = None, allow_private: bool | None = None) -> str:
    """Return a webhook URL as typed (a query string is kept: some receivers carry their token there) or raise
    ValueError. Same rules as portal URLs otherwise: https (http only when PORTALS_ALLOW_HTTP), no credentials,
    a host resolving only to globally routable addresses (unless PORTALS_ALLOW_PRIVATE_NETWORKS)."""
    allow_http = settings.PORTALS_ALLOW_HTTP if allow_http is None else allow_http
    allow_private = settings.PORTALS_ALLOW_PRIVATE_NETWORKS if allow_private is None else allow_private
    raw = value.strip()
    if not raw or any(c.isspace() for c in raw):
        raise ValueError("Enter the webhook's full URL, without spaces.")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise ValueError("This is not a valid URL.") from None
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not allow_http):
        raise ValueError("Only https:// webhook URLs are accepted.")
    if parts.username or parts.password or "@" in parts.netloc:
        raise ValueError("The URL must not contain a user name or password; the rule's secret signs each message.")
    if parts.fragment:
        raise ValueError("The URL must not contain a fragment.")
    if not parts.hostname:
        raise ValueError("The URL has no host name.")
    if not allow_private:
        check_host(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    return raw
