"""Harvesters, studio and code editor pages, API keys, datasource connections, metadata templates, assets."""

import re
import secrets

from .. import clock
from ..api import Ctx, deleted, invalid, not_found, ok, paginate_list, route
from ..models import SandboxDataset, SandboxHarvester, hash_key
from ..status import (
    InvalidStatus,
    dataset_is_published,
    dataset_start,
    harvester_status,
    harvester_transition,
)
from ..store import STR_LIST, STR_MAP, check_types, new_uid, obj_create, obj_get, objects, require_fields
from .common import crud, public, validate_cron

HARVESTER_TYPES = ("arcgis", "arcgis_opendata", "ckan", "csw", "datagouv", "datajson", "ftp", "ftp_csv",
                   "ftp_with_meta_csv", "junar", "omi_node", "ods", "quandl", "socrata", "wfs")
HARVESTER_READONLY = ("uid", "status", "remote_datasets_count", "harvested_datasets_count", "published_datasets_count",
                      "attached_datasets_count", "has_error", "resource_errors_count", "created_at", "updated_at",
                      "updated_by", "last_started_at", "last_success_at")


# ---------------------------------------------------------------- harvesters

def _harvester(ctx: Ctx, uid: str, lock: bool = False) -> SandboxHarvester:
    qs = SandboxHarvester.objects.filter(portal=ctx.portal, uid=uid)
    hv = (qs.select_for_update() if lock else qs).first()
    if hv is None:
        raise not_found()
    return hv


def harvester_json(ctx: Ctx, hv: SandboxHarvester) -> dict:
    attached = list(SandboxDataset.objects.filter(portal=ctx.portal, harvester_uid=hv.uid))
    c = hv.counters
    return {**public(hv.data), "uid": hv.uid, "status": harvester_status(hv, ctx.now),
            "remote_datasets_count": c.get("remote", 0), "harvested_datasets_count": c.get("harvested", 0),
            "published_datasets_count": sum(1 for ds in attached if dataset_is_published(ds, ctx.now)),
            "attached_datasets_count": len(attached), "has_error": bool(c.get("has_error", False)),
            "resource_errors_count": c.get("resource_errors", 0),
            "last_started_at": clock.portal_iso(ctx.portal, c.get("last_started_at")),
            "last_success_at": clock.portal_iso(ctx.portal, c.get("last_success_at"))}


def _validate_harvester(body: dict) -> None:
    require_fields(body, ("type", "name"))
    check_types(body, {"type": str, "name": str, "url": str, "version": int, "restrict_datasets_visibility": bool,
                       "delete_missing_datasets": bool, "forced_metas": dict})
    if body["type"] not in HARVESTER_TYPES:
        raise invalid({"type": [f"\"{body['type']}\" is not a valid choice."]})


@route("GET", "/harvesters/")
def harvester_list(ctx: Ctx):
    return paginate_list(ctx, list(SandboxHarvester.objects.filter(portal=ctx.portal).order_by("id")),
                         lambda hv: harvester_json(ctx, hv))


@route("POST", "/harvesters/")
def harvester_create(ctx: Ctx):
    body = {k: v for k, v in ctx.json().items() if k not in HARVESTER_READONLY}
    _validate_harvester(body)
    stamp = clock.iso(ctx.now)
    uid = new_uid("ha")
    data = {"version": 1, "restrict_datasets_visibility": False, "delete_missing_datasets": False,
            "forced_metas": {}, **body, "created_at": stamp, "updated_at": stamp,
            "updated_by": {"username": ctx.username}}
    hv = SandboxHarvester.objects.create(portal=ctx.portal, uid=uid, data=data, status="new")
    return 201, harvester_json(ctx, hv)


@route("GET", "/harvesters/{harvester_uid}/")
def harvester_get(ctx: Ctx, harvester_uid):
    return 200, harvester_json(ctx, _harvester(ctx, harvester_uid))


@route("PUT", "/harvesters/{harvester_uid}/")
def harvester_put(ctx: Ctx, harvester_uid):
    hv = _harvester(ctx, harvester_uid, lock=True)
    body = {k: v for k, v in ctx.json().items() if k not in HARVESTER_READONLY}
    merged = {**hv.data, **body, "updated_at": clock.iso(ctx.now), "updated_by": {"username": ctx.username}}
    _validate_harvester(merged)
    hv.data = merged
    hv.save(update_fields=["data"])
    return 200, harvester_json(ctx, hv)


