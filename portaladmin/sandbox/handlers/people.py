"""Users and groups."""

import csv
import hashlib
import io
import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpResponse
from django.utils.text import slugify

from .. import clock
from ..api import ApiError, Ctx, deleted, invalid, paginate_list, route
from ..models import SandboxObject, SandboxPortal
from ..store import STR_LIST, check_types, obj_create, obj_get, objects, require_fields
from .common import public

PERMISSIONS = ("edit_domain", "create_page", "edit_page", "manage_page", "explore_restricted_page", "create_dataset",
               "edit_dataset", "publish_dataset", "manage_dataset", "explore_restricted_dataset", "edit_reuse",
               "manage_subdomains", "explore_monitoring", "edit_theme", "edit_form", "submit_private_form")
USER_SORTS = ("username", "first_name", "last_name", "last_seen_at")
LAST_ADMIN = "The removal of the only domain administrator is not allowed."


def user_data(username: str, email: str, *, first_name: str = "", last_name: str = "", permissions=(),
              at=None, active: bool = True) -> dict:
    stamp = clock.iso(at or clock.now())
    digest = hashlib.md5(email.lower().encode(), usedforsecurity=False).hexdigest()
    return {"username": username, "display_name": username, "first_name": first_name, "last_name": last_name,
            "is_active": active, "email": email, "is_ods": False, "account_type": "local",
            "permissions": list(permissions), "joined_at": stamp, "last_seen_at": stamp, "last_login_at": stamp,
            "expires_at": None, "explore_limits": {}, "management_limits": {},
            "gravatar_url": f"//www.gravatar.com/avatar/{digest}?d=mm&s=80",
            "identity_providers": [{"uid": "opendatasoft"}]}


def _memberships(portal: SandboxPortal) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for parent, key in SandboxObject.objects.filter(portal=portal, kind="member").values_list("parent", "key"):
        groups.setdefault(key, []).append(parent)
    return groups


def user_json(data: dict, groups: list[str]) -> dict:
    return {**public(data), "groups": [{"uid": g} for g in groups]}


def _group_permissions(portal: SandboxPortal) -> dict[str, set[str]]:
    return {o.key: set(o.data.get("permissions", [])) for o in objects(portal, "group")}


def _check_permissions(values: list[str], name: str) -> None:
    bad = [v for v in values if v.lstrip("-") not in PERMISSIONS]
    if bad:
        raise invalid({name: [f"\"{bad[0]}\" is not a valid choice."]})


@route("GET", "/users/")
def user_list(ctx: Ctx):
    users = [o.data for o in objects(ctx.portal, "user")]
    memberships = _memberships(ctx.portal)
    search = (ctx.param("search") or "").lower()
    if search:
        users = [u for u in users if any(search in (u.get(f) or "").lower()
                                         for f in ("username", "first_name", "last_name", "email"))]
    direct = ctx.params("permissions")
    _check_permissions(direct, "permissions")
    if direct:
        users = [u for u in users if set(direct) <= set(u.get("permissions", []))]
    effective = ctx.params("all_permissions")
    _check_permissions(effective, "all_permissions")
    if effective:
        group_perms = _group_permissions(ctx.portal)

        def all_of(u):
            perms = set(u.get("permissions", []))
            for g in memberships.get(u["username"], []):
                perms |= group_perms.get(g, set())
            return set(effective) <= perms
        users = [u for u in users if all_of(u)]
    sorts = ctx.params("sort")
    for key in reversed(sorts):
        if key.lstrip("-") not in USER_SORTS:
            raise invalid({"sort": [f"\"{key}\" is not a valid choice."]})
        name = key.lstrip("-")
        users.sort(key=lambda u, k=name: (u.get(k) or "").lower(), reverse=key.startswith("-"))
    return paginate_list(ctx, users, lambda u: user_json(u, memberships.get(u["username"], [])))


def _user_groups(portal, username) -> list[str]:
    return list(SandboxObject.objects.filter(portal=portal, kind="member", key=username)
                .values_list("parent", flat=True))


