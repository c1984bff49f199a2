"""The typed metadata editor: one form per metadata template, built from the template's field definitions.

Lossless by construction (the old editor joined lists with commas and re-sent every field):
- the values the person saw travel with the form (`__loaded`, JSON), so "changed" means "differs from what
  this person was shown", never "differs from the portal now" (someone else's later change is not overwritten);
- a field is changed only when its submitted input differs from the input it was rendered with (browser newline
  normalisation aside), so an untouched field is never sent, whatever its type or its original spelling
  (a datetime with an offset, a float written 1.10 …);
- a list of strings is one input per item: commas, quotes, unicode and empty strings inside items are kept;
- clearing is explicit: the "Clear" box, sent as the API's DELETE of that field; an input emptied without it is
  refused with a message (nothing typed is lost);
- a value whose shape does not fit its declared type, a type without an editor here (geo_shape, geo_area …) and a
  value of a field the template does not define are shown read-only as JSON, never guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django import forms

from portaladmin.portals.client.schemas import MetadataTemplateField

KINDS = {"text": "text", "html": "long", "longstring": "long", "multitext": "long", "list": "list",
         "enum": "enum", "uri_enum": "enum", "enumlist": "enumlist", "uri_enumlist": "enumlist",
         "boolean": "bool", "int": "int", "double": "double", "date": "date", "datetime": "datetime"}
LOADED = "__loaded"
CLEAR = "__clear"
LIST_KINDS = ("list", "enumlist")
NUMBER_KINDS = ("int", "double")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_datetime(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def fits(kind: str, value: Any) -> bool:
    """Whether a loaded value has the shape its declared type promises (otherwise: read-only, not guessed)."""
    if value is None:
        return True
    if kind in ("text", "long", "enum"):
        return isinstance(value, str)
    if kind in LIST_KINDS:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return _is_int(value)
    if kind == "double":
        return _is_int(value) or isinstance(value, float)
    try:
        if kind == "date":
            date.fromisoformat(value)
        elif kind == "datetime":
            _parse_datetime(value)
        else:
            return False
    except (TypeError, ValueError):
        return False
    return True


def to_input(kind: str, value: Any) -> Any:
    """What the input shows for a loaded value: a string, or a list of strings for list kinds."""
    if kind in LIST_KINDS:
        return list(value or [])
    if value is None:
        return ""
    if kind == "bool":
        return "true" if value else "false"
    if kind in NUMBER_KINDS:
        return repr(value)
    if kind == "datetime":
        return _parse_datetime(value).strftime("%Y-%m-%dT%H:%M:%S")  # a datetime-local input, in UTC
    return value


def _normal(kind: str, shown: Any) -> Any:
    if kind == "enumlist":
        return sorted(shown)
    if kind == "list":
        return list(shown)
    text = str(shown).replace("\r\n", "\n")  # browsers send textarea newlines as CRLF
    if kind == "datetime":
        # The same instant, however written: a datetime-local input gives "…T08:00" for "…T08:00:00" (the shortest
        # form, seconds left out when zero), which must not count as a change and send a field nobody touched.
        try:
            return _parse_datetime(text).replace(microsecond=0)
        except ValueError:
            return text.strip()
    if kind in NUMBER_KINDS:
        return text.strip()
    return text


def _empty(kind: str, shown: Any) -> bool:
    return shown == [] if kind in LIST_KINDS else str(shown).strip() == ""


def parse(kind: str, shown: Any, *, loaded: Any, choices: list[str] | None) -> Any:
    """The value to send for a changed input; ValueError with a message for the person."""
    if kind == "list":
        return list(shown)
    if kind == "enumlist":
        allowed = set(choices or []) | set(loaded or [])
        unknown = [v for v in shown if v not in allowed]
        if choices and unknown:
            raise ValueError(f"Not an allowed value: {', '.join(unknown)}.")
        kept = [v for v in (loaded or []) if v in shown]
        return kept + [v for v in shown if v not in kept]
    text = str(shown).replace("\r\n", "\n")
    if kind in ("text", "long"):
        return text
    if kind == "enum":
        if choices and text not in choices and text != loaded:
            raise ValueError(f"{text!r} is not one of the allowed values.")
        return text
    if kind == "bool":
        if text not in ("true", "false"):
            raise ValueError("Choose yes or no.")
        return text == "true"
    if kind == "int":
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError("Enter a whole number.") from None
    if kind == "double":
        try:
            number = float(text.strip())
        except ValueError:
            raise ValueError("Enter a number (e.g. 12.5).") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError("Enter a finite number.")
        return number
    if kind == "date":
        try:
            return date.fromisoformat(text.strip()).isoformat()
        except ValueError:
            raise ValueError("Enter a date like 2026-01-31.") from None
    if kind == "datetime":
        try:
            return _parse_datetime(text).isoformat().replace("+00:00", "Z")
        except ValueError:
            raise ValueError("Enter a date and time like 2026-01-31T08:00:00 (UTC).") from None
    raise ValueError("This field cannot be edited here.")


class _ListInput(forms.MultipleHiddenInput):
    """Reads every item of a repeated input (getlist); the template draws the inputs."""


@dataclass
class Row:
    """One field as the template draws it."""

    name: str
    label: str
    kind: str  # an editor kind, or "readonly"
    type: str
    required: bool = False
    help_text: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    shown: Any = ""  # what the input holds (typed text when the form comes back with errors)
    cleared: bool = False
    has_value: bool = False
    raw_json: str = ""
    multiline: bool = False
    suggest: bool = False
    html_name: str = ""
    clear_name: str = ""
    errors: list[str] = field(default_factory=list)


class MetadataEditForm(forms.Form):
    """One template's values for one dataset. After is_valid(): `changes` {field: value} to PUT and `clears`
    [field] to DELETE — only what the person changed."""

    def __init__(self, data=None, *, fields: list[MetadataTemplateField], values: dict[str, Any] | None = None,
                 prefix: str | None = None):
        super().__init__(data, prefix=prefix)
        self.definitions = [d for d in fields if not d.is_hidden]
        self.loaded: dict[str, Any] = dict(values or {})
        if self.is_bound:
            try:
                self.loaded = json.loads(self.data.get(self.add_prefix(LOADED)) or "")
            except (TypeError, ValueError):
                self.loaded = {}
            if not isinstance(self.loaded, dict):
                self.loaded = {}
        self.editable: dict[str, MetadataTemplateField] = {}
        self.fields[LOADED] = forms.CharField(required=False, widget=forms.HiddenInput,
                                              initial=json.dumps(self.loaded, ensure_ascii=False))
        for d in self.definitions:
            kind = KINDS.get(d.type)
            if kind is None or not fits(kind, self.loaded.get(d.name)):
                continue
            self.editable[d.name] = d
            widget = _ListInput if kind in LIST_KINDS else forms.TextInput
            self.fields[d.name] = forms.Field(required=False, label=d.label or d.name, widget=widget)
            self.fields[d.name + CLEAR] = forms.BooleanField(required=False, label="Clear")
        self.changes: dict[str, Any] = {}
        self.clears: list[str] = []

    @property
    def loaded_field(self):
        return self[LOADED]

    def kind(self, name: str) -> str:
        return KINDS[self.editable[name].type]

    def clean(self):
        data = super().clean()
        if self.add_prefix(LOADED) not in self.data:
            raise forms.ValidationError("This form is incomplete; reload the page and try again.")
        self.changes, self.clears = {}, []
        for name, d in self.editable.items():
            kind, before = self.kind(name), self.loaded.get(name)
            shown = data.get(name)
            shown = list(shown or []) if kind in LIST_KINDS else ("" if shown is None else shown)
            if data.get(name + CLEAR):
                if before is None:
                    continue
                if d.required:
                    self.add_error(name, "This field is mandatory in the template: it cannot be removed.")
                else:
                    self.clears.append(name)
                continue
            if _normal(kind, shown) == _normal(kind, to_input(kind, before)):
                continue  # untouched: never sent
            if _empty(kind, shown):
                if before is None:
                    continue
                self.add_error(name, "Empty: tick “Clear” to remove this value from the dataset.")
                continue
            try:
                self.changes[name] = parse(kind, shown, loaded=before, choices=d.choices)
            except ValueError as exc:
                self.add_error(name, str(exc))
        return data

    def with_saved(self, saved: dict[str, Any], cleared: list[str]) -> MetadataEditForm:
        """The same bound form after part of it was saved: the saved values become the loaded ones, so saving
        again sends only what is still pending."""
        loaded = {**self.loaded, **saved}
        for name in cleared:
            loaded.pop(name, None)
        data = self.data.copy()
        data[self.add_prefix(LOADED)] = json.dumps(loaded, ensure_ascii=False)
        for name in cleared:
            data.pop(self.add_prefix(name + CLEAR), None)
        form = MetadataEditForm(data, fields=self.definitions, values=loaded, prefix=self.prefix)
        form.full_clean()
        return form

    def rows(self, *, suggest: bool = False) -> list[Row]:
        """Every field of the template (editable or read-only), then the values the template does not define."""
        rows = []
        for d in self.definitions:
            value = self.loaded.get(d.name)
            if d.name not in self.editable:
                if value is not None:
                    rows.append(Row(d.name, d.label or d.name, "readonly", d.type, has_value=True,
                                    help_text=d.help_text or "", raw_json=_json(value)))
                else:
                    rows.append(Row(d.name, d.label or d.name, "readonly", d.type, help_text=d.help_text or ""))
                continue
            kind = self.kind(d.name)
            bf = self[d.name]
            if self.is_bound:
                key = self.add_prefix(d.name)
                shown = self.data.getlist(key) if kind in LIST_KINDS else self.data.get(key, "")
                cleared = bool(self.data.get(self.add_prefix(d.name + CLEAR)))
            else:
                shown, cleared = to_input(kind, value), False
            choices = [(c, _choice_label(d, c)) for c in d.choices or []]
            extra = [v for v in (value if kind == "enumlist" else [value]) or [] if isinstance(v, str)
                     and v not in (d.choices or [])] if kind in ("enum", "enumlist") else []
            choices += [(v, f"{v} (current value, not in the template)") for v in extra if v]
            if kind == "bool":
                choices = [("true", "Yes"), ("false", "No")]
            rows.append(Row(d.name, d.label or d.name, kind, d.type, required=d.required,
                            help_text=d.help_text or "", choices=choices, shown=shown, cleared=cleared,
                            has_value=value is not None,
                            multiline=kind == "long" or (kind == "text" and "\n" in str(shown)),
                            suggest=suggest and bool(d.self_suggest) and kind in ("text", "list"),
                            html_name=bf.html_name, clear_name=self[d.name + CLEAR].html_name,
                            errors=list(self.errors.get(d.name, [])) if self.is_bound else []))
        known = {d.name for d in self.definitions}
        for name, value in self.loaded.items():
            if name not in known:
                rows.append(Row(name, name, "readonly", "not in the template", has_value=value is not None,
                                raw_json=_json(value)))
        return rows


def _choice_label(d: MetadataTemplateField, choice: str) -> str:
    labels = (d.labels or {}).get(choice)
    if isinstance(labels, dict) and labels:
        return str(labels.get("en") or next(iter(labels.values())))
    return choice


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)


@dataclass
class Editor:
    """One template on the metadata tab: its form (None: read-only) and its rows."""

    name: str
    title: str
    form: MetadataEditForm | None
    rows: list[Row]
    value_count: int = 0


def form_prefix(template: str) -> str:
    return f"t-{template}"


def template_editors(*, values: dict[str, dict], definitions: list | None, bound: tuple | None = None,
                     suggest: bool = False) -> list[Editor]:
    """The tab's editors: every active template the portal defines (in its order), then templates that hold
    values without a definition (read-only). `values` is template → field → MetadataValue; `bound` is
    (template, bound form) when a submitted form comes back."""
    plain = {t: {k: v.value for k, v in fields.items()} for t, fields in values.items()}
    editors, seen = [], set()
    for template in definitions or []:
        if not template.is_active and not plain.get(template.name):
            continue
        seen.add(template.name)
        current = plain.get(template.name, {})
        if bound and bound[0] == template.name:
            form = bound[1]
        else:
            form = MetadataEditForm(fields=template.fields, values=current, prefix=form_prefix(template.name))
        editors.append(Editor(template.name, template.title or template.name, form, form.rows(suggest=suggest),
                              sum(v is not None for v in current.values())))
    for name, current in plain.items():
        if name in seen:
            continue
        rows = [Row(k, k, "readonly", "", has_value=v is not None, raw_json=_json(v)) for k, v in current.items()]
        editors.append(Editor(name, name, None, rows, sum(v is not None for v in current.values())))
    return editors