@route("DELETE", "/harvesters/{harvester_uid}/")
def harvester_delete(ctx: Ctx, harvester_uid):
    hv = _harvester(ctx, harvester_uid, lock=True)
    flag = ctx.param("delete_attached_datasets")
    if flag is None or flag.lower() not in ("true", "false", "1", "0"):
        raise invalid({"delete_attached_datasets": ["This query parameter is required (true or false)."]})
    attached = SandboxDataset.objects.filter(portal=ctx.portal, harvester_uid=hv.uid)
    if flag.lower() in ("true", "1"):
        attached.delete()
    else:
        attached.update(harvester_uid="")
    objects(ctx.portal, "hv_schedule", hv.uid).delete()
    hv.delete()
    return deleted()


def _transition(action):
    def handler(ctx: Ctx, harvester_uid):
        hv = _harvester(ctx, harvester_uid, lock=True)
        harvester_transition(ctx.portal, hv, action, ctx.now)
        hv.save()
        return 200, harvester_json(ctx, hv)
    return handler


route("POST", "/harvesters/{harvester_uid}/start/")(_transition("start"))
route("POST", "/harvesters/{harvester_uid}/abort/")(_transition("abort"))


def _each_attached(op):
    def handler(ctx: Ctx, harvester_uid):
        hv = _harvester(ctx, harvester_uid)
        for ds in SandboxDataset.objects.filter(portal=ctx.portal, harvester_uid=hv.uid).select_for_update():
            try:
                dataset_start(ctx.portal, ds, op, ctx.now)
            except InvalidStatus:
                continue  # busy datasets are left alone, like the real bulk action
            ds.save()
        return ok()
    return handler


route("POST", "/harvesters/{harvester_uid}/publish/")(_each_attached("publish"))
route("POST", "/harvesters/{harvester_uid}/unpublish/")(_each_attached("unpublish"))


@route("GET", "/harvesters/{harvester_uid}/errors/")
def harvester_errors(ctx: Ctx, harvester_uid):
    hv = _harvester(ctx, harvester_uid)
    return 200, {"harvester": hv.errors.get("harvester"), "resources": hv.errors.get("resources", {})}


def preview(hv: SandboxHarvester, config: dict) -> dict:
    name = config.get("name") or hv.uid
    results = [{"id": f"{hv.uid}-{n + 1}", "title": f"{name} — remote dataset {n + 1}",
                "description": f"Dataset {n + 1} found on the remote catalogue."} for n in range(hv.remote_count)]
    return {"total_count": len(results), "results": results}


@route("GET", "/harvesters/{harvester_uid}/preview/")
def harvester_preview(ctx: Ctx, harvester_uid):
    hv = _harvester(ctx, harvester_uid)
    return 200, preview(hv, hv.data)


@route("POST", "/harvesters/{harvester_uid}/unsaved_preview/")
def harvester_unsaved_preview(ctx: Ctx, harvester_uid):
    hv = _harvester(ctx, harvester_uid)
    config = {**hv.data, **{k: v for k, v in ctx.json().items() if k not in HARVESTER_READONLY}}
    _validate_harvester(config)
    return 200, preview(hv, config)


@route("GET", "/harvesters/{harvester_uid}/schedules/")
def hv_schedule_list(ctx: Ctx, harvester_uid):
    hv = _harvester(ctx, harvester_uid)
    return paginate_list(ctx, [o.data for o in objects(ctx.portal, "hv_schedule", hv.uid)])


def _validate_hv_schedule(body):
    validate_cron(body)
    check_types(body, {"timezone": str})
    if not isinstance(body.get("timezone", "UTC"), str) or not body.get("timezone", "UTC"):
        raise invalid({"timezone": ["This field may not be blank."]})


@route("POST", "/harvesters/{harvester_uid}/schedules/")
def hv_schedule_create(ctx: Ctx, harvester_uid):
    hv = _harvester(ctx, harvester_uid)
    body = ctx.json()
    _validate_hv_schedule(body)
    if objects(ctx.portal, "hv_schedule", hv.uid).exists():
        raise invalid({"non_field_errors": ["A harvester can only have one schedule."]},
                      "A harvester can only have one schedule.")
    uid = new_uid("sc")
    data = {"uid": uid, "cron_schedule": body["cron_schedule"], "timezone": body.get("timezone") or "UTC"}
    obj_create(ctx.portal, "hv_schedule", uid, data, parent=hv.uid)
    return 201, data


