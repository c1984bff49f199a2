"""Writes on users and groups, and the bulk flows (invite, batch add): preview → draft → one job.

Every remote write goes through `audit_remote_write` (inside jobs the engine audits each row with the job id).
Permission checks live in the views (connection_view) and, for jobs, in jobs.services.job_create and the worker.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from portaladmin.audit.services import audit_remote_write
from portaladmin.jobs.models import Job
from portaladmin.jobs.services import job_create
from portaladmin.people import rows as rowlib
from portaladmin.people.models import DraftKind, RowsDraft
from portaladmin.people.selectors import group_all
from portaladmin.portals.client import client_for
from portaladmin.portals.client.schemas import Group, ItemResult, User
from portaladmin.portals.models import Connection, Role
from portaladmin.portals.permissions import has_role

DRAFT_TTL = timedelta(days=2)
USER_WRITABLE = ("email", "first_name", "last_name", "permissions", "explore_limits")


# --- users -----------------------------------------------------------------------------------------------

def _user_body(user: User, **changes) -> dict:
    """A PUT body: the user's writable fields as the portal has them, with `changes` applied."""
    body = {key: user.raw[key] for key in USER_WRITABLE if key in user.raw}
    body.setdefault("email", user.email)
    body.update(changes)
    return body


def user_permissions_update(*, connection: Connection, actor, username: str, permissions: list[str],
                            request=None) -> User:
    client = client_for(connection)
    user = client.user_get(username)
    with audit_remote_write(action="user.permissions_update", actor=actor, connection=connection, target=username,
                            request=request, extra={"permissions": sorted(permissions)}):
        return client.user_update(username, _user_body(user, permissions=list(permissions)))


def user_limits_update(*, connection: Connection, actor, username: str, api_calls_limit: int | None,
                       api_calls_unit: str = "day", request=None) -> User:
    """Explore limits: an API-call quota per unit of time, or none (empty limit)."""
    client = client_for(connection)
    user = client.user_get(username)
    limits = {} if api_calls_limit is None else {"api_calls": {"limit": api_calls_limit, "unit": api_calls_unit}}
    with audit_remote_write(action="user.limits_update", actor=actor, connection=connection, target=username,
                            request=request, extra={"explore_limits": limits}):
        return client.user_update(username, _user_body(user, explore_limits=limits))


def user_remove(*, connection: Connection, actor, username: str, request=None) -> None:
    """Remove the user from the domain. The portal refuses for the last domain administrator (its message)."""
    with audit_remote_write(action="user.delete", actor=actor, connection=connection, target=username,
                            request=request):
        client_for(connection).user_delete(username)


def user_provision(*, connection: Connection, actor, body: dict, request=None) -> ItemResult:
    """Create one account through an identity provider. Returns the portal's answer for the row."""
    target = body.get("email") or body.get("username") or ""
    with audit_remote_write(action="user.provision", actor=actor, connection=connection, target=target,
                            request=request, extra={"identity_provider": body.get("identity_provider", {})}):
        results = client_for(connection).user_provision(body)
    result = results[0] if results else ItemResult(ok=False, message="The portal's answer was empty.")
    return result


# --- groups ----------------------------------------------------------------------------------------------

def group_create(*, connection: Connection, actor, title: str, description: str = "",
                 permissions: list[str] | None = None, request=None) -> Group:
    with audit_remote_write(action="group.create", actor=actor, connection=connection, target=title,
                            request=request):
        return client_for(connection).group_create(title=title, description=description,
                                                   permissions=list(permissions or []))


def group_update(*, connection: Connection, actor, group_uid: str, title: str, description: str = "",
                 permissions: list[str] | None = None, request=None) -> Group:
    client = client_for(connection)
    group = client.group_get(group_uid)
    body = {key: group.raw[key] for key in ("title", "description", "permissions", "explore_limits")
            if key in group.raw}
    body.update({"title": title, "description": description, "permissions": list(permissions or [])})
    with audit_remote_write(action="group.update", actor=actor, connection=connection, target=group_uid,
                            request=request):
        return client.group_update(group_uid, body)


def group_delete(*, connection: Connection, actor, group_uid: str, request=None) -> None:
    with audit_remote_write(action="group.delete", actor=actor, connection=connection, target=group_uid,
                            request=request):
        client_for(connection).group_delete(group_uid)


def group_member_add(*, connection: Connection, actor, group_uid: str, username: str, request=None) -> User:
    with audit_remote_write(action="group.member_add", actor=actor, connection=connection,
                            target=f"{group_uid}:{username}", request=request):
        return client_for(connection).group_member_add(group_uid, username)


def group_member_remove(*, connection: Connection, actor, group_uid: str, username: str, request=None) -> None:
    with audit_remote_write(action="group.member_remove", actor=actor, connection=connection,
                            target=f"{group_uid}:{username}", request=request):
        client_for(connection).group_member_remove(group_uid, username)


# --- bulk invite -----------------------------------------------------------------------------------------

