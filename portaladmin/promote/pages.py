"""Compare and promote a studio page (matched by slug) or a code editor page (by slug) between connections.

Compared: title and content per language, description, tags, template, restricted/public, publication (studio)
and access rules (users by username, groups by TITLE — unknown principals are reported, never guessed).
A page promote is one `promote.page` job (services.page_promote_start): a step per part (page, access rules,
publication) per target, run by the same chain runner as the dataset promote; each step re-reads both pages and
writes only what differs, so promoting an unchanged page again writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from portaladmin.portals.client.errors import PortalNotFound
from portaladmin.promote.apply import groups_by_title, known_usernames
from portaladmin.promote.diff import Row, canonical
from portaladmin.promote.snapshot import group_titles

STUDIO, CODE = "studio", "code"
CODE_FIELDS = ("title", "description", "content", "template", "tags", "is_restricted")


def _rules(client, kind: str, key: str) -> tuple[dict, dict, dict]:
    prefix = "studio_page" if kind == STUDIO else "code_page"
    users = {r.username: sorted(r.permissions) for r in getattr(client, f"{prefix}_user_ruleset_list")(
        key, limit=100).results if r.username}
    group_rules = [r for r in getattr(client, f"{prefix}_group_ruleset_list")(key, limit=100).results if r.group_uid]
    titles = group_titles(client, [r.group_uid for r in group_rules])
    groups = {titles[r.group_uid]: sorted(r.permissions) for r in group_rules}
    return users, groups, {title: uid for uid, title in titles.items()}


def find_page(client, kind: str, slug: str):
    if kind == CODE:
        try:
            return client.code_page_get(slug)
        except PortalNotFound:
            return None
    return next((p for p in client.studio_page_iter() if p.slug == slug), None)


def page_snapshot(client, kind: str, slug: str, *, page=None) -> dict:
    page = page if page is not None else find_page(client, kind, slug)
    if page is None:
        return {"exists": False, "slug": slug, "fields": {}, "users": {}, "groups": {}, "refs": {}}
    if kind == CODE:
        fields = {name: page.raw.get(name) for name in CODE_FIELDS}
        key = page.slug
    else:
        draft = next((c for c in page.contents if isinstance(c, dict) and c.get("version_name") == "draft"), {})
        fields = {"title": draft.get("title"), "description": draft.get("description"), "public": page.public,
                  "published": any(isinstance(c, dict) and c.get("version_name") == "published"
                                   for c in page.contents)}
        key = page.uid
    users, groups, group_uids = _rules(client, kind, key)
    return {"exists": True, "slug": slug, "key": key, "fields": fields, "users": users, "groups": groups,
            "refs": {"groups": group_uids}}


def page_version(client, kind: str, slug: str) -> str:
    """A page's state as one text, to tell whether the source changed while a promote ran (the dataset promote
    compares the dataset's updated_at): its updated_at, for what the snapshot does not hold (a studio page's
    blocks), and its snapshot, for what may not move updated_at (access rules). '' when the page is gone."""
    page = find_page(client, kind, slug)
    if page is None:
        return ""
    return canonical({"updated_at": page.updated_at, "snapshot": page_snapshot(client, kind, slug, page=page)})


def _flat(snap: dict) -> dict:
    out = {}
    for name, value in snap["fields"].items():
        if isinstance(value, dict) and name in ("title", "content"):
            for sub, inner in value.items():
                if isinstance(inner, dict):  # content: {"html": {lang: text}, "css": {…}}
                    out.update({f"{name}.{sub}.{lang}": text for lang, text in inner.items()})
                else:
                    out[f"{name}.{sub}"] = inner
        else:
            out[name] = value
    out.update({f"user {k}": v for k, v in snap["users"].items()})
    out.update({f"group {k}": v for k, v in snap["groups"].items()})
    return out


def page_diff(source: dict, target: dict) -> list[Row]:
    from portaladmin.promote.diff import MISSING

    one, other = _flat(source), _flat(target)
    rows = [Row("exists", source["exists"], target["exists"])]
    rows += [Row(k, one.get(k, MISSING), other.get(k, MISSING)) for k in [*one, *[k for k in other if k not in one]]]
    return rows


# A page promote's steps, in order (one job item each, per target). Code editor pages have no publication.
PAGE_PARTS = ("page", "access", "publication")
PAGE_PART_LABELS = {"page": "Page", "access": "Access rules", "publication": "Publication"}


def page_parts(kind: str) -> list[str]:
    return [p for p in PAGE_PARTS if kind == STUDIO or p != "publication"]


@dataclass
class PageResult:
    calls: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    target_exists: bool = True  # the target had the page before (else the 'Page' step creates it)


class PageMissing(Exception):
    """A later step found no page on the target (the 'Page' step creates it)."""


def page_promote(*, kind: str, slug: str, source_client, target_client, parts=None, dry_run: bool = False,
                 wrote: bool = False, source: dict | None = None) -> PageResult:
    """Make the target's page like the source's for `parts` (all by default), sending only what differs: the
    dry run (`dry_run`: list the calls, send none) and each step of the `promote.page` job (one part at a time,
    audited by the engine as one item). PortalErrors are raised at the first refused call; what was sent before
    stays. `wrote`: an earlier step changed the target (a studio page is then published again). `source`: the
    source's snapshot when the caller has just read it (a dry run for several targets reads it once)."""
    result = PageResult()
    parts = [p for p in (parts or PAGE_PARTS) if p in page_parts(kind)]
    source = source if source is not None else page_snapshot(source_client, kind, slug)
    dest = page_snapshot(target_client, kind, slug)
    if not source["exists"]:
        raise ValueError("The page does not exist on the source.")
    result.target_exists = dest["exists"]

    def call(line: str, fn, *args, **kwargs):
        result.calls.append(line)
        if dry_run:
            return SimpleNamespace(slug=slug, uid="{new page}")
        return fn(*args, **kwargs)

    f, key = source["fields"], dest.get("key")
    if "page" in parts:
        key = _promote_fields(kind, slug, f, dest, target_client, call) or key
    if not key and not dry_run and set(parts) - {"page"}:
        raise PageMissing("The page does not exist on this portal (the 'Page' step creates it).")
    key = key or "{new page}"
    if "access" in parts:
        _promote_rules(kind, key, source, dest, target_client, call, result)
    if "publication" in parts and f.get("published") and (
            not dest["fields"].get("published") or wrote or result.calls):
        call(f"POST /studio_pages/{key}/publish/ — publish", target_client.studio_page_publish, key)
    return result


