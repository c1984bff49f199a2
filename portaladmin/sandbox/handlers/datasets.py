"""Datasets and everything under /datasets/{dataset_uid}/."""

import mimetypes
import re
import secrets
from datetime import date, datetime

from django.http import HttpResponse, HttpResponseRedirect

from .. import clock
from ..api import ApiError, Ctx, deleted, invalid, not_found, ok, page_bounds, paginate_list, paginated, route
from ..models import SandboxDataset, SandboxObject
from ..status import dataset_settle_and_store, dataset_start, dataset_status
from ..store import STR_LIST, check_types, get_dataset, new_uid, obj_create, obj_get, objects, require_fields
from . import processing
from . import resource_content as content
from .common import (
    DEFAULT_SECURITY,
    add_version,
    crud,
    dataset_changed,
    dataset_json,
    public,
    validate_cron,
    validate_metadata,
)

CHILD_KINDS = ("resource", "file", "processor", "field", "schedule", "version", "attachment", "alt_export",
               "sec_user", "sec_group", "feedback")
BUILTIN_TEMPLATES = ("default", "visualization", "internal", "asset_content_configuration")


# ---------------------------------------------------------------- datasets

@route("GET", "/datasets/")
def dataset_list(ctx: Ctx):
    limit, offset = page_bounds(ctx)
    qs = SandboxDataset.objects.filter(portal=ctx.portal).order_by("id")
    dataset_id = ctx.param("dataset_id")
    if dataset_id:
        qs = qs.filter(dataset_id=dataset_id)
    total = qs.count()
    rows = list(qs[offset:offset + limit]) if limit else []
    return paginated(ctx, total, [dataset_json(ds, ctx.now, ctx.portal) for ds in rows], limit, offset)


def _dataset_id_taken(ctx: Ctx, dataset_id: str, exclude_pk: int | None = None) -> bool:
    qs = SandboxDataset.objects.filter(portal=ctx.portal, dataset_id=dataset_id)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _validate_dataset_id(ctx: Ctx, dataset_id, exclude_pk=None) -> None:
    if not isinstance(dataset_id, str) or not dataset_id.strip():
        raise invalid({"dataset_id": ["This field may not be blank."]})
    if _dataset_id_taken(ctx, dataset_id, exclude_pk):
        raise invalid({"dataset_id": ["A dataset with this dataset_id already exists."]})


@route("POST", "/datasets/")
def dataset_create(ctx: Ctx):
    body = ctx.json()
    check_types(body, {"dataset_id": str, "is_restricted": bool, "default_security": dict})
    validate_metadata(body.get("metadata"))
    uid = new_uid("da")
    dataset_id = body.get("dataset_id") or uid
    _validate_dataset_id(ctx, dataset_id)
    stamp = clock.iso(ctx.now)
    ds = SandboxDataset.objects.create(
        portal=ctx.portal, uid=uid, dataset_id=dataset_id, since=ctx.now,
        data={"created_at": stamp, "updated_at": stamp, "is_restricted": bool(body.get("is_restricted", False)),
              "metadata": body["metadata"], "default_security": body.get("default_security") or DEFAULT_SECURITY})
    add_version(ctx, ds, ["metadata", "security"])
    return 201, dataset_json(ds, ctx.now, ctx.portal)


@route("GET", "/datasets/{dataset_uid}/")
def dataset_retrieve(ctx: Ctx, dataset_uid):
    return 200, dataset_json(get_dataset(ctx, dataset_uid), ctx.now, ctx.portal)


@route("PUT", "/datasets/{dataset_uid}/")
def dataset_update(ctx: Ctx, dataset_uid):
    ds = get_dataset(ctx, dataset_uid, lock=True)
    body = ctx.json()
    check_types(body, {"dataset_id": str, "is_restricted": bool, "default_security": dict})
    sections = []
    if "metadata" in body:
        validate_metadata(body["metadata"])
        ds.data = {**ds.data, "metadata": body["metadata"]}
        sections.append("metadata")
    if "dataset_id" in body and body["dataset_id"] != ds.dataset_id:
        _validate_dataset_id(ctx, body["dataset_id"], ds.pk)
        if ds.is_published:
            raise invalid({"dataset_id": ["The dataset_id of a published dataset cannot be changed."]})
        ds.dataset_id = body["dataset_id"]
        sections.append("dataset_id")
    for name in ("is_restricted", "default_security"):
        if name in body:
            ds.data = {**ds.data, name: body[name]}
            sections.append("security")
    dataset_changed(ctx, ds, sections or ["metadata"])
    return 200, dataset_json(ds, ctx.now, ctx.portal)


@route("DELETE", "/datasets/{dataset_uid}/")
def dataset_delete(ctx: Ctx, dataset_uid):
    ds = get_dataset(ctx, dataset_uid)
    SandboxObject.objects.filter(portal=ctx.portal, kind__in=CHILD_KINDS, parent=ds.uid).delete()
    ds.delete()
    return deleted()