@route("GET", "/users/{username}/")
def user_get(ctx: Ctx, username):
    obj = obj_get(ctx.portal, "user", username)
    return 200, user_json(obj.data, _user_groups(ctx.portal, username))


def _admins(portal) -> list[str]:
    return [o.key for o in objects(portal, "user") if "edit_domain" in o.data.get("permissions", [])]


def _refuse_last_admin() -> ApiError:
    return ApiError(400, "validation_error", LAST_ADMIN, {"non_field_errors": [LAST_ADMIN]})


@route("PUT", "/users/{username}/")
def user_put(ctx: Ctx, username):
    obj = obj_get(ctx.portal, "user", username)
    body = ctx.json()
    check_types(body, {"first_name": str, "last_name": str, "email": str, "permissions": STR_LIST})
    changes = {k: body[k] for k in ("first_name", "last_name", "email", "permissions") if k in body}
    if "permissions" in changes:
        if not isinstance(changes["permissions"], list):
            raise invalid({"permissions": ["Expected a list of items."]})
        _check_permissions(changes["permissions"], "permissions")
        if "edit_domain" not in changes["permissions"] and _admins(ctx.portal) == [username]:
            raise _refuse_last_admin()
    if "email" in changes:
        try:
            validate_email(changes["email"])
        except ValidationError:
            raise invalid({"email": ["Enter a valid email address."]}) from None
    obj.data = {**obj.data, **changes}
    obj.save(update_fields=["data"])
    return 200, user_json(obj.data, _user_groups(ctx.portal, username))


@route("DELETE", "/users/{username}/")
def user_delete(ctx: Ctx, username):
    obj = obj_get(ctx.portal, "user", username)
    if _admins(ctx.portal) == [username]:
        raise _refuse_last_admin()
    SandboxObject.objects.filter(portal=ctx.portal, kind="member", key=username).delete()
    obj.delete()
    return deleted()


@route("GET", "/users/export/")
def user_export(ctx: Ctx):
    delimiter = (ctx.param("delimiter") or ",")[:1]
    memberships = _memberships(ctx.portal)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    columns = ["username", "email", "first_name", "last_name", "permissions", "groups", "joined_at", "last_seen_at"]
    writer.writerow(columns)
    for o in objects(ctx.portal, "user"):
        d = o.data
        writer.writerow([d["username"], d["email"], d.get("first_name", ""), d.get("last_name", ""),
                         " ".join(d.get("permissions", [])), " ".join(memberships.get(d["username"], [])),
                         d.get("joined_at", ""), d.get("last_seen_at", "")])
    resp = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = 'attachment; filename="users.csv"'
    return resp


def _free_username(portal, email: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9._-]", "", email.split("@")[0].lower()) or "user"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    taken.add(name)
    return name


def _item_error(code: str, message: str, detail: dict | None = None) -> dict:
    error = {"error_code": code, "message": message}
    if detail:
        error["detail"] = detail
    return {"status_code": "error", "error": error}


def _add_users(ctx: Ctx, items: list, *, active: bool) -> dict:
    existing = {o.data.get("email", "").lower(): o.key for o in objects(ctx.portal, "user")}
    taken = set(existing.values())
    results = {}
    for position, item in enumerate(items):
        email = item.get("email") if isinstance(item, dict) else None
        if isinstance(item, dict) and email is not None:
            try:
                check_types(item, {"email": str, "username": str, "first_name": str, "last_name": str,
                                   "permissions": STR_LIST})
            except ApiError as exc:
                results[str(position)] = _item_error(exc.error_code, "Invalid values for this user.", exc.detail)
                continue
        if not email:
            results[str(position)] = _item_error("validation_error", "An e-mail address is required.",
                                                 {"email": ["This field is required."]})
            continue
        try:
            validate_email(email)
        except ValidationError:
            results[str(position)] = _item_error("validation_error", f"'{email}' is not a valid e-mail address.",
                                                 {"email": ["Enter a valid email address."]})
            continue
        if email.lower() in existing:
            results[str(position)] = _item_error(
                "already_member", f"The user with the e-mail address '{email}' is already a member of this domain.")
            continue
        permissions = [p for p in item.get("permissions", []) if p in PERMISSIONS]
        username = item.get("username") if item.get("username") and item["username"] not in taken else None
        username = username or _free_username(ctx.portal, email, taken)
        taken.add(username)
        data = user_data(username, email, first_name=item.get("first_name", ""),
                         last_name=item.get("last_name", ""), permissions=permissions, at=ctx.now, active=active)
        obj_create(ctx.portal, "user", username, data)
        existing[email.lower()] = username
        results[str(position)] = {"status_code": "success", "data": user_json(data, [])}
    return results


