"""The processor catalogue: which processor types a portal offers, and a form for each built from its
parameter definitions (required, type, default), so nobody types a processor as raw JSON.

Where the definitions come from: the spec's `GET /processors/` answers items typed as DatasetProcessor — `type`,
`label` and free additional properties (its sample `string_replace` has `field`, `old`, `new`). A portal that
describes parameters the way `/extractors/` does (`parameters: [{name, label, type, is_mandatory, default,
choices?}]`) is read as is; for the types it lists without definitions, the definitions below (the processors
of the Opendatasoft documentation) are used; a listed type known to neither gets one "parameters (JSON
object)" field, said so on screen. A type the portal does not list is refused before anything is sent.

Parameters are sent at the top level of the processor object, next to `type` and `label` (the spec's sample).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from django import forms

# Parameter types: text (one line), long (several lines), field (a field of the dataset), fields (several,
# comma-separated), new_field (the name of a field the processor creates), choice, boolean, integer.
KNOWN_PARAM_TYPES = {"text", "long", "field", "fields", "new_field", "choice", "boolean", "integer", "json"}
NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")

BUILT_IN: dict[str, dict] = {
    "string_replace": {"label": "Replace text", "parameters": [
        {"name": "field", "label": "Field", "type": "field", "is_mandatory": True},
        {"name": "old", "label": "Text to find", "type": "text", "is_mandatory": True},
        {"name": "new", "label": "Replace with", "type": "text", "default": ""}]},
    "replace_regexp": {"label": "Replace with a regular expression", "parameters": [
        {"name": "field", "label": "Field", "type": "field", "is_mandatory": True},
        {"name": "regexp", "label": "Regular expression", "type": "text", "is_mandatory": True},
        {"name": "replace", "label": "Replace with", "type": "text", "default": ""}]},
    "concat": {"label": "Concatenate fields", "parameters": [
        {"name": "fields", "label": "Fields to join", "type": "fields", "is_mandatory": True},
        {"name": "separator", "label": "Separator", "type": "text", "default": " "},
        {"name": "output_field", "label": "New field", "type": "new_field", "is_mandatory": True}]},
    "copy_field": {"label": "Copy a field", "parameters": [
        {"name": "field", "label": "Field", "type": "field", "is_mandatory": True},
        {"name": "output_field", "label": "New field", "type": "new_field", "is_mandatory": True}]},
    "set_field": {"label": "Create a field with a fixed value", "parameters": [
        {"name": "output_field", "label": "New field", "type": "new_field", "is_mandatory": True},
        {"name": "value", "label": "Value", "type": "text", "default": ""}]},
    "normalize_date": {"label": "Normalize a date", "parameters": [
        {"name": "field", "label": "Field", "type": "field", "is_mandatory": True},
        {"name": "format", "label": "Input format", "type": "text", "default": "%d/%m/%Y"}]},
    "geo_join": {"label": "Geo join", "parameters": [
        {"name": "field", "label": "Field", "type": "field", "is_mandatory": True}]},
}
RESERVED = {"uid", "type", "label"}


@dataclass
class ProcessorType:
    type: str
    label: str
    parameters: list[dict] = field(default_factory=list)
    source: str = "portal"  # portal | built-in | none (no definition known: one JSON field)


def catalogue_from(items: list[dict]) -> dict[str, ProcessorType]:
    """The portal's `/processors/` items → {type: ProcessorType}, in the portal's order."""
    out: dict[str, ProcessorType] = {}
    for item in items:
        kind = str(item.get("type") or "").strip()
        if not kind or kind in out:
            continue
        label = str(item.get("label") or BUILT_IN.get(kind, {}).get("label") or kind)
        params = _definitions(item.get("parameters"))
        if params is not None:
            out[kind] = ProcessorType(kind, label, params, "portal")
        elif kind in BUILT_IN:
            out[kind] = ProcessorType(kind, label, _definitions(BUILT_IN[kind]["parameters"]) or [], "built-in")
        else:
            out[kind] = ProcessorType(kind, label, [], "none")
    return out


def _definitions(raw) -> list[dict] | None:
    if not isinstance(raw, list) or not raw:
        return None
    defs = []
    for p in raw:
        if not isinstance(p, dict) or not isinstance(p.get("name"), str) or p["name"] in RESERVED:
            continue
        kind = str(p.get("type") or "text")
        defs.append({"name": p["name"], "label": str(p.get("label") or p["name"]),
                     "type": kind if kind in KNOWN_PARAM_TYPES else _portal_type(kind),
                     "is_mandatory": bool(p.get("is_mandatory") or p.get("required")),
                     "default": p.get("default"), "choices": p.get("choices") or p.get("values") or [],
                     "help": str(p.get("description") or p.get("help") or "")})
    return defs


def _portal_type(kind: str) -> str:
    """The extractors' vocabulary (string, int, boolean, enum, list…) in ours."""
    return {"string": "text", "str": "text", "int": "integer", "integer": "integer", "number": "integer",
            "bool": "boolean", "boolean": "boolean", "enum": "choice", "list": "fields", "array": "fields",
            "object": "json", "dict": "json"}.get(kind.lower(), "text")


