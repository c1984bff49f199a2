"""Custom metadata templates: the template's own properties and one row per field definition (no remote calls).

A template's field carries more than the rows show (labels per language, i18n, is_filter, self_suggest …): each
row keeps the field's original name (`original`), and the body sent back starts from that field's stored
definition, so properties this form does not show survive an edit untouched.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

FIELD_TYPES = [("text", "Text (one line)"), ("longstring", "Long text"), ("html", "HTML (rich text)"),
               ("multitext", "Text (several lines)"), ("list", "List of texts"), ("enum", "One of a list of values"),
               ("enumlist", "Several of a list of values"), ("boolean", "Yes / no"), ("int", "Whole number"),
               ("double", "Number"), ("date", "Date"), ("datetime", "Date and time"),
               ("uri_enum", "One of a list of URIs"), ("uri_enumlist", "Several of a list of URIs"),
               ("geo_shape", "Geographic shape"), ("geo_area", "Geographic area")]
CHOICE_TYPES = ("enum", "enumlist", "uri_enum", "uri_enumlist")
REQUIREMENTS = [("optional", "Optional"), ("recommended", "Recommended"), ("mandatory", "Mandatory")]
NAME = re.compile(r"^[a-z0-9_]{1,64}$")
NAME_HELP = "Lower-case letters, digits and underscores (it cannot change later)."
EXTRA_ROWS = 3


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=64, help_text=NAME_HELP)
    title = forms.CharField(max_length=200)
    type = forms.ChoiceField(choices=[("basic", "Basic (shown on the portal)"), ("admin", "Admin (back-office only)")],
                             label="Kind")
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:  # the name is the template's identifier in every URL: it never changes
            self.fields["name"].disabled = True
            self.fields["name"].help_text = ""

    def clean_name(self):
        name = self.cleaned_data["name"]
        if not NAME.match(name):
            raise forms.ValidationError(NAME_HELP)
        return name


class TemplateFieldForm(forms.Form):
    original = forms.CharField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(max_length=64, required=False)
    label = forms.CharField(max_length=200, required=False)
    type = forms.ChoiceField(choices=FIELD_TYPES, initial="text")
    requirement_level = forms.ChoiceField(choices=REQUIREMENTS, initial="optional", label="Requirement")
    choices = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), strip=False,
                              label="Allowed values", help_text="One per line (lists of values only).")
    help_text = forms.CharField(max_length=500, required=False, label="Help")

    def clean(self):
        data = super().clean()
        name = (data.get("name") or "").strip()
        data["name"] = name
        if not name:
            return data  # an empty row: ignored (the formset checks there is at least one field)
        if not NAME.match(name):
            self.add_error("name", NAME_HELP)
        values = [v.strip() for v in (data.get("choices") or "").replace("\r\n", "\n").split("\n") if v.strip()]
        data["choice_list"] = values
        if data.get("type") in CHOICE_TYPES and not values:
            self.add_error("choices", "List the allowed values, one per line.")
        return data


class BaseTemplateFieldFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        names = [f.cleaned_data.get("name") for f in self.forms if f.cleaned_data.get("name")]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise forms.ValidationError(f"Each field needs its own name: {', '.join(duplicates)} is used twice.")


TemplateFieldFormSet = forms.formset_factory(TemplateFieldForm, formset=BaseTemplateFieldFormSet, extra=0,
                                             max_num=200, absolute_max=200)


def field_initial(schema: list[dict]) -> list[dict]:
    return [{"original": f.get("name", ""), "name": f.get("name", ""), "label": f.get("label") or "",
             "type": f.get("type") or "text", "requirement_level": f.get("requirement_level") or "optional",
             "choices": "\n".join(f.get("choices") or []), "help_text": f.get("help_text") or ""}
            for f in schema if isinstance(f, dict)]


def field_formset(data=None, *, schema: list[dict] | None = None, extra: int = EXTRA_ROWS):
    initial = field_initial(schema or [])
    formset = TemplateFieldFormSet(data, initial=None if data is not None else initial, prefix="f")
    if data is None:
        formset.extra = extra
    return formset


def template_body(form: TemplateForm, formset, *, stored: dict | None = None) -> dict[str, Any]:
    """The request body for create or update (the API's PUT takes the whole template)."""
    kept = {f.get("name"): f for f in (stored or {}).get("schema", []) if isinstance(f, dict)}
    schema = []
    for row in formset.forms:
        d = row.cleaned_data
        if not d.get("name"):
            continue
        base = {k: v for k, v in kept.get(d.get("original") or d["name"], {}).items()
                if k not in ("is_hidden", "suggest_url")}  # read-only: the portal computes them
        field = {**base, "name": d["name"], "label": d.get("label") or d["name"], "type": d["type"],
                 "requirement_level": d["requirement_level"], "help_text": d.get("help_text") or None}
        field["choices"] = d.get("choice_list") or None
        if d["type"] not in CHOICE_TYPES and not base.get("choices"):
            field["choices"] = None
        schema.append(field)
    c = form.cleaned_data
    name = (stored or {}).get("name") or c["name"]
    return {"name": name, "title": c["title"], "type": c["type"], "is_active": bool(c.get("is_active")),
            "schema": schema}


def place_schema_errors(formset, detail: Any) -> Any:
    """The portal's per-field errors ({"schema": [{}, {"type": [...]}, …]}, one entry per field sent, in order)
    onto the matching rows; returns what is left for the template form. Rows left empty were not sent."""
    if not isinstance(detail, dict) or not isinstance(detail.get("schema"), list):
        return detail
    sent = [row for row in formset.forms if row.cleaned_data.get("name")]
    rest = {k: v for k, v in detail.items() if k != "schema"}
    for row, errors in zip(sent, detail["schema"], strict=False):
        if isinstance(errors, dict):
            for key, messages in errors.items():
                for text in messages if isinstance(messages, list) else [messages]:
                    row.add_error(key if key in row.fields else None, str(text))
        elif errors:
            rest.setdefault("schema_rows", []).append(str(errors))
    if len(detail["schema"]) > len(sent) or all(isinstance(e, str) for e in detail["schema"]):
        rest["schema"] = [e for e in detail["schema"] if isinstance(e, str)]
    return rest
