"""Code editor page content: per-language rows <-> the portal's JSON, and the local limits.

The spec (openapi.json, CodeEditorPage) describes `content` as ``{"html": {lang: text}, "css": {lang: text}}``
with the example ``{"html": {"en": "<p>…</p>"}, "css": {"en": ""}}``; FACTS.md and the client's docstring
describe ``{lang: {"html", "css"}}``. We write the spec's shape and read either, so both answers work.
"""

from __future__ import annotations

from typing import Any

# ISO 639-1: every two-letter language code.
ISO_639_1 = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el
en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu
ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na
nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so
sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
""".split())

# Offered first in the language picker (a <datalist>; any ISO 639-1 code is accepted).
COMMON_LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt", "ca", "eu", "da", "sv", "nb", "fi", "pl", "cs",
                    "ar", "ja", "zh")

MAX_CONTENT_BYTES = 1_000_000  # HTML + CSS of one language (a local limit: the portal documents none)

_PARTS = ("html", "css")


def is_language_code(code: str) -> bool:
    return code in ISO_639_1


def page_languages(title: Any, content: Any) -> list[dict[str, str]]:
    """Rows ``{"language", "title", "html", "css"}`` from a page's title and content, in either shape."""
    title = title if isinstance(title, dict) else {}
    content = content if isinstance(content, dict) else {}
    html: dict[str, str] = {}
    css: dict[str, str] = {}
    if any(isinstance(content.get(part), dict) for part in _PARTS):  # spec shape {html: {lang}, css: {lang}}
        html = {k: _text(v) for k, v in (content.get("html") or {}).items()}
        css = {k: _text(v) for k, v in (content.get("css") or {}).items()}
    else:  # {lang: {html, css}}
        for lang, parts in content.items():
            if isinstance(parts, dict):
                html[lang] = _text(parts.get("html"))
                css[lang] = _text(parts.get("css"))
            elif isinstance(parts, str):
                html[lang] = parts
    order: list[str] = []
    for lang in [*title, *html, *css]:
        if lang and lang not in order:
            order.append(lang)
    return [{"language": lang, "title": _text(title.get(lang)), "html": html.get(lang, ""),
             "css": css.get(lang, "")} for lang in order]


def wire_title(rows: list[dict[str, str]]) -> dict[str, str]:
    return {row["language"]: row["title"] for row in rows}


def wire_content(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {"html": {row["language"]: row["html"] for row in rows},
            "css": {row["language"]: row["css"] for row in rows}}


def content_size(html: str, css: str) -> int:
    return len((html or "").encode()) + len((css or "").encode())


def _text(value: Any) -> str:
    return "" if value is None else str(value)