class ProcessorParamsForm(forms.Form):
    """label + one input per parameter definition; `body()` is what is sent."""

    label = forms.CharField(required=False, max_length=255, help_text="What this step does, in your words.")

    def __init__(self, *args, ptype: ProcessorType, field_names: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.ptype = ptype
        self.field_names = field_names or []
        if ptype.source == "none":
            self.fields["params"] = forms.CharField(
                required=False, label="Parameters (JSON object)", initial="{}",
                widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
                help_text="The portal describes no parameters for this type: give them as a JSON object.")
        for p in ptype.parameters:
            self.fields[f"p_{p['name']}"] = self._field(p)

    def _field(self, p: dict) -> forms.Field:
        common = {"required": p["is_mandatory"] and p["type"] != "boolean", "label": p["label"],
                  "help_text": p.get("help", "")}
        default = p.get("default")
        kind = p["type"]
        if kind == "boolean":
            return forms.BooleanField(initial=bool(default), **{**common, "required": False})
        if kind == "integer":
            return forms.IntegerField(initial=default, **common)
        if kind == "choice" and p.get("choices"):
            choices = [(str(c), str(c)) for c in p["choices"]]
            return forms.ChoiceField(choices=[("", "—"), *choices] if not common["required"] else choices,
                                     initial=default, **common)
        if kind == "field" and self.field_names:
            choices = [(n, n) for n in self.field_names]
            return forms.ChoiceField(choices=[("", "—"), *choices] if not common["required"] else choices,
                                     initial=default, **common)
        if kind == "long" or kind == "json":
            return forms.CharField(initial=default if kind == "long" else json.dumps(default or {}),
                                   widget=forms.Textarea(attrs={"rows": 3}), **common)
        help_text = common.pop("help_text") or ("Comma-separated field names." if kind == "fields" else
                                                "A new field name: lowercase letters, digits, _." if
                                                kind == "new_field" else "")
        return forms.CharField(initial=", ".join(default) if isinstance(default, list) else default,
                               strip=False if kind == "text" else True, help_text=help_text, **common)

    def clean(self):
        data = super().clean()
        for p in self.ptype.parameters:
            key = f"p_{p['name']}"
            if key not in data or key in self.errors:
                continue
            value = data[key]
            if p["type"] == "fields":
                names = [v.strip() for v in (value or "").split(",") if v.strip()]
                if p["is_mandatory"] and not names:
                    self.add_error(key, "Name at least one field.")
                unknown = [n for n in names if self.field_names and n not in self.field_names]
                if unknown:
                    self.add_error(key, f"The dataset has no field {unknown[0]!r}.")
                data[key] = names
            elif p["type"] == "new_field" and value:
                if not NAME_RE.match(value):
                    self.add_error(key, "Use lowercase letters, digits and _ (starting with a letter).")
                elif value in self.field_names:
                    self.add_error(key, f"The dataset already has a field {value!r}.")
            elif p["type"] == "json":
                try:
                    data[key] = json.loads(value or "null")
                except ValueError:
                    self.add_error(key, "Not valid JSON.")
        if "params" in self.fields and "params" not in self.errors:
            try:
                params = json.loads(data.get("params") or "{}")
            except ValueError:
                params = None
            if not isinstance(params, dict):
                self.add_error("params", 'Give a JSON object, like {"field": "name"}.')
            else:
                data["params"] = params
        return data

    def body(self) -> dict:
        data = self.cleaned_data
        params: dict = {k: v for k, v in (data.get("params") or {}).items() if k not in RESERVED}
        for p in self.ptype.parameters:
            value = data.get(f"p_{p['name']}")
            if value in (None, "") and not p["is_mandatory"] and p["type"] not in ("text",):
                continue
            params[p["name"]] = "" if value is None else value
        return {"type": self.ptype.type, "label": data.get("label") or self.ptype.label, **params}


def initial_from(processor_raw: dict, ptype: ProcessorType) -> dict:
    """A saved processor's values as the form's initial data (for editing)."""
    initial = {"label": processor_raw.get("label", "")}
    for p in ptype.parameters:
        value = processor_raw.get(p["name"], (processor_raw.get("args") or {}).get(p["name"]))
        if value is None:
            continue
        if p["type"] == "fields" and isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif p["type"] == "json":
            value = json.dumps(value)
        initial[f"p_{p['name']}"] = value
    if ptype.source == "none":
        extra = {k: v for k, v in processor_raw.items() if k not in RESERVED}
        initial["params"] = json.dumps(extra, ensure_ascii=False, indent=1)
    return initial
