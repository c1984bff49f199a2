"""The address of the person making a request, for log-in throttling and the audit trail alike.

Behind a reverse proxy REMOTE_ADDR is the proxy's own address. Each proxy appends the address it received the
request from to X-Forwarded-For, so with PORTALADMIN_TRUSTED_PROXIES = N the client is the address N hops
from the right of [X-Forwarded-For…, REMOTE_ADDR]: everything further left could have been typed by the client
itself. With 0 (the default) the header is ignored. The web service must then be reachable only through those
N proxies, or anyone could add the hops themselves.
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    if request is None:
        return None
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    trusted = max(0, int(getattr(settings, "PORTALADMIN_TRUSTED_PROXIES", 0) or 0))
    if not trusted:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    hops = forwarded + ([remote] if remote else [])
    if not hops:
        return remote
    # Fewer hops than trusted proxies: the request came through fewer of them; take the farthest one known.
    return _address(hops[max(0, len(hops) - 1 - trusted)]) or remote


def _address(value: str) -> str | None:
    """A valid IP address from a header value ('198.51.100.7', '[2001:db8::1]:443', '198.51.100.7:51234')."""
    value = value.strip()
    candidates = [value]
    if value.startswith("[") and "]" in value:
        candidates.append(value[1:value.index("]")])
    elif value.count(":") == 1:
        candidates.append(value.split(":", 1)[0])
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None