def _promote_fields(kind, slug, f, dest, client, call) -> str:
    """Create or update the page itself; returns the created page's key ('' when it existed)."""
    if kind == CODE:
        body = {"slug": slug, **{k: v for k, v in f.items() if v is not None}}
        if not dest["exists"]:
            return call(f"POST /code_editor_pages/ — create {slug}", client.code_page_create, body).slug
        if canonical(f) != canonical(dest["fields"]):
            call(f"PUT /code_editor_pages/{slug}/ — update", client.code_page_update, slug, body)
        return ""
    body = {"slug": slug, "title": f.get("title") or slug, "description": f.get("description") or "",
            "public": bool(f.get("public"))}
    if not dest["exists"]:
        return call(f"POST /studio_pages/ — create {slug}", client.studio_page_create, body).uid
    if any(canonical(f.get(k)) != canonical(dest["fields"].get(k)) for k in ("title", "description", "public")):
        call(f"PUT /studio_pages/{dest['key']}/ — update", client.studio_page_update, dest["key"], body)
    return ""


def _promote_rules(kind, key, source, dest, client, call, result) -> None:
    prefix = "studio_page" if kind == STUDIO else "code_page"
    known = known_usernames(client, list(source["users"]))
    groups = groups_by_title(client) if source["groups"] or dest["groups"] else {}
    for noun, rules, present in (("user", source["users"], dest["users"]), ("group", source["groups"],
                                                                             dest["groups"])):
        for name, perms in rules.items():
            principal = (name if name in known else None) if noun == "user" else groups.get(name)
            if principal is None:
                result.unknown.append(f"{noun} {name}")
                continue
            if name not in present:
                create = getattr(client, f"{prefix}_{noun}_ruleset_create")
                kw = {"username": principal} if noun == "user" else {"group_uid": principal}
                call(f"POST …/security/{noun}s/ — grant {noun} {name}", create, key, permissions=perms, **kw)
            elif sorted(present[name]) != sorted(perms):
                call(f"PUT …/security/{noun}s/{principal}/ — change {noun} {name}",
                     getattr(client, f"{prefix}_{noun}_ruleset_update"), key, principal, permissions=perms)
        for name in present:
            if name not in rules:
                principal = name if noun == "user" else dest["refs"]["groups"].get(name, name)
                call(f"DELETE …/security/{noun}s/{principal}/ — remove {noun} {name}",
                     getattr(client, f"{prefix}_{noun}_ruleset_delete"), key, principal)
