"""Shared pieces of the handlers: JSON views of objects, versions, a CRUD factory for sub-collections."""

from croniter import croniter

from .. import clock
from ..api import Ctx, deleted, invalid, paginate_list, route
from ..models import SandboxDataset, SandboxObject
from ..status import dataset_is_published, dataset_processed_at
from ..store import check_types, get_dataset, new_uid, obj_create, obj_get, objects, require_fields

TEXT_FIELDS = {n: str for n in ("title", "description", "modified", "language", "timezone", "publisher",
                                "references")}
LIST_FIELDS = {n: list for n in ("keyword", "geographic_reference", "attributions")}
BOOL_FIELDS = {n: bool for n in ("modified_updates_on_metadata_change", "modified_updates_on_data_change",
                                 "geographic_reference_auto")}
DEFAULT_SECURITY = {"is_data_visible": True, "visible_fields": None, "filter_query": "", "api_calls_quota": None}
LANGUAGES = ("en", "fr", "nl", "pt", "it", "ar", "de", "es", "ca", "eu", "sv")


def public(data: dict) -> dict:
    return {k: v for k, v in data.items() if not k.startswith("_")}


def dataset_json(ds: SandboxDataset, at, portal) -> dict:
    """A dataset as the portal shows it at `at`; its timestamps on the portal's clock."""
    d = ds.data
    return {"uid": ds.uid, "dataset_id": ds.dataset_id, "created_at": d.get("created_at"),
            "updated_at": clock.portal_iso(portal, _updated_at(ds, at, portal)), "is_published": dataset_is_published(ds, at),
            "is_restricted": bool(d.get("is_restricted", False)), "metadata": d.get("metadata", {}),
            "default_security": d.get("default_security") or dict(DEFAULT_SECURITY)}


def _updated_at(ds: SandboxDataset, at, portal) -> str | None:
    """The stored edit time, or the end of the last order's processing when later (and the portal shows that)."""
    stamp = ds.data.get("updated_at")
    processed = dataset_processed_at(ds, at) if portal.processing_moves_updated_at else None
    if processed is not None and (not stamp or processed > clock.parse(stamp)):
        return clock.iso(processed)
    return stamp


def validate_default_metadata(default) -> dict:
    """Errors for metadata.default (empty dict when valid)."""
    if not isinstance(default, dict):
        return {"default": ["This field is required."]}
    errors = {}
    for name in ("title", "modified", "language"):
        value = default.get(name)
        if not isinstance(value, dict) or value.get("value") in (None, ""):
            errors[name] = ["This field is required."]
    for name, value in default.items():
        if name not in errors and (not isinstance(value, dict) or "value" not in value):
            errors[name] = ["Expected an object with a 'value' key."]
        elif name not in errors and value["value"] is not None:
            kind = LIST_FIELDS.get(name) or TEXT_FIELDS.get(name) or BOOL_FIELDS.get(name)
            if kind is list and not (isinstance(value["value"], list)
                                     and all(isinstance(v, str) for v in value["value"])):
                errors[name] = ["Expected a list of strings."]
            elif kind is str and not isinstance(value["value"], str):
                errors[name] = ["Not a valid string."]
            elif kind is bool and not isinstance(value["value"], bool):
                errors[name] = ["Must be a valid boolean."]
    language = default.get("language")
    if "language" not in errors and language["value"] not in LANGUAGES:
        errors["language"] = [f"\"{language['value']}\" is not a valid choice."]
    modified = default.get("modified")
    if "modified" not in errors:
        try:
            clock.parse(modified["value"])
        except (TypeError, ValueError):
            errors["modified"] = ["Datetime has wrong format. Use ISO 8601."]
    return {"default": errors} if errors else {}


def validate_metadata(metadata) -> None:
    if not isinstance(metadata, dict):
        raise invalid({"metadata": ["This field is required."]})
    errors = validate_default_metadata(metadata.get("default"))
    for template, values in metadata.items():
        if template != "default" and not isinstance(values, dict):
            errors[template] = ["Expected an object."]
    if errors:
        raise invalid({"metadata": errors})


def touch(ds: SandboxDataset, at) -> None:
    ds.data = {**ds.data, "updated_at": clock.iso(at)}


def add_version(ctx: Ctx, ds: SandboxDataset, sections: list[str]) -> SandboxObject:
    uid = new_uid("ch")
    snapshot = {k: ds.data.get(k) for k in ("metadata", "is_restricted", "default_security")}
    snapshot["dataset_id"] = ds.dataset_id
    return obj_create(ctx.portal, "version", uid, {
        "uid": uid, "sections": sections, "created_by": {"username": ctx.username}, "can_restore": True,
        "created_at": clock.iso(ctx.now), "_snapshot": snapshot}, parent=ds.uid)