def _action(op):
    def handler(ctx: Ctx, dataset_uid):
        ds = get_dataset(ctx, dataset_uid, lock=True)
        dataset_start(ctx.portal, ds, op, ctx.now)
        ds.save()
        return ok()
    return handler


for _op in ("publish", "unpublish", "abort", "publish_metadata"):
    route("POST", f"/datasets/{{dataset_uid}}/{_op}/")(_action(_op))


@route("GET", "/datasets/{dataset_uid}/status/")
def dataset_status_view(ctx: Ctx, dataset_uid):
    ds = get_dataset(ctx, dataset_uid)
    answer = dataset_status(ds, ctx.now)
    dataset_settle_and_store(ds, ctx.now)
    answer["since"] = clock.portal_iso(ctx.portal, answer["since"])
    return 200, answer


@route("POST", "/datasets/{dataset_uid}/copy/")
def dataset_copy(ctx: Ctx, dataset_uid):
    src = get_dataset(ctx, dataset_uid)
    body = ctx.json()
    dataset_id = body.get("dataset_id") or f"{src.dataset_id}-copy"
    n = 2
    while _dataset_id_taken(ctx, dataset_id) and not body.get("dataset_id"):
        dataset_id = f"{src.dataset_id}-copy-{n}"
        n += 1
    _validate_dataset_id(ctx, dataset_id)
    stamp = clock.iso(ctx.now)
    copy = SandboxDataset.objects.create(
        portal=ctx.portal, uid=new_uid("da"), dataset_id=dataset_id, since=ctx.now,
        data={**src.data, "created_at": stamp, "updated_at": stamp}, processing_seconds=src.processing_seconds)
    for obj in SandboxObject.objects.filter(portal=ctx.portal, parent=src.uid,
                                            kind__in=("resource", "file", "processor", "field")):
        obj_create(ctx.portal, obj.kind, obj.key, obj.data, parent=copy.uid, blob=obj.blob)
    add_version(ctx, copy, ["metadata", "data"])
    return 201, dataset_json(copy, ctx.now, ctx.portal)


# ---------------------------------------------------------------- metadata

def _templates(ctx: Ctx) -> set[str]:
    custom = objects(ctx.portal, "template").values_list("key", flat=True)
    return set(BUILTIN_TEMPLATES) | set(custom)


@route("GET", "/datasets/{dataset_uid}/metadata/")
def metadata_get(ctx: Ctx, dataset_uid):
    return 200, get_dataset(ctx, dataset_uid).data.get("metadata", {})


@route("PUT", "/datasets/{dataset_uid}/metadata/")
def metadata_put(ctx: Ctx, dataset_uid):
    ds = get_dataset(ctx, dataset_uid, lock=True)
    body = ctx.json()
    validate_metadata(body)
    ds.data = {**ds.data, "metadata": body}
    dataset_changed(ctx, ds, ["metadata"])
    return 200, body


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _value_error(definition: dict, value) -> str:
    """Why a value does not fit its template field's type ("" when it fits), like a portal's validation."""
    kind, choices = definition.get("type", "text"), definition.get("choices") or []
    if value is None:
        return "This field may not be null."
    if kind in ("text", "html", "longstring", "multitext", "enum", "uri_enum") and not isinstance(value, str):
        return "Not a valid string."
    if kind in ("list", "enumlist", "uri_enumlist"):
        if not isinstance(value, list) or not all(isinstance(v, str | dict) for v in value):
            return "Expected a list of items."
        if kind != "list" and choices and any(v not in choices for v in value):
            return f"{next(v for v in value if v not in choices)!r} is not a valid choice."
    if kind == "text" and str(definition.get("name", "")).endswith("email") and value \
            and not EMAIL.match(value):
        return "Enter a valid email address."  # as the portal checks DCAT/INSPIRE contact addresses
    if kind in ("enum", "uri_enum") and choices and value not in choices:
        return f"{value!r} is not a valid choice."
    if kind == "boolean" and not isinstance(value, bool):
        return "Must be a valid boolean."
    if kind == "int" and (not isinstance(value, int) or isinstance(value, bool)):
        return "A valid integer is required."
    if kind == "double" and (not isinstance(value, int | float) or isinstance(value, bool)):
        return "A valid number is required."
    if kind in ("date", "datetime"):
        try:
            (date.fromisoformat if kind == "date" else datetime.fromisoformat)(value)
        except (TypeError, ValueError):
            return f"{value!r} is not a valid {kind}."
    if kind in ("geo_shape", "geo_area") and not isinstance(value, dict):
        return "Expected a GeoJSON object."
    return ""


