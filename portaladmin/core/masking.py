"""Showing a URL that may carry a secret: the user part (`https://user:password@host/`, or a token as the user) and
the values of query parameters named like a secret (`?apikey=…`, `&sig=…`, `X-Amz-Signature=…`) are masked; the
rest stays readable, so a person sees what is read without seeing how it is unlocked."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from portaladmin.core.logging import redact

MASK = "••••••"
# Names of query parameters that hold secrets. `key` only as a whole word or suffix, so `keyword` stays readable.
SECRET_PARAM = re.compile(
    r"pass|pwd|secret|token|api[_-]?key|credential|authorization|bearer|(^|[_.-])(key|sig|signature|auth|jwt|session)$",
    re.IGNORECASE)


def url_masked(url: str) -> str:
    """`url` for display: credentials in its user part and secret query values replaced by MASK (and anything a
    portal key looks like redacted). Not a URL to follow: masked values are not URL-encoded."""
    text = redact(str(url or ""))
    try:
        parts = urlsplit(text)
    except ValueError:  # an unparseable URL (e.g. a bad IPv6 host): only what the redaction caught is hidden
        return text
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(SECRET_PARAM.search(name) for name, _ in pairs):
            query = "&".join(f"{quote(name, safe='[]._-')}="
                             f"{MASK if SECRET_PARAM.search(name) and value else quote(value, safe='/:,._-')}"
                             for name, value in pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
