"""The sandbox's processor catalogue, its check of processor bodies, and the processing of previews.

`GET /processors/` lists each type with parameter definitions in the shape `/extractors/` uses (GUESS: the spec
only says items are DatasetProcessor objects; portaladmin reads either). A saved resource's preview applies the
dataset's processors, then its field configurations (rename, type, annotate, description, delete, order), so the
schema a person sees follows their changes. Unknown types are refused (400) as a portal would.
"""

from __future__ import annotations

import re

from ..api import invalid
from ..store import objects, require_fields

P = {"is_mandatory": True}
PROCESSORS = [
    {"type": "string_replace", "label": "Replace text", "parameters": [
        {"name": "field", "label": "Field", "type": "field", **P},
        {"name": "old", "label": "Text to find", "type": "string", **P},
        {"name": "new", "label": "Replace with", "type": "string", "is_mandatory": False, "default": ""}]},
    {"type": "replace_regexp", "label": "Replace with a regular expression", "parameters": [
        {"name": "field", "label": "Field", "type": "field", **P},
        {"name": "regexp", "label": "Regular expression", "type": "string", **P},
        {"name": "replace", "label": "Replace with", "type": "string", "is_mandatory": False, "default": ""}]},
    {"type": "concat", "label": "Concatenate fields", "parameters": [
        {"name": "fields", "label": "Fields to join", "type": "fields", **P},
        {"name": "separator", "label": "Separator", "type": "string", "is_mandatory": False, "default": " "},
        {"name": "output_field", "label": "New field", "type": "new_field", **P}]},
    {"type": "copy_field", "label": "Copy a field", "parameters": [
        {"name": "field", "label": "Field", "type": "field", **P},
        {"name": "output_field", "label": "New field", "type": "new_field", **P}]},
    {"type": "set_field", "label": "Create a field with a fixed value", "parameters": [
        {"name": "output_field", "label": "New field", "type": "new_field", **P},
        {"name": "value", "label": "Value", "type": "string", "is_mandatory": False, "default": ""}]},
    {"type": "normalize_date", "label": "Normalize a date", "parameters": [
        {"name": "field", "label": "Field", "type": "field", **P},
        {"name": "format", "label": "Input format", "type": "string", "is_mandatory": False, "default": "%d/%m/%Y"}]},
    {"type": "geo_join", "label": "Geo join"},  # listed without definitions, as a portal may
]
TYPES = {p["type"]: p for p in PROCESSORS}


def validate_processor(ctx, body: dict) -> None:
    require_fields(body, ("type", "label"))
    definition = TYPES.get(body.get("type"))
    if definition is None:
        raise invalid({"type": [f"\"{body.get('type')}\" is not a known processor."]})
    missing = [p["name"] for p in definition.get("parameters", []) if p.get("is_mandatory")
               and body.get(p["name"], (body.get("args") or {}).get(p["name"])) in (None, "", [])]
    if missing:
        raise invalid({name: ["This field is required."] for name in missing})


def _param(proc: dict, name: str, default=None):
    return proc.get(name, (proc.get("args") or {}).get(name, default))


def _apply_processor(proc: dict, fields: list[dict], records: list[dict]) -> None:
    kind = proc.get("type")
    names = [f["name"] for f in fields]

    def add_field(name):
        if name and name not in names:
            fields.append({"name": name, "label": name, "original_name": name, "type": "text", "annotations": [],
                           "description": ""})
            names.append(name)

    for record in records:
        if kind == "string_replace" and _param(proc, "field") in record and _param(proc, "old"):
            value = record.get(_param(proc, "field"))
            if isinstance(value, str):
                record[_param(proc, "field")] = value.replace(_param(proc, "old"), _param(proc, "new", "") or "")
        elif kind == "replace_regexp" and _param(proc, "field") in record:
            value = record.get(_param(proc, "field"))
            try:
                if isinstance(value, str):
                    record[_param(proc, "field")] = re.sub(_param(proc, "regexp", "") or "(?!)",
                                                           _param(proc, "replace", "") or "", value[:1000])
            except re.error:
                pass
        elif kind == "concat" and _param(proc, "output_field"):
            parts = [str(record.get(n) or "") for n in (_param(proc, "fields") or []) if isinstance(n, str)]
            record[_param(proc, "output_field")] = (_param(proc, "separator", " ") or "").join(parts)
        elif kind == "copy_field" and _param(proc, "output_field"):
            record[_param(proc, "output_field")] = record.get(_param(proc, "field"))
        elif kind == "set_field" and _param(proc, "output_field"):
            record[_param(proc, "output_field")] = _param(proc, "value", "")
    if kind in ("concat", "copy_field", "set_field"):
        add_field(_param(proc, "output_field"))


def _apply_field_config(config: dict, fields: list[dict], records: list[dict]) -> list[dict]:
    kind = config.get("type")
    # A field is found by its name or by a name it had before a rename (configurations made on either).
    by_name = {n: f for f in fields for n in (*f.get("_was", []), f["name"])}
    target = by_name.get(config.get("field") or config.get("from_name"))
    if kind == "rename" and target:
        old, new = target["name"], config.get("to_name") or target["name"]
        target["_was"] = [*target.get("_was", []), old]
        target["name"], target["label"] = new, config.get("field_label") or target["label"]
        for record in records:
            if old in record:
                record[new] = record.pop(old)
    elif kind == "type" and target:
        target["type"] = config.get("type_param") or target["type"]
    elif kind == "annotate" and target and config.get("annotation") not in target["annotations"]:
        target["annotations"] = [*target["annotations"], config.get("annotation")]
    elif kind == "description" and target:
        target["description"] = config.get("description") or ""
    elif kind == "delete" and target:
        fields = [f for f in fields if f is not target]
    elif kind == "order" and isinstance(config.get("args"), list):
        chosen: list[dict] = []
        for name in config["args"]:
            if name in by_name and all(by_name[name] is not c for c in chosen):
                chosen.append(by_name[name])
        fields = chosen + [f for f in fields if all(f is not c for c in chosen)]
    return fields


def apply_processing(ctx, dataset_uid: str, preview: dict) -> dict:
    fields = [dict(f) for f in preview.get("fields", [])]
    records = [dict(r) for r in preview.get("records", [])]
    for proc in objects(ctx.portal, "processor", dataset_uid):
        _apply_processor(proc.data, fields, records)
    for config in objects(ctx.portal, "field", dataset_uid):
        fields = _apply_field_config(config.data, fields, records)
    names = [f["name"] for f in fields]
    fields = [{k: v for k, v in f.items() if k != "_was"} for f in fields]
    return {**preview, "fields": fields, "records": [{n: r.get(n) for n in names} for r in records]}