def validate_template_values(ctx: Ctx, template_name: str, values: dict) -> dict:
    """{field: [message]} for values that do not fit the template's field definitions (fields the template does
    not define are accepted, as the real API keeps values of removed fields)."""
    template = objects(ctx.portal, "template").filter(key=template_name).first()
    definitions = {f.get("name"): f for f in (template.data.get("schema", []) if template else [])}
    errors = {}
    for name, body in values.items():
        if name in definitions and isinstance(body, dict) and "value" in body:
            message = _value_error(definitions[name], body["value"])
            if message:
                errors[name] = [message]
    return errors


def _template(ctx, ds, template_name):
    if template_name not in _templates(ctx):
        raise not_found()
    return ds.data.get("metadata", {}).get(template_name, {})


@route("GET", "/datasets/{dataset_uid}/metadata/{template_name}/")
def metadata_template_get(ctx: Ctx, dataset_uid, template_name):
    return 200, _template(ctx, get_dataset(ctx, dataset_uid), template_name)


@route("PUT", "/datasets/{dataset_uid}/metadata/{template_name}/")
def metadata_template_put(ctx: Ctx, dataset_uid, template_name):
    ds = get_dataset(ctx, dataset_uid, lock=True)
    _template(ctx, ds, template_name)
    body = ctx.json()
    if isinstance(body, dict) and (errors := validate_template_values(ctx, template_name, body)):
        raise invalid(errors)
    metadata = {**ds.data.get("metadata", {}), template_name: body}
    validate_metadata(metadata)
    ds.data = {**ds.data, "metadata": metadata}
    dataset_changed(ctx, ds, ["metadata"])
    return 200, body


@route("GET", "/datasets/{dataset_uid}/metadata/{template_name}/{template_field_name}/")
def metadata_field_get(ctx: Ctx, dataset_uid, template_name, template_field_name):
    values = _template(ctx, get_dataset(ctx, dataset_uid), template_name)
    if template_field_name not in values:
        raise not_found()
    return 200, values[template_field_name]


@route("PUT", "/datasets/{dataset_uid}/metadata/{template_name}/{template_field_name}/")
def metadata_field_put(ctx: Ctx, dataset_uid, template_name, template_field_name):
    ds = get_dataset(ctx, dataset_uid, lock=True)
    values = dict(_template(ctx, ds, template_name))
    body = ctx.json()
    if "value" not in body:
        raise invalid({"value": ["This field is required."]})
    errors = validate_template_values(ctx, template_name, {template_field_name: body})
    if errors:
        raise invalid({"value": errors[template_field_name]})
    values[template_field_name] = body
    metadata = {**ds.data.get("metadata", {}), template_name: values}
    validate_metadata(metadata)
    ds.data = {**ds.data, "metadata": metadata}
    dataset_changed(ctx, ds, ["metadata"])
    return 200, body


@route("DELETE", "/datasets/{dataset_uid}/metadata/{template_name}/{template_field_name}/")
def metadata_field_delete(ctx: Ctx, dataset_uid, template_name, template_field_name):
    ds = get_dataset(ctx, dataset_uid, lock=True)
    values = dict(_template(ctx, ds, template_name))
    if template_field_name not in values:
        raise not_found()
    if template_name == "default" and template_field_name in ("title", "modified", "language"):
        raise invalid({template_field_name: ["This metadata is required and cannot be deleted."]})
    del values[template_field_name]
    ds.data = {**ds.data, "metadata": {**ds.data.get("metadata", {}), template_name: values}}
    dataset_changed(ctx, ds, ["metadata"])
    return deleted()


# ---------------------------------------------------------------- files, resources, preview

def _uploaded(ctx: Ctx):
    upload = ctx.request.FILES.get("file")
    if upload is None:
        raise invalid({"file": ["No file was submitted."]})
    return upload


def _file_json(ctx: Ctx, upload, uid: str) -> dict:
    mimetype = upload.content_type or mimetypes.guess_type(upload.name)[0]
    return {"uid": uid, "filename": upload.name, "mimetype": mimetype, "created_at": clock.iso(ctx.now)}


def _unique_key(ctx: Ctx, kind: str, parent: str, wanted: str) -> str:
    key, n = wanted, 1
    while objects(ctx.portal, kind, parent).filter(key=key).exists():
        n += 1
        key = f"{n}-{wanted}"
    return key


@route("POST", "/datasets/{dataset_uid}/resources/files/")
def file_upload(ctx: Ctx, dataset_uid):
    ds = get_dataset(ctx, dataset_uid)
    upload = _uploaded(ctx)
    content.check_upload_size(upload)
    uid = _unique_key(ctx, "file", ds.uid, upload.name)
    # `size` is not in the spec's DatasetFile; the sandbox adds it so the resource list can show a size.
    obj = obj_create(ctx.portal, "file", uid, {**_file_json(ctx, upload, uid), "size": upload.size}, parent=ds.uid,
                     blob=upload.read())
    return 200, obj.data


