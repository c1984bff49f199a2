"""Reads of studio pages and code editor pages (the portal is the truth; nothing is stored locally)."""

from __future__ import annotations

from dataclasses import dataclass, field

from portaladmin.pages.content import page_languages
from portaladmin.portals.client import client_for, every_item
from portaladmin.portals.client.schemas import CodePage, SecurityRuleset, StudioPage
from portaladmin.portals.models import Connection

STUDIO = "studio"
CODE = "code"
PERMISSIONS = {STUDIO: ("edit_page",), CODE: ("edit_page", "manage_page")}


@dataclass
class Access:
    """Who may see and who may edit a page, from its visibility flag and its rulesets."""

    restricted: bool
    users: list[SecurityRuleset] = field(default_factory=list)
    groups: list[SecurityRuleset] = field(default_factory=list)

    @property
    def rulesets(self) -> list[SecurityRuleset]:
        return [*self.users, *self.groups]

    @property
    def editors(self) -> list[SecurityRuleset]:
        return [r for r in self.rulesets if "edit_page" in r.permissions]

    @property
    def managers(self) -> list[SecurityRuleset]:
        return [r for r in self.rulesets if "manage_page" in r.permissions]


@dataclass
class StudioPageRow:
    page: StudioPage
    state: str
    title: str = ""


@dataclass
class CodePageRow:
    page: CodePage
    state: str
    languages: list[dict[str, str]] = field(default_factory=list)


def studio_page_state(page: StudioPage) -> str:
    """draft or published. The spec has no flag: read what the answer offers, most explicit first."""
    raw = page.raw or {}
    if isinstance(raw.get("is_published"), bool):
        return "published" if raw["is_published"] else "draft"
    if isinstance(raw.get("status"), str) and raw["status"] in ("draft", "published"):
        return raw["status"]
    versions = {str(c.get("version_name", "")) for c in page.contents if isinstance(c, dict)}
    if versions:
        return "published" if versions & {"published", "live", "public"} else "draft"
    return "published" if page.first_published_at else "draft"


def code_page_state(page: CodePage) -> str:
    """archived, or published (a code editor page is live as soon as it exists)."""
    return "archived" if page.is_archived else "published"


def studio_page_title(page: StudioPage) -> str:
    for content in page.contents:
        if isinstance(content, dict) and content.get("title"):
            return str(content["title"])
    return ""


# ------------------------------------------------------------------------------------------ studio pages


def studio_page_list(*, connection: Connection) -> list[StudioPageRow]:
    pages = sorted(client_for(connection).studio_page_iter(), key=lambda p: p.slug.lower())
    return [StudioPageRow(page=p, state=studio_page_state(p), title=studio_page_title(p)) for p in pages]


def studio_page_get(*, connection: Connection, uid: str) -> StudioPageRow:
    page = client_for(connection).studio_page_get(uid)
    return StudioPageRow(page=page, state=studio_page_state(page), title=studio_page_title(page))


def studio_page_access(*, connection: Connection, page: StudioPage) -> Access:
    return _access(connection, STUDIO, page.uid, restricted=not page.public)


# ------------------------------------------------------------------------------------------ code editor pages


def code_page_list(*, connection: Connection, search: str = "",
                   tag: str = "") -> tuple[list[CodePageRow], list[str]]:
    """Pages matching `search` (slug, titles, description) and `tag`, and every tag in use.

    The API has no search or tag filter on lists, so this walks every page (≤ 1000 per call) and filters here.
    """
    pages = list(client_for(connection).code_page_iter())
    tags = sorted({t for p in pages for t in p.tags}, key=str.lower)
    needle = search.strip().lower()
    if needle:
        pages = [p for p in pages if needle in _haystack(p)]
    if tag:
        pages = [p for p in pages if tag in p.tags]
    pages.sort(key=lambda p: p.slug.lower())
    return [CodePageRow(page=p, state=code_page_state(p)) for p in pages], tags


def code_page_get(*, connection: Connection, slug: str) -> CodePageRow:
    page = client_for(connection).code_page_get(slug)
    return CodePageRow(page=page, state=code_page_state(page), languages=page_languages(page.title, page.content))


def code_page_access(*, connection: Connection, page: CodePage) -> Access:
    return _access(connection, CODE, page.slug, restricted=bool(page.is_restricted))


def _access(connection: Connection, kind: str, key: str, *, restricted: bool) -> Access:
    client = client_for(connection)
    prefix = "studio_page" if kind == STUDIO else "code_page"
    users = every_item(getattr(client, f"{prefix}_user_ruleset_list"), key)
    groups = every_item(getattr(client, f"{prefix}_group_ruleset_list"), key)
    return Access(restricted=restricted, users=users, groups=groups)


def _haystack(page: CodePage) -> str:
    return " ".join([page.slug, page.description or "", *(str(t) for t in page.title.values())]).lower()
