"""Writes to studio pages and code editor pages. Every remote write is audited (success or failure).

Input is validated by the forms before anything is sent, so a write either happens whole or not at all.
"""

from __future__ import annotations

from portaladmin.audit.services import audit_record, audit_remote_write
from portaladmin.pages.content import wire_content, wire_title
from portaladmin.pages.selectors import CODE, STUDIO
from portaladmin.portals.client import client_for
from portaladmin.portals.client.errors import PortalError, PortalNotFound
from portaladmin.portals.client.schemas import CodePage, StudioPage
from portaladmin.portals.models import Connection

# ------------------------------------------------------------------------------------------ studio pages


def studio_page_create(*, connection: Connection, actor, slug: str, public: bool, request=None) -> StudioPage:
    with audit_remote_write(action="studio_page.create", actor=actor, connection=connection, target=slug,
                            request=request, extra={"public": public}):
        return client_for(connection).studio_page_create({"slug": slug, "public": public})


def studio_page_update(*, connection: Connection, actor, uid: str, slug: str, public: bool,
                       request=None) -> StudioPage:
    with audit_remote_write(action="studio_page.update", actor=actor, connection=connection, target=uid,
                            request=request, extra={"slug": slug, "public": public}):
        return client_for(connection).studio_page_update(uid, {"slug": slug, "public": public})


def studio_page_delete(*, connection: Connection, actor, uid: str, request=None) -> None:
    with audit_remote_write(action="studio_page.delete", actor=actor, connection=connection, target=uid,
                            request=request):
        client_for(connection).studio_page_delete(uid)


def studio_page_publish(*, connection: Connection, actor, uid: str, request=None) -> None:
    with audit_remote_write(action="studio_page.publish", actor=actor, connection=connection, target=uid,
                            request=request):
        client_for(connection).studio_page_publish(uid)


def studio_page_unpublish(*, connection: Connection, actor, uid: str, request=None) -> None:
    with audit_remote_write(action="studio_page.unpublish", actor=actor, connection=connection, target=uid,
                            request=request):
        client_for(connection).studio_page_unpublish(uid)


# ------------------------------------------------------------------------------------------ code editor pages


def code_page_body(*, slug: str, languages: list[dict[str, str]], description: str = "", template: str = "",
                   tags: list[str] | None = None, is_restricted: bool = False) -> dict:
    """The JSON the portal expects (CodeEditorPage); an empty template is left for the portal to default."""
    body = {"slug": slug, "title": wire_title(languages), "description": description,
            "content": wire_content(languages), "tags": list(tags or []), "is_restricted": is_restricted}
    if template:
        body["template"] = template
    return body


def code_page_create(*, connection: Connection, actor, body: dict, request=None) -> CodePage:
    with audit_remote_write(action="code_page.create", actor=actor, connection=connection,
                            target=body.get("slug", ""), request=request):
        return client_for(connection).code_page_create(body)


def code_page_update(*, connection: Connection, actor, slug: str, body: dict, request=None) -> CodePage:
    extra = {"new_slug": body["slug"]} if body.get("slug") and body["slug"] != slug else None
    with audit_remote_write(action="code_page.update", actor=actor, connection=connection, target=slug,
                            request=request, extra=extra):
        return client_for(connection).code_page_update(slug, body)


def code_page_save(*, connection: Connection, actor, slug: str | None, body: dict, request=None) -> CodePage:
    """Create the page (slug None) or replace page `slug`; the answer's slug falls back to the one sent."""
    if slug is None:
        page = code_page_create(connection=connection, actor=actor, body=body, request=request)
    else:
        page = code_page_update(connection=connection, actor=actor, slug=slug, body=body, request=request)
    page.slug = page.slug or body["slug"]
    return page


def code_page_archive(*, connection: Connection, actor, slug: str, request=None) -> None:
    with audit_remote_write(action="code_page.archive", actor=actor, connection=connection, target=slug,
                            request=request):
        client_for(connection).code_page_archive(slug)


def code_page_unarchive(*, connection: Connection, actor, slug: str, request=None) -> None:
    with audit_remote_write(action="code_page.unarchive", actor=actor, connection=connection, target=slug,
                            request=request):
        client_for(connection).code_page_unarchive(slug)


def code_page_delete(*, connection: Connection, actor, slug: str, request=None) -> None:
    with audit_remote_write(action="code_page.delete", actor=actor, connection=connection, target=slug,
                            request=request):
        client_for(connection).code_page_delete(slug)


def code_page_bulk_delete(*, connection: Connection, actor, slugs: list[str], request=None) -> list[str]:
    """One DELETE with every slug; returns the slugs the portal says it deleted (maybe fewer than asked)."""
    slugs = list(dict.fromkeys(s for s in slugs if s))
    target = ", ".join(slugs)
    try:
        deleted = client_for(connection).code_page_bulk_delete(slugs=slugs)
    except PortalError as exc:
        audit_record(action="code_page.bulk_delete", actor=actor, connection=connection, target=target,
                     error=exc, request=request, extra={"requested": slugs})
        raise
    missed = [s for s in slugs if s not in deleted]
    audit_record(action="code_page.bulk_delete", actor=actor, connection=connection, target=target,
                 request=request, extra={"requested": slugs, "deleted": deleted, "not_deleted": missed})
    return deleted


# ------------------------------------------------------------------------------------------ rulesets (both kinds)


def page_ruleset_save(*, connection: Connection, actor, kind: str, key: str, target_kind: str, target: str,
                      permissions: list[str], request=None) -> None:
    """Create the user/group ruleset, or replace its permissions when the target already has one."""
    client, prefix = client_for(connection), _prefix(kind, target_kind)
    ident = "username" if target_kind == "user" else "group_uid"
    try:
        getattr(client, f"{prefix}_get")(key, target)
        exists = True
    except PortalNotFound:
        exists = False
    with audit_remote_write(action=f"{kind}_page.ruleset_save", actor=actor, connection=connection,
                            target=f"{key} {target_kind}:{target}", request=request,
                            extra={"permissions": permissions, "replaced": exists}):
        if exists:
            getattr(client, f"{prefix}_update")(key, target, permissions=permissions)
        else:
            getattr(client, f"{prefix}_create")(key, **{ident: target}, permissions=permissions)


def page_ruleset_delete(*, connection: Connection, actor, kind: str, key: str, target_kind: str, target: str,
                        request=None) -> None:
    client, prefix = client_for(connection), _prefix(kind, target_kind)
    with audit_remote_write(action=f"{kind}_page.ruleset_delete", actor=actor, connection=connection,
                            target=f"{key} {target_kind}:{target}", request=request):
        getattr(client, f"{prefix}_delete")(key, target)


def _prefix(kind: str, target_kind: str) -> str:
    if kind not in (STUDIO, CODE) or target_kind not in ("user", "group"):
        raise ValueError(f"unknown ruleset {kind}/{target_kind}")
    return f"{'studio_page' if kind == STUDIO else 'code_page'}_{target_kind}_ruleset"