@route("GET", "/datasets/{dataset_uid}/resources/files/{file_uid}/")
def file_get(ctx: Ctx, dataset_uid, file_uid):
    return 200, obj_get(ctx.portal, "file", file_uid, get_dataset(ctx, dataset_uid).uid).data


def _download(obj: SandboxObject) -> HttpResponse:
    resp = HttpResponse(bytes(obj.blob or b""), content_type="application/octet-stream")
    resp["Content-Disposition"] = f'attachment; filename="{obj.data.get("filename", obj.key)}"'
    return resp


@route("GET", "/datasets/{dataset_uid}/resources/files/{file_uid}/download/")
def file_download(ctx: Ctx, dataset_uid, file_uid):
    return _download(obj_get(ctx.portal, "file", file_uid, get_dataset(ctx, dataset_uid).uid))


EXTRACTORS = [
    {"type": "realtime", "label": "Realtime", "parameters": []},
    {"type": "csvfile", "label": "CSV File", "parameters": [
        {"type": "string", "is_mandatory": False, "name": "separator", "label": "Separator", "default": ";",
         "impacts_guessed_parameters": True},
        {"type": "string", "is_mandatory": False, "name": "encoding", "label": "Encoding", "default": "utf-8",
         "choices": ["utf-8", "iso-8859-1", "windows-1252", "utf-16"]},
        {"type": "boolean", "is_mandatory": False, "name": "headers_first_row", "label": "First row is the header",
         "default": "true"},
        {"type": "int", "is_mandatory": False, "name": "first_row_no", "label": "First row number", "default": "1",
         "description": "Rows before it are skipped"},
        {"type": "boolean", "is_mandatory": False, "name": "doublequote", "label": "Double quotes escape quotes",
         "default": "true"},
        {"type": "boolean", "is_mandatory": False, "name": "extract_filename", "label": "Extract filename",
         "description": "Extract the filename in a field"}]},
    {"type": "jsonfile", "label": "JSON File", "parameters": [
        {"type": "string", "is_mandatory": False, "name": "json_root", "label": "JSON root", "default": "",
         "description": "Path to the JSON array that contains the objects that will become the dataset records"},
        {"type": "string", "is_mandatory": False, "name": "json_object", "label": "JSON object",
         "description": "Relative path to the JSON object to extract"}]},
    {"type": "xlsfile", "label": "Excel File", "parameters": [
        {"type": "string", "is_mandatory": False, "name": "sheet", "label": "Sheet"},
        {"type": "boolean", "is_mandatory": False, "name": "headers_first_row", "label": "First row is the header",
         "default": "true"},
        {"type": "int", "is_mandatory": False, "name": "first_row_no", "label": "First row number", "default": "1"}]},
    {"type": "geojson", "label": "GeoJSON", "parameters": []},
]
ORIGINS = {"http": "HTTP", "ftp": "FTP", "uploaded_file": "Uploaded file", "federated": "Federated dataset",
           "sharepoint": "SharePoint", "google_drive": "Google Drive", "amazon_s3": "Amazon S3",
           "azure_blob_storage": "Azure Blob Storage"}


def _validate_resource(ctx: Ctx, ds: SandboxDataset, body: dict) -> None:
    require_fields(body, ("type", "title", "datasource"))
    check_types(body, {"type": str, "title": str, "params": dict, "datasource": dict})
    source = body["datasource"]
    if not isinstance(source, dict) or not source.get("type"):
        raise invalid({"datasource": {"type": ["This field is required."]}})
    if body["type"] not in {e["type"] for e in EXTRACTORS}:
        raise invalid({"type": [f"\u201c{body['type']}\u201d is not a known extractor."]})
    if source["type"] == "uploaded_file":
        file_uid = (source.get("file") or {}).get("uid") if isinstance(source.get("file"), dict) else None
        if not file_uid or not objects(ctx.portal, "file", ds.uid).filter(key=file_uid).exists():
            raise invalid({"datasource": {"file": ["This file does not exist."]}})
    elif source["type"] == "http" and not source.get("connection"):
        raise invalid({"datasource": {"connection": ["This field is required."]}})


def _resource_json(ctx: Ctx, data: dict, dataset_uid: str = "") -> dict:
    out = public(data)
    source = out.get("datasource") or {}
    label = next((e["label"] for e in EXTRACTORS if e["type"] == out.get("type")), out.get("type"))
    out["extraction_infos"] = {"label": label, "type": out.get("type")}
    out["origin"] = {"label": ORIGINS.get(source.get("type"), source.get("type", "")), "type": source.get("type", "")}
    if source.get("type") == "uploaded_file":
        out["display_name"] = (source.get("file") or {}).get("uid") or out.get("title")
        # The spec lets `file` be the whole DatasetFile: the sandbox gives it (name, type and, its own extra, size).
        found = objects(ctx.portal, "file", dataset_uid).filter(key=out["display_name"]).first() if dataset_uid else None
        if found is not None:
            out["datasource"] = {**source, "file": public(found.data)}
    else:
        out["display_name"] = source.get("relative_url") or out.get("title")
    out.setdefault("params", {})
    return out