@route("POST", "/users/invite/")
def user_invite(ctx: Ctx):
    return 200, _add_users(ctx, ctx.json(list), active=False)


@route("POST", "/users/provision/")
def user_provision(ctx: Ctx):
    body = ctx.json(object)
    items = body if isinstance(body, list) else [body]
    for item in items:
        if not isinstance(item, dict) or not (item.get("identity_provider") or {}).get("uid"):
            raise invalid({"identity_provider": ["This field is required."]})
    return 200, _add_users(ctx, items, active=True)


# ---------------------------------------------------------------- groups

def group_json(portal, data: dict, counts: dict[str, int] | None = None) -> dict:
    if counts is None:
        count = SandboxObject.objects.filter(portal=portal, kind="member", parent=data["uid"]).count()
    else:
        count = counts.get(data["uid"], 0)
    return {**public(data), "user_count": count}


def group_data(uid: str, title: str, *, description: str = "", permissions=(), at=None, by="sandbox-admin"):
    stamp = clock.iso(at or clock.now())
    return {"uid": uid, "title": title, "description": description, "permissions": list(permissions),
            "explore_limits": {}, "management_limits": {}, "created_at": stamp, "updated_at": stamp,
            "created_by": {"username": by}, "updated_by": {"username": by}}


@route("GET", "/groups/")
def group_list(ctx: Ctx):
    groups = [o.data for o in objects(ctx.portal, "group")]
    search = (ctx.param("search") or "").lower()
    if search:
        groups = [g for g in groups if search in g["title"].lower() or search in g["uid"].lower()
                  or search in (g.get("description") or "").lower()]
    wanted = ctx.params("permissions")
    _check_permissions(wanted, "permissions")
    if wanted:
        groups = [g for g in groups if set(wanted) <= set(g.get("permissions", []))]
    counts: dict[str, int] = {}
    for parent in SandboxObject.objects.filter(portal=ctx.portal, kind="member").values_list("parent", flat=True):
        counts[parent] = counts.get(parent, 0) + 1
    # The spec's sort choices (GET /groups/ `sort` enum), plus uid/title which older clients send.
    sort_keys = {
        "created_at": lambda g: g.get("created_at") or "", "updated_at": lambda g: g.get("updated_at") or "",
        "created_by__username": lambda g: (g.get("created_by") or {}).get("username") or "",
        "updated_by__username": lambda g: (g.get("updated_by") or {}).get("username") or "",
        "user_count": lambda g: counts.get(g["uid"], 0),
        "group__title": lambda g: (g.get("title") or "").lower(), "title": lambda g: (g.get("title") or "").lower(),
        "uid": lambda g: g["uid"],
    }
    for key in reversed(ctx.params("sort")):
        name = key.lstrip("-")
        if name not in sort_keys:
            raise invalid({"sort": [f"\"{key}\" is not a valid choice."]})
        groups.sort(key=sort_keys[name], reverse=key.startswith("-"))
    return paginate_list(ctx, groups, lambda g: group_json(ctx.portal, g, counts))


def _validate_group(body: dict) -> None:
    require_fields(body, ("title",))
    check_types(body, {"uid": str, "title": str, "description": str, "permissions": STR_LIST,
                       "explore_limits": dict})
    if "permissions" in body:
        if not isinstance(body["permissions"], list):
            raise invalid({"permissions": ["Expected a list of items."]})
        _check_permissions(body["permissions"], "permissions")