@route("GET", "/harvesters/{harvester_uid}/schedules/{schedule_uid}/")
def hv_schedule_get(ctx: Ctx, harvester_uid, schedule_uid):
    return 200, obj_get(ctx.portal, "hv_schedule", schedule_uid, _harvester(ctx, harvester_uid).uid).data


@route("PUT", "/harvesters/{harvester_uid}/schedules/{schedule_uid}/")
def hv_schedule_put(ctx: Ctx, harvester_uid, schedule_uid):
    obj = obj_get(ctx.portal, "hv_schedule", schedule_uid, _harvester(ctx, harvester_uid).uid)
    body = ctx.json()
    merged = {**obj.data, **{k: body[k] for k in ("cron_schedule", "timezone") if k in body}}
    _validate_hv_schedule(merged)
    obj.data = merged
    obj.save(update_fields=["data"])
    return 200, obj.data


@route("DELETE", "/harvesters/{harvester_uid}/schedules/{schedule_uid}/")
def hv_schedule_delete(ctx: Ctx, harvester_uid, schedule_uid):
    obj_get(ctx.portal, "hv_schedule", schedule_uid, _harvester(ctx, harvester_uid).uid).delete()
    return deleted()


# ---------------------------------------------------------------- studio pages

def studio_page_data(uid: str, slug: str, title: str, *, description: str = "", public_: bool = False,
                     at=None, by: str = "sandbox-admin") -> dict:
    stamp = clock.iso(at or clock.now())
    return {"uid": uid, "slug": slug, "public": public_,
            "contents": [{"version_name": "draft", "title": title, "description": description or title,
                          "created_at": stamp, "updated_at": stamp, "updated_by": {"username": by}}],
            "created_at": stamp, "updated_at": stamp, "created_by": {"username": by}}


def _studio_page(ctx: Ctx, uid: str):
    return obj_get(ctx.portal, "studio_page", uid)


@route("GET", "/studio_pages/")
def studio_list(ctx: Ctx):
    return paginate_list(ctx, [o.data for o in objects(ctx.portal, "studio_page")], public)


def _slug_taken(ctx: Ctx, slug: str, exclude: str | None = None) -> bool:
    return any(o.data.get("slug") == slug and o.key != exclude for o in objects(ctx.portal, "studio_page"))


@route("POST", "/studio_pages/")
def studio_create(ctx: Ctx):
    body = ctx.json()
    require_fields(body, ("slug",))
    check_types(body, {"slug": str, "public": bool, "title": str, "description": str})
    if _slug_taken(ctx, body["slug"]):
        raise invalid({"slug": ["A page with this slug already exists."]})
    uid = new_uid("sp")
    data = studio_page_data(uid, body["slug"], body.get("title") or body["slug"],
                            description=body.get("description", ""), public_=bool(body.get("public", False)),
                            at=ctx.now, by=ctx.username)
    obj_create(ctx.portal, "studio_page", uid, data)
    return 201, public(data)


@route("GET", "/studio_pages/{studio_page_uid}/")
def studio_get(ctx: Ctx, studio_page_uid):
    return 200, public(_studio_page(ctx, studio_page_uid).data)


@route("PUT", "/studio_pages/{studio_page_uid}/")
def studio_put(ctx: Ctx, studio_page_uid):
    obj = _studio_page(ctx, studio_page_uid)
    body = ctx.json()
    check_types(body, {"slug": str, "public": bool, "title": str, "description": str})
    data = dict(obj.data)
    if "slug" in body:
        if not body["slug"]:
            raise invalid({"slug": ["This field may not be blank."]})
        if _slug_taken(ctx, body["slug"], exclude=obj.key):
            raise invalid({"slug": ["A page with this slug already exists."]})
        data["slug"] = body["slug"]
    if "public" in body:
        data["public"] = bool(body["public"])
    stamp = clock.iso(ctx.now)
    if "title" in body or "description" in body:
        contents = [dict(c) for c in data["contents"]]
        draft = contents[0]
        draft.update({k: body[k] for k in ("title", "description") if body.get(k)})
        draft.update(updated_at=stamp, updated_by={"username": ctx.username})
        data["contents"] = contents
    data["updated_at"] = stamp
    obj.data = data
    obj.save(update_fields=["data"])
    return 200, public(data)


@route("DELETE", "/studio_pages/{studio_page_uid}/")
def studio_delete(ctx: Ctx, studio_page_uid):
    obj = _studio_page(ctx, studio_page_uid)
    for kind in ("sp_sec_user", "sp_sec_group"):
        objects(ctx.portal, kind, obj.key).delete()
    obj.delete()
    return deleted()