@route("GET", "/datasets/{dataset_uid}/resources/")
def resource_list(ctx: Ctx, dataset_uid):
    ds = get_dataset(ctx, dataset_uid)
    return paginate_list(ctx, [o.data for o in objects(ctx.portal, "resource", ds.uid)],
                         lambda d: _resource_json(ctx, d, ds.uid))


@route("POST", "/datasets/{dataset_uid}/resources/")
def resource_create(ctx: Ctx, dataset_uid):
    ds = get_dataset(ctx, dataset_uid, lock=True)
    body = {k: v for k, v in ctx.json().items() if k not in ("uid", "display_name", "origin", "extraction_infos")}
    _validate_resource(ctx, ds, body)
    uid = new_uid("re")
    if body["type"] == "realtime":  # pushed to with its own key; enabled from the start
        body["params"] = {**(body.get("params") or {}), "enabled": True, "push_api_key": secrets.token_hex(16)}
    obj = obj_create(ctx.portal, "resource", uid, {"uid": uid, **body, "updated_at": clock.iso(ctx.now)},
                     parent=ds.uid)
    dataset_changed(ctx, ds, ["data"])
    return 201, _resource_json(ctx, obj.data, ds.uid)


@route("GET", "/datasets/{dataset_uid}/resources/{resource_uid}/")
def resource_get(ctx: Ctx, dataset_uid, resource_uid):
    ds = get_dataset(ctx, dataset_uid)
    return 200, _resource_json(ctx, obj_get(ctx.portal, "resource", resource_uid, ds.uid).data, ds.uid)


@route("PUT", "/datasets/{dataset_uid}/resources/{resource_uid}/")
def resource_put(ctx: Ctx, dataset_uid, resource_uid):
    ds = get_dataset(ctx, dataset_uid, lock=True)
    obj = obj_get(ctx.portal, "resource", resource_uid, ds.uid)
    body = {k: v for k, v in ctx.json().items() if k not in ("uid", "display_name", "origin", "extraction_infos")}
    merged = {**obj.data, **body, "updated_at": clock.iso(ctx.now)}
    _validate_resource(ctx, ds, merged)
    obj.data = merged
    obj.save(update_fields=["data"])
    dataset_changed(ctx, ds, ["data"])
    return 200, _resource_json(ctx, obj.data, ds.uid)


@route("DELETE", "/datasets/{dataset_uid}/resources/{resource_uid}/")
def resource_delete(ctx: Ctx, dataset_uid, resource_uid):
    ds = get_dataset(ctx, dataset_uid, lock=True)
    obj_get(ctx.portal, "resource", resource_uid, ds.uid).delete()
    dataset_changed(ctx, ds, ["data"])
    return deleted()


def _preview(ctx: Ctx, ds: SandboxDataset, body: dict) -> dict:
    """The records the extractor `body["type"]` reads with `body["params"]` from the datasource's content."""
    raw, name = content.source_content(ctx, ds.uid, body.get("datasource") or {})
    return content.preview(raw, body.get("type") or content.guess_extractor(raw, name), body.get("params") or {})


@route("GET", "/datasets/{dataset_uid}/resources/{resource_uid}/preview/")
def resource_preview(ctx: Ctx, dataset_uid, resource_uid):
    ds = get_dataset(ctx, dataset_uid)
    obj = obj_get(ctx.portal, "resource", resource_uid, ds.uid)
    return 200, processing.apply_processing(ctx, ds.uid, _preview(ctx, ds, obj.data))


@route("POST", "/datasets/{dataset_uid}/resources/preview/")
def resource_unsaved_preview(ctx: Ctx, dataset_uid):
    ds = get_dataset(ctx, dataset_uid)
    body = ctx.json()
    require_fields(body, ("type", "datasource"))
    check_types(body, {"type": str, "params": dict, "datasource": dict})
    if body["datasource"].get("type") == "uploaded_file":
        _validate_resource(ctx, ds, {"title": "preview", **body})
    return 200, _preview(ctx, ds, body)


def _guessed_extractors(ctx: Ctx, ds: SandboxDataset, source: dict) -> list[dict]:
    raw, name = content.source_content(ctx, ds.uid, source)
    best = content.guess_extractor(raw, name)
    return [e for e in EXTRACTORS if e["type"] == best]