@route("POST", "/groups/")
def group_create(ctx: Ctx):
    body = ctx.json()
    _validate_group(body)
    uid = body.get("uid") or slugify(body["title"]).replace("-", "_") or "group"
    if objects(ctx.portal, "group").filter(key=uid).exists():
        raise invalid({"uid": ["A group with this identifier already exists."]})
    data = group_data(uid, body["title"], description=body.get("description", ""),
                      permissions=body.get("permissions", []), at=ctx.now, by=ctx.username)
    if isinstance(body.get("explore_limits"), dict):
        data["explore_limits"] = body["explore_limits"]
    obj_create(ctx.portal, "group", uid, data)
    return 201, group_json(ctx.portal, data, {})


@route("GET", "/groups/{group_uid}/")
def group_get(ctx: Ctx, group_uid):
    return 200, group_json(ctx.portal, obj_get(ctx.portal, "group", group_uid).data)


@route("PUT", "/groups/{group_uid}/")
def group_put(ctx: Ctx, group_uid):
    obj = obj_get(ctx.portal, "group", group_uid)
    body = {k: v for k, v in ctx.json().items() if k in ("title", "description", "permissions", "explore_limits")}
    merged = {**obj.data, **body, "updated_at": clock.iso(ctx.now), "updated_by": {"username": ctx.username}}
    _validate_group(merged)
    obj.data = merged
    obj.save(update_fields=["data"])
    return 200, group_json(ctx.portal, obj.data)


@route("DELETE", "/groups/{group_uid}/")
def group_delete(ctx: Ctx, group_uid):
    obj = obj_get(ctx.portal, "group", group_uid)
    SandboxObject.objects.filter(portal=ctx.portal, kind="member", parent=group_uid).delete()
    obj.delete()
    return deleted()


@route("GET", "/groups/{group_uid}/users/")
def group_members(ctx: Ctx, group_uid):
    obj_get(ctx.portal, "group", group_uid)
    names = list(objects(ctx.portal, "member", group_uid).values_list("key", flat=True))
    users = {o.key: o.data for o in SandboxObject.objects.filter(portal=ctx.portal, kind="user", key__in=names)}
    memberships = _memberships(ctx.portal)
    items = [users[n] for n in names if n in users]
    return paginate_list(ctx, items, lambda u: user_json(u, memberships.get(u["username"], [])))


def _add_member(ctx: Ctx, group_uid: str, item) -> dict:
    username = item.get("username") if isinstance(item, dict) else None
    if not isinstance(username, str) or not username:
        raise invalid({"username": ["This field is required."]})
    user = objects(ctx.portal, "user").filter(key=username).first()
    if user is None:
        message = f"User '{username}' does not exist on this domain."
        raise invalid({"username": [message]}, message)
    if objects(ctx.portal, "member", group_uid).filter(key=username).exists():
        message = f"User '{username}' is already a member of this group."
        raise invalid({"username": [message]}, message)
    obj_create(ctx.portal, "member", username, {}, parent=group_uid)
    return user_json(user.data, _user_groups(ctx.portal, username))


@route("POST", "/groups/{group_uid}/users/")
def group_member_add(ctx: Ctx, group_uid):
    obj_get(ctx.portal, "group", group_uid)
    return 201, _add_member(ctx, group_uid, ctx.json())


@route("POST", "/groups/{group_uid}/users/batch/")
def group_member_batch(ctx: Ctx, group_uid):
    obj_get(ctx.portal, "group", group_uid)
    results = {}
    for position, item in enumerate(ctx.json(list)):
        try:
            results[str(position)] = {"status_code": "success", "data": _add_member(ctx, group_uid, item)}
        except ApiError as exc:
            results[str(position)] = _item_error(exc.error_code, exc.message, exc.detail)
    return 200, results


@route("DELETE", "/groups/{group_uid}/users/{username}/")
def group_member_remove(ctx: Ctx, group_uid, username):
    obj_get(ctx.portal, "group", group_uid)
    obj_get(ctx.portal, "member", username, group_uid).delete()
    return deleted()