def _require_operator(actor, connections: list[Connection]) -> None:
    for conn in connections:
        if not has_role(actor, conn, Role.OPERATOR):
            raise PermissionDenied(f"Inviting needs the operator role on {conn.name}.")


def _cleanup_drafts() -> None:
    RowsDraft.objects.filter(created_at__lt=timezone.now() - DRAFT_TTL).delete()


def invite_preview(*, actor, connection: Connection, connections: list[Connection], text: str | None = None,
                   data: bytes | None = None) -> RowsDraft:
    """Parse and validate the list (nothing is sent) and keep the result as a draft to confirm.

    Raises rows.InputError when the input as a whole cannot be read, PermissionDenied without the operator role
    on a target connection, PortalError when a portal's group list cannot be read.
    """
    targets = [connection] + [c for c in connections if c.pk != connection.pk]
    _require_operator(actor, targets)
    known = {conn.name: rowlib.group_index(group_all(connection=conn)) for conn in targets}
    if data is not None:
        result = rowlib.parse_upload(data, known_groups=known)
    else:
        result = rowlib.parse_text(text or "", known_groups=known)
    valid = [{"line": r.line, "target": r.email, "label": " ".join(p for p in (r.first_name, r.last_name) if p),
              "payload": r.payload} for r in result.valid_rows]
    rejected = [{"line": r.line, "value": r.email, "errors": r.errors} for r in result.rejected_rows]
    _cleanup_drafts()
    with transaction.atomic():
        draft = RowsDraft.objects.create(kind=DraftKind.INVITE, created_by=actor, connection=connection,
                                         source=result.source, rows=valid, rejected=rejected,
                                         skipped_lines=result.skipped_lines)
        draft.connections.set(targets)
    return draft


def draft_start(*, actor, draft: RowsDraft, request=None) -> Job:
    """Confirm a preview: ONE job whose items are the draft's valid rows on each of its connections.

    Confirming twice (double click, two tabs) returns the same job.
    """
    with transaction.atomic():
        draft = RowsDraft.objects.select_for_update().get(pk=draft.pk)
        if draft.job_id:
            return draft.job
        if not draft.rows:
            raise ValueError("There is no valid row to send.")
        connections = list(draft.connections.all())
        _require_operator(actor, connections)
        items = [{"target": r["target"], "label": r.get("label", ""), "payload": r["payload"]} for r in draft.rows]
        if draft.kind == DraftKind.INVITE:
            job = job_create(kind="user.invite", actor=actor, targets={conn: items for conn in connections},
                             params={"rows": len(items), "rejected": len(draft.rejected), "source": draft.source},
                             request=request)
        else:
            job = job_create(kind="group.batch_add", actor=actor, targets={draft.connection: items},
                             params={"group_uid": draft.group_uid, "rows": len(items),
                                     "rejected": len(draft.rejected)},
                             title=f"Add {len(items)} user(s) to the group {draft.group_uid}", request=request)
        draft.job = job
        draft.save(update_fields=["job"])
    return job


# --- batch add to a group --------------------------------------------------------------------------------

def batch_add_preview(*, actor, connection: Connection, group_uid: str, text: str) -> RowsDraft:
    """Usernames or e-mails, one per line: each must be a user of the portal and not yet in the group."""
    _require_operator(actor, [connection])
    client_for(connection).group_get(group_uid)  # 404 for an unknown group
    by_name: dict[str, User] = {}
    by_email: dict[str, User] = {}
    for user in client_for(connection).user_iter(page_size=1000):
        by_name[user.username.lower()] = user
        if user.email:
            by_email.setdefault(user.email.lower(), user)
    valid, rejected, seen = [], [], {}
    skipped = 0
    lines = text.splitlines()
    if len(lines) > rowlib.MAX_ROWS:
        raise rowlib.InputError(f"Too many rows: at most {rowlib.MAX_ROWS:,} at once.")
    for number, line in enumerate(lines, start=1):
        value = line.strip().strip(",;").strip()
        if not value:
            skipped += 1
            continue
        user = by_email.get(value.lower()) if "@" in value else by_name.get(value.lower())
        errors = []
        if user is None:
            errors.append(f"No user “{value}” on {connection.name}.")
        elif user.username.lower() in seen:
            errors.append(f"Same user as line {seen[user.username.lower()]}.")
        elif any(g.get("uid") == group_uid for g in user.groups):
            errors.append("Already a member of this group.")
        if errors:
            rejected.append({"line": number, "value": value, "errors": errors})
            continue
        seen[user.username.lower()] = number
        valid.append({"line": number, "target": user.username, "label": user.email,
                      "payload": {"group_uid": group_uid}})
    _cleanup_drafts()
    with transaction.atomic():
        draft = RowsDraft.objects.create(kind=DraftKind.BATCH_ADD, created_by=actor, connection=connection,
                                         group_uid=group_uid, source="usernames", rows=valid, rejected=rejected,
                                         skipped_lines=skipped)
        draft.connections.set([connection])
    return draft


def draft_get(*, actor, draft_id, kind: str) -> RowsDraft:
    return RowsDraft.objects.get(pk=draft_id, created_by=actor, kind=kind)