@route("POST", "/datasets/{dataset_uid}/resources/guess_extractors/")
def resource_guess_unsaved(ctx: Ctx, dataset_uid):
    ds = get_dataset(ctx, dataset_uid)
    require_fields(ctx.json(), ("datasource",))
    check_types(ctx.json(), {"datasource": dict})
    return 200, _guessed_extractors(ctx, ds, ctx.json()["datasource"])


@route("GET", "/datasets/{dataset_uid}/resources/{resource_uid}/guess_extractors/")
def resource_guess(ctx: Ctx, dataset_uid, resource_uid):
    ds = get_dataset(ctx, dataset_uid)
    obj = obj_get(ctx.portal, "resource", resource_uid, ds.uid)
    return 200, _guessed_extractors(ctx, ds, obj.data.get("datasource") or {})


@route("POST", "/datasets/{dataset_uid}/resources/{resource_uid}/clean_cache/")
def resource_clean_cache(ctx: Ctx, dataset_uid, resource_uid):
    obj_get(ctx.portal, "resource", resource_uid, get_dataset(ctx, dataset_uid).uid)
    return deleted()


@route("GET", "/datasets/{dataset_uid}/resources/{resource_uid}/guess_extractors_params/")
def resource_guess_params(ctx: Ctx, dataset_uid, resource_uid):
    ds = get_dataset(ctx, dataset_uid)
    obj = obj_get(ctx.portal, "resource", resource_uid, ds.uid)
    raw, _name = content.source_content(ctx, ds.uid, obj.data.get("datasource") or {})
    extractor = obj.data.get("type", "csvfile")
    return 200, {"extractor": extractor, "params": content.guess_params(raw, extractor)}


@route("POST", "/datasets/{dataset_uid}/resources/guess_extractor_params/")
def resource_guess_params_unsaved(ctx: Ctx, dataset_uid):
    ds = get_dataset(ctx, dataset_uid)
    body = ctx.json()
    require_fields(body, ("type", "datasource"))
    check_types(body, {"type": str, "datasource": dict})
    raw, _name = content.source_content(ctx, ds.uid, body["datasource"])
    return 200, {"extractor": body["type"], "params": content.guess_params(raw, body["type"])}


def _realtime(action):
    def handler(ctx: Ctx, dataset_uid, resource_uid):
        ds = get_dataset(ctx, dataset_uid, lock=True)
        obj = obj_get(ctx.portal, "resource", resource_uid, ds.uid)
        if obj.data.get("type") != "realtime":
            raise ApiError(400, "invalid_dataset_status", f"The resource is not a realtime resource: cannot {action}.")
        if action in ("recover", "delete_recover_data") and not ds.is_published:
            raise ApiError(400, "invalid_dataset_status", "The dataset must be published to recover realtime data.")
        changes = {"enable": {"enabled": True}, "disable": {"enabled": False},
                   "renew_api_key": {"push_api_key": secrets.token_hex(16)}}.get(action, {})
        obj.data = {**obj.data, "params": {**obj.data.get("params", {}), **changes},
                    "updated_at": clock.iso(ctx.now)}
        obj.save(update_fields=["data"])
        return 200, _resource_json(ctx, obj.data, ds.uid)
    return handler


for _action_name in ("recover", "delete_recover_data", "enable", "disable", "renew_api_key"):
    route("POST", f"/datasets/{{dataset_uid}}/resources/{{resource_uid}}/{_action_name}/")(_realtime(_action_name))


@route("GET", "/extractors/")
def extractors(ctx: Ctx):
    return 200, EXTRACTORS


@route("GET", "/processors/")
def processor_types(ctx: Ctx):
    return 200, processing.PROCESSORS


# ---------------------------------------------------------------- processors, fields, schedules, rulesets

FIELD_REQUIRED = {"rename": ("from_name", "to_name", "field_label"), "type": ("field", "type_param"),
                  "annotate": ("field", "annotation"), "description": ("field", "description"),
                  "order": ("args",), "delete": ("field",)}


def _validate_field(ctx, body):
    require_fields(body, ("type", "label"))
    check_types(body, {"type": str, "label": str, "field": str, "from_name": str, "to_name": str,
                       "field_label": str, "annotation": str, "description": str, "args": list})
    if body["type"] not in FIELD_REQUIRED:
        raise invalid({"type": [f"\"{body['type']}\" is not a valid choice."]})
    require_fields(body, FIELD_REQUIRED[body["type"]])


def _validate_user_ruleset(ctx, body):
    if not isinstance(body.get("user"), dict) or not isinstance(body["user"].get("username"), str) \
            or not body["user"]["username"]:
        raise invalid({"user": {"username": ["This field is required."]}})
    _ruleset_types(body)


def _ruleset_types(body):
    check_types(body, {"permissions": STR_LIST, "security": dict})
    bad = [p for p in body.get("permissions", []) if p not in DATASET_PERMISSIONS]
    if bad:
        raise invalid({"permissions": [f"\"{bad[0]}\" is not a valid choice."]})