@route("POST", "/studio_pages/{studio_page_uid}/publish/")
def studio_publish(ctx: Ctx, studio_page_uid):
    obj = _studio_page(ctx, studio_page_uid)
    data = dict(obj.data)
    stamp = clock.iso(ctx.now)
    draft = data["contents"][0]
    data["contents"] = [draft, {**draft, "version_name": "published", "updated_at": stamp}]
    data.setdefault("first_published_at", stamp)
    obj.data = data
    obj.save(update_fields=["data"])
    return ok()


@route("POST", "/studio_pages/{studio_page_uid}/unpublish/")
def studio_unpublish(ctx: Ctx, studio_page_uid):
    obj = _studio_page(ctx, studio_page_uid)
    obj.data = {**obj.data, "contents": [c for c in obj.data["contents"] if c["version_name"] != "published"]}
    obj.save(update_fields=["data"])
    return ok()


def _page_parent(kind):
    return lambda ctx, key: obj_get(ctx.portal, kind, key).key


def _perm_validator(target: str, allowed: tuple[str, ...]):
    def validate(ctx, body):
        if target == "user":
            if not isinstance(body.get("user"), dict) or not isinstance(body["user"].get("username"), str) \
                    or not body["user"]["username"]:
                raise invalid({"user": {"username": ["This field is required."]}})
        elif not isinstance(body.get("group"), dict) or not isinstance(body["group"].get("uid"), str) \
                or not body["group"]["uid"]:
            raise invalid({"group": {"uid": ["This field is required."]}})
        perms = body.setdefault("permissions", [])
        if not isinstance(perms, list) or any(p not in allowed for p in perms):
            raise invalid({"permissions": [f"Allowed values: {', '.join(allowed)}."]})
    return validate


for _base, _parent_kind, _param, _allowed, _prefix in (
        ("/studio_pages/{studio_page_uid}/security/", "studio_page", "studio_page_uid", ("edit_page",), "sp"),
        ("/code_editor_pages/{page_slug}/security/", "code_page", "page_slug", ("edit_page", "manage_page"), "cp"),
        ("/datasource_connections/{connection_uid}/security/", "connection", "connection_uid",
         ("manage_connection",), "co")):
    crud(_base + "users/", f"{_prefix}_sec_user", key_param="username", parent_param=_param,
         parent_get=_page_parent(_parent_kind), key_from=lambda b: b["user"]["username"],
         validate=_perm_validator("user", _allowed), create_status=200, readonly=())
    crud(_base + "groups/", f"{_prefix}_sec_group", key_param="group_uid", parent_param=_param,
         parent_get=_page_parent(_parent_kind), key_from=lambda b: b["group"]["uid"],
         validate=_perm_validator("group", _allowed), create_status=200, readonly=())


# ---------------------------------------------------------------- code editor pages

CODE_PAGE_READONLY = ("has_subdomain_copies", "is_pushed_by_parent", "created_by", "updated_by", "created_at",
                      "updated_at")


def code_page_data(slug: str, title: str, *, tags=(), at=None, by: str = "sandbox-admin",
                   restricted: bool = False) -> dict:
    stamp = clock.iso(at or clock.now())
    return {"slug": slug, "title": {"en": title}, "description": f"{title} page",
            "content": {"html": {"en": f"<h1>{title}</h1>"}, "css": {"en": ""}}, "template": "custom.html",
            "tags": list(tags), "has_subdomain_copies": False, "is_pushed_by_parent": False,
            "is_restricted": restricted, "is_archived": False, "created_by": {"username": by},
            "updated_by": {"username": by}, "created_at": stamp, "updated_at": stamp}


def _validate_code_page(body: dict) -> None:
    require_fields(body, ("slug", "content"))
    check_types(body, {"slug": str, "title": STR_MAP, "description": str, "content": dict, "template": str,
                       "tags": STR_LIST, "is_restricted": bool, "is_archived": bool})
    for part in ("html", "css"):
        if part in body["content"] and not (isinstance(body["content"][part], dict) and all(
                isinstance(v, str) for v in body["content"][part].values())):
            raise invalid({"content": {part: ["Expected an object of strings keyed by language."]}})
    if not isinstance(body["content"], dict):
        raise invalid({"content": ["Expected an object with html and css."]})
    if "title" in body and not isinstance(body["title"], dict):
        raise invalid({"title": ["Expected an object keyed by language."]})


@route("GET", "/code_editor_pages/")
def code_list(ctx: Ctx):
    return paginate_list(ctx, [o.data for o in objects(ctx.portal, "code_page")])


