"""The one HTML sanitiser: an allowlist (nh3, the Ammonia library), for every piece of HTML that came from a
portal or a person and is drawn as HTML (metadata descriptions and their preview).

Allowlist, never a blocklist: only the tags and attributes below survive; script and style elements go with their
content; no `on*` handler, no `style` (the CSP allows no inline style anyway), no `class`/`id` (they could borrow
the app's own behaviours); links keep http(s) and mailto only (no javascript:, data: or vbscript: URLs) and get
rel="noopener noreferrer nofollow"; relative URLs are dropped. Images are dropped: the CSP (img-src 'self' data:)
would block a portal's images anyway, and an image URL would tell a third party who reads the page.
"""

from __future__ import annotations

import nh3
from django.utils.safestring import SafeString, mark_safe

TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "dd", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5",
        "h6", "hr", "i", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody", "td",
        "th", "thead", "tr", "u", "ul"}
ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
URL_SCHEMES = {"http", "https", "mailto"}
ABSOLUTE = ("http://", "https://", "mailto:")


def _absolute_urls_only(tag: str, attribute: str, value: str) -> str | None:
    """Relative URLs go too: drawn inside portaladmin they would point at portaladmin itself, not at the portal."""
    if attribute == "href" and not value.strip().lower().startswith(ABSOLUTE):
        return None
    return value


def clean_html(text: str | None) -> str:
    """Sanitised HTML (a plain str: mark it safe only where it is drawn)."""
    if not text:
        return ""
    return nh3.clean(str(text), tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow", strip_comments=True,
                     attribute_filter=_absolute_urls_only)


def safe_html(text: str | None) -> SafeString:
    # The one mark_safe on HTML from outside: its input went through the allowlist just above.
    return mark_safe(clean_html(text))  # noqa: S308  # nosec B308 B703