def _validate_group_ruleset(ctx, body):
    if not isinstance(body.get("group"), dict) or not isinstance(body["group"].get("uid"), str) \
            or not body["group"]["uid"]:
        raise invalid({"group": {"uid": ["This field is required."]}})
    _ruleset_types(body)


DATASET_PERMISSIONS = ("explore_restricted_dataset", "edit_dataset", "publish_dataset", "manage_dataset")


crud("/datasets/{dataset_uid}/processors/", "processor", key_param="processor_uid", prefix="pr",
     validate=processing.validate_processor, section="processors", put_replaces=True)
crud("/datasets/{dataset_uid}/fields/", "field", key_param="field_uid", prefix="fi", validate=_validate_field,
     section="fields", put_replaces=True)
crud("/datasets/{dataset_uid}/schedules/", "schedule", key_param="schedule_uid", prefix="sc",
     validate=lambda ctx, body: validate_cron(body), section="schedules")
crud("/datasets/{dataset_uid}/security/users/", "sec_user", key_param="username",
     key_from=lambda b: b["user"]["username"], validate=_validate_user_ruleset, section="security", readonly=())
crud("/datasets/{dataset_uid}/security/groups/", "sec_group", key_param="group_uid",
     key_from=lambda b: b["group"]["uid"], validate=_validate_group_ruleset, section="security", readonly=())


# ---------------------------------------------------------------- versions

@route("GET", "/datasets/{dataset_uid}/versions/")
def version_list(ctx: Ctx, dataset_uid):
    ds = get_dataset(ctx, dataset_uid)
    items = [o.data for o in objects(ctx.portal, "version", ds.uid).order_by("-id")]
    return paginate_list(ctx, items, public)


@route("GET", "/datasets/{dataset_uid}/versions/{version_uid}/")
def version_get(ctx: Ctx, dataset_uid, version_uid):
    return 200, public(obj_get(ctx.portal, "version", version_uid, get_dataset(ctx, dataset_uid).uid).data)


@route("POST", "/datasets/{dataset_uid}/versions/{version_uid}/restore/")
def version_restore(ctx: Ctx, dataset_uid, version_uid):
    ds = get_dataset(ctx, dataset_uid, lock=True)
    snapshot = obj_get(ctx.portal, "version", version_uid, ds.uid).data["_snapshot"]
    ds.data = {**ds.data, **{k: v for k, v in snapshot.items() if k != "dataset_id" and v is not None}}
    if not ds.is_published and not _dataset_id_taken(ctx, snapshot["dataset_id"], ds.pk):
        ds.dataset_id = snapshot["dataset_id"]
    dataset_changed(ctx, ds, ["metadata", "security"])
    return 200, dataset_json(ds, ctx.now, ctx.portal)


# ---------------------------------------------------------------- attachments, alternative exports, feedbacks

@route("GET", "/datasets/{dataset_uid}/attachments/")
def attachment_list(ctx: Ctx, dataset_uid):
    ds = get_dataset(ctx, dataset_uid)
    return paginate_list(ctx, [o.data for o in objects(ctx.portal, "attachment", ds.uid)])


@route("POST", "/datasets/{dataset_uid}/attachments/")
def attachment_create(ctx: Ctx, dataset_uid):
    ds = get_dataset(ctx, dataset_uid, lock=True)
    upload = _uploaded(ctx)
    uid = _unique_key(ctx, "attachment", ds.uid, upload.name)
    obj = obj_create(ctx.portal, "attachment", uid, _file_json(ctx, upload, uid), parent=ds.uid,
                     blob=upload.read())
    dataset_changed(ctx, ds, ["attachments"])
    return 201, obj.data


@route("GET", "/datasets/{dataset_uid}/attachments/{attachment_uid}/")
def attachment_get(ctx: Ctx, dataset_uid, attachment_uid):
    return 200, obj_get(ctx.portal, "attachment", attachment_uid, get_dataset(ctx, dataset_uid).uid).data


@route("DELETE", "/datasets/{dataset_uid}/attachments/{attachment_uid}/")
def attachment_delete(ctx: Ctx, dataset_uid, attachment_uid):
    ds = get_dataset(ctx, dataset_uid, lock=True)
    obj_get(ctx.portal, "attachment", attachment_uid, ds.uid).delete()
    dataset_changed(ctx, ds, ["attachments"])
    return deleted()


@route("GET", "/datasets/{dataset_uid}/attachments/{attachment_uid}/download/")
def attachment_download(ctx: Ctx, dataset_uid, attachment_uid):
    return _download(obj_get(ctx.portal, "attachment", attachment_uid, get_dataset(ctx, dataset_uid).uid))