def dataset_changed(ctx: Ctx, ds: SandboxDataset, sections: list[str]) -> None:
    """Every write to a dataset's configuration bumps updated_at and creates a version."""
    touch(ds, ctx.now)
    ds.save(update_fields=["data", "dataset_id"])
    add_version(ctx, ds, sections)


def validate_cron(body: dict) -> None:
    require_fields(body, ("cron_schedule",))
    check_types(body, {"cron_schedule": str})
    if not isinstance(body["cron_schedule"], str) or not croniter.is_valid(body["cron_schedule"]):
        raise invalid({"cron_schedule": ["Invalid cron expression."]})


def crud(base: str, kind: str, *, key_param: str, prefix: str | None = None, key_from=None,
         validate=None, parent_param: str | None = "dataset_uid", section: str | None = None,
         create_status: int = 201, readonly: tuple[str, ...] = ("uid",), methods: str = "LCRUD",
         parent_get=None, decorate=None, put_replaces: bool = False):
    """Register list/create/retrieve/update/delete handlers for a sub-collection stored as SandboxObject.

    `key_from(body)` gives the key of a new object (rulesets keyed by username or group uid); otherwise a
    fresh `<prefix>_xxxxxx` uid is generated. Writes under a dataset create a version when `section` is set.
    `put_replaces`: a PUT replaces the object (keeping its uid) instead of merging into it — processors and field
    configurations, whose parameters are free properties: a parameter left out of a PUT is gone.
    """
    item = base + "{" + key_param + "}/"

    def parent_of(ctx, kwargs):
        if parent_param is None:
            return "", None
        if parent_get is not None:
            return parent_get(ctx, kwargs[parent_param]), None
        ds = get_dataset(ctx, kwargs[parent_param])
        return ds.uid, ds

    def out(obj_data):
        data = public(obj_data)
        return decorate(data) if decorate else data

    def changed(ctx, ds, name):
        if ds is not None and section:
            dataset_changed(ctx, ds, [section])

    def list_(ctx, **kwargs):
        parent, _ds = parent_of(ctx, kwargs)
        return paginate_list(ctx, [o.data for o in objects(ctx.portal, kind, parent)], out)

    def create(ctx, **kwargs):
        parent, ds = parent_of(ctx, kwargs)
        body = {k: v for k, v in ctx.json().items() if k not in readonly}
        if validate:
            validate(ctx, body)
        if key_from:
            key = key_from(body)
            if objects(ctx.portal, kind, parent).filter(key=key).exists():
                raise invalid({"non_field_errors": [f"A ruleset for '{key}' already exists."]})
        else:
            key = new_uid(prefix)
            body = {"uid": key, **body}
        obj = obj_create(ctx.portal, kind, key, body, parent=parent)
        changed(ctx, ds, kind)
        return create_status, out(obj.data)

    def retrieve(ctx, **kwargs):
        parent, _ds = parent_of(ctx, kwargs)
        return 200, out(obj_get(ctx.portal, kind, kwargs[key_param], parent).data)

    def update(ctx, **kwargs):
        parent, ds = parent_of(ctx, kwargs)
        obj = obj_get(ctx.portal, kind, kwargs[key_param], parent)
        body = {k: v for k, v in ctx.json().items() if k not in readonly}
        merged = {"uid": obj.data["uid"], **body} if put_replaces and "uid" in obj.data else {**obj.data, **body}
        if validate:
            validate(ctx, merged)
        if key_from and key_from(merged) != obj.key:
            raise invalid({"non_field_errors": ["The target of a ruleset cannot be changed."]})
        obj.data = merged
        obj.save(update_fields=["data"])
        changed(ctx, ds, kind)
        return 200, out(obj.data)

    def delete(ctx, **kwargs):
        parent, ds = parent_of(ctx, kwargs)
        obj_get(ctx.portal, kind, kwargs[key_param], parent).delete()
        changed(ctx, ds, kind)
        return deleted()

    if "L" in methods:
        route("GET", base)(list_)
    if "C" in methods:
        route("POST", base)(create)
    if "R" in methods:
        route("GET", item)(retrieve)
    if "U" in methods:
        route("PUT", item)(update)
    if "D" in methods:
        route("DELETE", item)(delete)