@route("POST", "/code_editor_pages/")
def code_create(ctx: Ctx):
    body = {k: v for k, v in ctx.json().items() if k not in CODE_PAGE_READONLY}
    _validate_code_page(body)
    if objects(ctx.portal, "code_page").filter(key=body["slug"]).exists():
        raise invalid({"slug": ["A page with this slug already exists."]})
    base = code_page_data(body["slug"], "", at=ctx.now, by=ctx.username)
    data = {**base, "title": {}, "description": "", **body}
    obj_create(ctx.portal, "code_page", body["slug"], data)
    return 201, data


@route("DELETE", "/code_editor_pages/")
def code_bulk_delete(ctx: Ctx):
    slugs = ctx.request.GET.getlist("slug")
    search = (ctx.param("search") or "").lower()
    if not slugs and not search:
        raise invalid({"slug": ["Give at least one slug or a search."]}, "Give at least one slug or a search.")
    doomed = []
    for obj in objects(ctx.portal, "code_page"):
        text = " ".join([obj.key, *obj.data.get("title", {}).values(), obj.data.get("description", "")]).lower()
        if obj.key in slugs or (search and search in text):
            doomed.append(obj)
    for obj in doomed:
        for kind in ("cp_sec_user", "cp_sec_group"):
            objects(ctx.portal, kind, obj.key).delete()
        obj.delete()
    return 200, [o.key for o in doomed]


@route("GET", "/code_editor_pages/{page_slug}/")
def code_get(ctx: Ctx, page_slug):
    return 200, obj_get(ctx.portal, "code_page", page_slug).data


@route("PUT", "/code_editor_pages/{page_slug}/")
def code_put(ctx: Ctx, page_slug):
    obj = obj_get(ctx.portal, "code_page", page_slug)
    if obj.data.get("is_archived"):
        raise invalid({"is_archived": ["An archived page cannot be edited."]}, "An archived page cannot be edited.")
    body = {k: v for k, v in ctx.json().items() if k not in CODE_PAGE_READONLY}
    if body.get("slug", page_slug) != page_slug:
        raise invalid({"slug": ["The slug of a page cannot be changed."]})
    merged = {**obj.data, **body, "updated_at": clock.iso(ctx.now), "updated_by": {"username": ctx.username}}
    _validate_code_page(merged)
    obj.data = merged
    obj.save(update_fields=["data"])
    return 200, obj.data


@route("DELETE", "/code_editor_pages/{page_slug}/")
def code_delete(ctx: Ctx, page_slug):
    obj = obj_get(ctx.portal, "code_page", page_slug)
    for kind in ("cp_sec_user", "cp_sec_group"):
        objects(ctx.portal, kind, obj.key).delete()
    obj.delete()
    return deleted()


def _archive(value: bool):
    def handler(ctx: Ctx, page_slug):
        obj = obj_get(ctx.portal, "code_page", page_slug)
        obj.data = {**obj.data, "is_archived": value, "updated_at": clock.iso(ctx.now)}
        obj.save(update_fields=["data"])
        return ok()
    return handler


route("POST", "/code_editor_pages/{page_slug}/archive/")(_archive(True))
route("POST", "/code_editor_pages/{page_slug}/unarchive/")(_archive(False))


# ---------------------------------------------------------------- API keys

def apikey_data(uid: str, label: str, key: str, *, permissions=(), at=None, by: str = "sandbox-admin") -> dict:
    return {"uid": uid, "label": label, "permissions": list(permissions), "created_at": clock.iso(at or clock.now()),
            "user": {"username": by}, "revocation_status": {"revoked_at": None, "revocation_reason": ""},
            "is_revoked": False, "_key_hash": hash_key(key)}


@route("GET", "/apikeys/")
def apikey_list(ctx: Ctx):
    return paginate_list(ctx, [o.data for o in objects(ctx.portal, "apikey")], public)


@route("POST", "/apikeys/")
def apikey_create(ctx: Ctx):
    body = ctx.json()
    from .people import _check_permissions
    check_types(body, {"label": str, "permissions": STR_LIST})
    perms = body.get("permissions", [])
    if not isinstance(perms, list):
        raise invalid({"permissions": ["Expected a list of items."]})
    _check_permissions(perms, "permissions")
    key = secrets.token_hex(28)
    uid = new_uid("ak")
    data = apikey_data(uid, body.get("label") or "", key, permissions=perms, at=ctx.now, by=ctx.username)
    obj_create(ctx.portal, "apikey", uid, data)
    return 201, {**public(data), "key": key}