@route("GET", "/datasets/{dataset_uid}/alternative_exports/")
def export_list(ctx: Ctx, dataset_uid):
    ds = get_dataset(ctx, dataset_uid)
    return paginate_list(ctx, [o.data for o in objects(ctx.portal, "alt_export", ds.uid)], public)


@route("POST", "/datasets/{dataset_uid}/alternative_exports/")
def export_create(ctx: Ctx, dataset_uid):
    ds = get_dataset(ctx, dataset_uid, lock=True)
    form = ctx.request.POST
    errors = {n: ["This field is required."] for n in ("title", "type") if not form.get(n)}
    if form.get("type") and form["type"] != "uploaded_file":
        errors["type"] = [f"\"{form['type']}\" is not a valid choice."]
    if "file" not in ctx.request.FILES:
        errors["file"] = ["No file was submitted."]
    if errors:
        raise invalid(errors)
    upload = ctx.request.FILES["file"]
    uid = new_uid("ae")
    stamp = clock.iso(ctx.now)
    data = {"uid": uid, "title": form["title"], "description": form.get("description", ""),
            "mimetype": upload.content_type or mimetypes.guess_type(upload.name)[0] or "application/octet-stream",
            "type": "uploaded_file", "filename": upload.name, "created_at": stamp, "updated_at": stamp}
    obj = obj_create(ctx.portal, "alt_export", uid, data, parent=ds.uid, blob=upload.read())
    dataset_changed(ctx, ds, ["alternative_exports"])
    return 201, obj.data


@route("GET", "/datasets/{dataset_uid}/alternative_exports/{export_uid}/")
def export_get(ctx: Ctx, dataset_uid, export_uid):
    return 200, obj_get(ctx.portal, "alt_export", export_uid, get_dataset(ctx, dataset_uid).uid).data


@route("PUT", "/datasets/{dataset_uid}/alternative_exports/{export_uid}/")
def export_put(ctx: Ctx, dataset_uid, export_uid):
    ds = get_dataset(ctx, dataset_uid, lock=True)
    obj = obj_get(ctx.portal, "alt_export", export_uid, ds.uid)
    body = ctx.json()
    require_fields(body, ("title", "type"))
    check_types(body, {"title": str, "type": str, "description": str})
    obj.data = {**obj.data, "title": body["title"], "description": body.get("description", obj.data["description"]),
                "updated_at": clock.iso(ctx.now)}
    obj.save(update_fields=["data"])
    dataset_changed(ctx, ds, ["alternative_exports"])
    return 200, obj.data


@route("DELETE", "/datasets/{dataset_uid}/alternative_exports/{export_uid}/")
def export_delete(ctx: Ctx, dataset_uid, export_uid):
    ds = get_dataset(ctx, dataset_uid, lock=True)
    obj_get(ctx.portal, "alt_export", export_uid, ds.uid).delete()
    dataset_changed(ctx, ds, ["alternative_exports"])
    return deleted()


@route("GET", "/datasets/{dataset_uid}/alternative_exports/{export_uid}/download/")
def export_download(ctx: Ctx, dataset_uid, export_uid):
    obj = obj_get(ctx.portal, "alt_export", export_uid, get_dataset(ctx, dataset_uid).uid)
    if obj.data.get("type") == "url":
        return HttpResponseRedirect(obj.data.get("url", "/"), status=303)
    return _download(obj)


@route("GET", "/datasets/{dataset_uid}/feedbacks/")
def feedback_list(ctx: Ctx, dataset_uid):
    ds = get_dataset(ctx, dataset_uid)
    items = [o.data for o in objects(ctx.portal, "feedback", ds.uid)]
    archived = ctx.flag("is_archived")
    if archived is not None:
        items = [f for f in items if f.get("is_archived") == archived]
    if ctx.param("record_id"):
        items = [f for f in items if f.get("record_id") == ctx.param("record_id")]
    sort = ctx.param("sort")
    if sort:
        items.sort(key=lambda f: f.get(sort.lstrip("-")) or "", reverse=sort.startswith("-"))
    return paginate_list(ctx, items)


@route("GET", "/datasets/{dataset_uid}/feedbacks/{feedback_uid}/")
def feedback_get(ctx: Ctx, dataset_uid, feedback_uid):
    return 200, obj_get(ctx.portal, "feedback", feedback_uid, get_dataset(ctx, dataset_uid).uid).data


@route("POST", "/datasets/{dataset_uid}/feedbacks/{feedback_uid}/archive/")
def feedback_archive(ctx: Ctx, dataset_uid, feedback_uid):
    obj = obj_get(ctx.portal, "feedback", feedback_uid, get_dataset(ctx, dataset_uid).uid)
    obj.data = {**obj.data, "is_archived": True}
    obj.save(update_fields=["data"])
    return 200, obj.data