@route("GET", "/apikeys/{apikey_uid}/")
def apikey_get(ctx: Ctx, apikey_uid):
    return 200, public(obj_get(ctx.portal, "apikey", apikey_uid).data)


@route("PUT", "/apikeys/{apikey_uid}/")
def apikey_put(ctx: Ctx, apikey_uid):
    obj = obj_get(ctx.portal, "apikey", apikey_uid)
    body = ctx.json()
    check_types(body, {"label": str, "permissions": STR_LIST})
    from .people import _check_permissions
    _check_permissions(body.get("permissions", []), "permissions")
    obj.data = {**obj.data, **{k: body[k] for k in ("label", "permissions") if k in body}}
    obj.save(update_fields=["data"])
    return 200, public(obj.data)


@route("POST", "/apikeys/{apikey_uid}/revoke/")
def apikey_revoke(ctx: Ctx, apikey_uid):
    obj = obj_get(ctx.portal, "apikey", apikey_uid)
    check_types(ctx.json(), {"reason": str})
    reason = ctx.json().get("reason", "")
    if not obj.data.get("is_revoked"):
        obj.data = {**obj.data, "is_revoked": True,
                    "revocation_status": {"revoked_at": clock.iso(ctx.now), "revocation_reason": reason}}
        obj.save(update_fields=["data"])
    return 200, public(obj.data)


@route("POST", "/apikeys/search_key/")
def apikey_search(ctx: Ctx):
    body = ctx.json()
    require_fields(body, ("key",))
    check_types(body, {"key": str})
    wanted = hash_key(str(body["key"]))
    found = next((o.data for o in objects(ctx.portal, "apikey") if o.data.get("_key_hash") == wanted), None)
    return 200, {"found": found is not None, "result": public(found) if found else None}


# ---------------------------------------------------------------- datasource connections

def connection_data(uid: str, url: str, at=None) -> dict:
    day = (at or clock.now()).date().isoformat()
    return {"uid": uid, "type": "http", "url": url, "headers": [], "auth": None, "is_reusable": True,
            "can_reuse": True, "can_manage": True, "dataset_count": 0, "user_count": 0, "group_count": 0,
            "created_at": day, "updated_at": day}


def _connection_validate(ctx, body):
    require_fields(body, ("type",))
    check_types(body, {"type": str, "url": str, "is_reusable": bool, "headers": list}, nullable=("auth",))
    if body["type"] in ("http", "ftp"):
        require_fields(body, ("url",))
    auth = body.get("auth")
    if auth is not None:
        if not isinstance(auth, dict) or not isinstance(auth.get("type"), str):
            raise invalid({"auth": {"type": ["This field is required."]}})
        if auth["type"] == "basic_auth" and not (isinstance(auth.get("username"), str) and auth["username"]):
            raise invalid({"auth": {"username": ["This field is required."]}})


def _connection_public(data: dict) -> dict:
    """Like a real portal: the secret parts of a datasource connection are stored, never returned."""
    out = dict(data)
    if isinstance(out.get("auth"), dict):
        out["auth"] = {k: v for k, v in out["auth"].items()
                       if k not in ("password", "secret_access_key", "client_secret", "token", "account_key")}
    if isinstance(out.get("headers"), list):
        out["headers"] = [{"name": h.get("name"), "value": "********"} for h in out["headers"] if isinstance(h, dict)]
    return out


crud("/datasource_connections/", "connection", key_param="connection_uid", prefix="co", parent_param=None,
     validate=_connection_validate,
     readonly=("uid", "can_reuse", "can_manage", "dataset_count", "user_count", "group_count", "created_at",
               "updated_at"),
     decorate=lambda d: _connection_public({"is_reusable": True, "can_reuse": True, "can_manage": True,
                                            "dataset_count": 0, "user_count": 0, "group_count": 0,
                                            "created_at": clock.now().date().isoformat(),
                                            "updated_at": clock.now().date().isoformat(), **d}))


# ---------------------------------------------------------------- metadata templates

def _template_json(data: dict) -> dict:
    return public(data)


@route("GET", "/metadata/templates/")
def template_list(ctx: Ctx):
    items = [o.data for o in objects(ctx.portal, "template")]
    active = ctx.flag("is_active")
    if active is not None:
        items = [t for t in items if t.get("is_active") == active]
    if ctx.param("type"):
        items = [t for t in items if t.get("type") == ctx.param("type")]
    return paginate_list(ctx, items, _template_json)


FIELD_TYPES = ("text", "date", "datetime", "geo_shape", "geo_area", "html", "multitext", "boolean", "int", "double",
               "longstring", "enum", "list", "enumlist", "uri_enum", "uri_enumlist")
REQUIREMENT_LEVELS = ("optional", "recommended", "mandatory")
TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,64}$")
FIELD_READONLY = ("is_hidden", "suggest_url")


def _field_errors(field, seen: set) -> dict:
    """One schema entry's errors, keyed like the API's nested serializer ({} when it is valid)."""
    if not isinstance(field, dict):
        return {"non_field_errors": ["Expected an object."]}
    errors: dict = {}
    name = field.get("name")
    if not isinstance(name, str) or not TEMPLATE_NAME.match(name):
        errors["name"] = ["Use 1 to 64 lower-case letters, digits or underscores."]
    elif name in seen:
        errors["name"] = [f"The field name {name!r} is used twice."]
    seen.add(name)
    if field.get("type", "text") not in FIELD_TYPES:
        errors["type"] = [f"\"{field.get('type')}\" is not a valid choice."]
    if field.get("requirement_level", "optional") not in REQUIREMENT_LEVELS:
        errors["requirement_level"] = [f"\"{field.get('requirement_level')}\" is not a valid choice."]
    choices = field.get("choices")
    if choices is not None and (not isinstance(choices, list) or not all(isinstance(c, str) for c in choices)):
        errors["choices"] = ["Expected a list of strings."]
    elif field.get("type") in ("enum", "enumlist", "uri_enum", "uri_enumlist") and not choices:
        errors["choices"] = ["A field of this type needs its list of allowed values."]
    if field.get("label") is not None and not isinstance(field.get("label"), str):
        errors["label"] = ["Not a valid string."]
    return errors


def _validate_template(body: dict) -> None:
    require_fields(body, ("name", "title", "type"))
    check_types(body, {"name": str, "title": str, "type": str, "is_active": bool, "schema": list})
    if not TEMPLATE_NAME.match(body["name"]):
        raise invalid({"name": ["Use 1 to 64 lower-case letters, digits or underscores."]})
    if body["type"] not in ("basic", "admin"):
        raise invalid({"type": ["Only templates with type basic or admin can be created."]})
    if "schema" not in body:
        raise invalid({"schema": ["This field is required."]})
    seen: set = set()
    errors = [_field_errors(f, seen) for f in body["schema"]]
    if any(errors):  # one entry per field, in order, like a nested list serializer
        raise invalid({"schema": errors})


def _template_fields_clean(schema: list) -> list:
    """Defaults filled in, read-only properties dropped (the portal computes them)."""
    out = []
    for f in schema:
        f = {k: v for k, v in f.items() if k not in FIELD_READONLY}
        out.append({"type": "text", "label": f["name"], "help_text": None, "self_suggest": False, "is_filter": False,
                    "i18n": False, "choices": None, "labels": None, "requirement_level": "optional", **f,
                    "is_hidden": False, "suggest_url": None})
    return out


@route("POST", "/metadata/templates/")
def template_create(ctx: Ctx):
    body = ctx.json()
    body.setdefault("is_active", True)
    _validate_template(body)
    if objects(ctx.portal, "template").filter(key=body["name"]).exists():
        raise invalid({"name": ["A template with this name already exists."]})
    stamp = clock.iso(ctx.now)
    data = {**{k: v for k, v in body.items() if k in ("name", "title", "type", "is_active")},
            "schema": _template_fields_clean(body["schema"]), "is_always_active": False, "is_system": False,
            "created_at": stamp, "updated_at": stamp,
            "created_by": {"username": ctx.username}, "updated_by": {"username": ctx.username}}
    obj_create(ctx.portal, "template", body["name"], data)
    return 201, public(data)


@route("GET", "/metadata/templates/{template_name}/")
def template_get(ctx: Ctx, template_name):
    return 200, public(obj_get(ctx.portal, "template", template_name).data)


def _fully_editable(data: dict) -> bool:
    """The spec: only non-system templates of type basic and admin are fully editable or removable."""
    return not data.get("is_system") and data.get("type") in ("basic", "admin")


@route("PUT", "/metadata/templates/{template_name}/")
def template_put(ctx: Ctx, template_name):
    obj = obj_get(ctx.portal, "template", template_name)
    body = ctx.json()
    stamp = {"updated_at": clock.iso(ctx.now), "updated_by": {"username": ctx.username}}
    if not _fully_editable(obj.data):
        # Other templates may only be enabled or disabled (not those that are always active).
        sent = dict(body)
        if isinstance(sent.get("schema"), list) and all(isinstance(f, dict) and f.get("name") for f in sent["schema"]):
            sent["schema"] = _template_fields_clean(sent["schema"])  # read-only properties do not count
        changed = {k for k, v in sent.items() if k in ("title", "type", "schema") and v != obj.data.get(k)}
        if changed:
            raise invalid({k: ["This template is provided by the platform: only whether it is active can change."]
                           for k in sorted(changed)}, "A built-in template cannot be modified.")
        check_types(body, {"is_active": bool})
        if body.get("is_active") is False and obj.data.get("is_always_active"):
            raise invalid({"is_active": ["This template is always active."]})
        merged = {**obj.data, **stamp}
        if "is_active" in body:
            merged["is_active"] = body["is_active"]
    else:
        merged = {**obj.data, **{k: v for k, v in body.items() if k in ("title", "type", "is_active", "schema")},
                  "name": template_name}
        _validate_template(merged)
        merged = {**merged, "schema": _template_fields_clean(merged["schema"]), **stamp}
    obj.data = merged
    obj.save(update_fields=["data"])
    return 200, public(merged)


@route("DELETE", "/metadata/templates/{template_name}/")
def template_delete(ctx: Ctx, template_name):
    obj = obj_get(ctx.portal, "template", template_name)
    if not _fully_editable(obj.data):
        raise invalid({"name": ["A built-in template cannot be removed."]}, "A built-in template cannot be removed.")
    obj.delete()
    return deleted()


@route("GET", "/metadata/templates/{template_name}/fields/")
def template_fields(ctx: Ctx, template_name):
    return paginate_list(ctx, obj_get(ctx.portal, "template", template_name).data.get("schema", []))


def _template_field(ctx, template_name, template_field_name) -> dict:
    for f in obj_get(ctx.portal, "template", template_name).data.get("schema", []):
        if f["name"] == template_field_name:
            return f
    raise not_found()


@route("GET", "/metadata/templates/{template_name}/fields/{template_field_name}/")
def template_field(ctx: Ctx, template_name, template_field_name):
    return 200, _template_field(ctx, template_name, template_field_name)


@route("GET", "/metadata/templates/{template_name}/fields/{template_field_name}/suggest/")
def template_field_suggest(ctx: Ctx, template_name, template_field_name):
    _template_field(ctx, template_name, template_field_name)
    if ctx.param("query") is None:
        raise invalid({"query": ["This query parameter is required."]})
    query = ctx.param("query").lower()
    seen: list[str] = []
    for ds in SandboxDataset.objects.filter(portal=ctx.portal).order_by("id")[:2000]:
        value = ds.data.get("metadata", {}).get(template_name, {}).get(template_field_name, {}).get("value")
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v not in seen and query in v.lower():
                seen.append(v)
    count = int(ctx.param("count")) if (ctx.param("count") or "").isdigit() else 10
    return 200, {"hits": [{"value": v} for v in seen[:count]], "nb_hits": len(seen), "query": query}


# ---------------------------------------------------------------- assets

IMAGE_MAX_BYTES = 5 * 1024 * 1024


def _looks_like_image(head: bytes) -> bool:
    return (head.startswith(b"\x89PNG") or head.startswith(b"\xff\xd8\xff") or head[:4] == b"GIF8"
            or (head[:4] == b"RIFF" and head[8:12] == b"WEBP") or head.lstrip().startswith((b"<svg", b"<?xml")))


@route("GET", "/medias/images/")
def image_list(ctx: Ctx):
    return paginate_list(ctx, [o.data for o in objects(ctx.portal, "image")])


@route("POST", "/medias/images/")
def image_create(ctx: Ctx):
    upload = ctx.request.FILES.get("file")
    if upload is None:
        raise invalid({"file": ["No file was submitted."]})
    head = upload.read(16)
    upload.seek(0)
    if not _looks_like_image(head):  # a portal checks the content, not the name
        raise invalid({"file": ["Upload a valid image: PNG, JPEG, GIF, WebP or SVG."]})
    if upload.size > IMAGE_MAX_BYTES:
        raise invalid({"file": [f"The image is too large (at most {IMAGE_MAX_BYTES // (1024 * 1024)} MB)."]})
    data = {"url": f"/assets/theme_image/{upload.name}"}
    if not objects(ctx.portal, "image").filter(key=upload.name).exists():
        obj_create(ctx.portal, "image", upload.name, data, blob=upload.read())
    return 201, data
