"""Forms of the resource screens: where the data comes from (URL, upload, saved datasource connection), and the
draft (title, extractor and the extractor's parameters, generated from the portal's extractor definitions).
Input checks only; the portal's refusals are put on these fields with `portal_aliases`."""

from __future__ import annotations

import json

from django import forms
from django.core.validators import URLValidator

from portaladmin.datasets.forms import check_upload
from portaladmin.datasets.services.resources import Source, public_params
from portaladmin.portals.client.resources import PUSH_KEY_PARAMS

SOURCES = (("url", "A URL"), ("file", "An uploaded file"), ("connection", "A saved connection"))
PARAM_PREFIX = "p_"
FILE_UID_MAX = 255
# Datasource types that read a file through a saved connection (the spec's Datasource discriminator).
CONNECTION_TYPES = ("http", "ftp", "sharepoint", "google_drive", "amazon_s3", "azure_blob_storage")


class SourceUrlForm(forms.Form):
    url = forms.CharField(max_length=2000, label="URL", validators=[URLValidator(schemes=["http", "https"])],
                          widget=forms.URLInput(attrs={"placeholder": "https://example.org/data.csv"}))
    title = forms.CharField(required=False, max_length=255)


class SourceUploadForm(forms.Form):
    file = forms.FileField(allow_empty_file=True)
    title = forms.CharField(required=False, max_length=255)

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        check_upload(upload)
        return upload


def _connection_choices(connections) -> list[tuple[str, str]]:
    return [(c.uid, f"{c.url or c.uid} ({c.type}, {c.uid})") for c in connections]


class SourceConnectionForm(forms.Form):
    connection_uid = forms.ChoiceField(label="Datasource connection")
    relative_url = forms.CharField(max_length=2000, label="Path on that server",
                                   widget=forms.TextInput(attrs={"placeholder": "/exports/data.csv"}))
    title = forms.CharField(required=False, max_length=255)

    def __init__(self, *args, connections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.connections = {c.uid: c for c in connections}
        self.fields["connection_uid"].choices = _connection_choices(connections)

    def clean_relative_url(self):
        value = self.cleaned_data["relative_url"].strip()
        if "://" in value:
            raise forms.ValidationError("Only the path on the connection's server (it starts after the address).")
        return value


def _param_field(definition: dict) -> forms.Field:
    kind = str(definition.get("type") or "string").lower()
    label = definition.get("label") or definition.get("name")
    common = {"required": bool(definition.get("is_mandatory")), "label": label,
              "help_text": definition.get("description") or ""}
    if kind in ("boolean", "bool"):
        return forms.BooleanField(**{**common, "required": False})
    if kind in ("int", "integer", "number"):
        return forms.IntegerField(**common)
    choices = [c for c in definition.get("choices") or [] if isinstance(c, str)]
    if choices:
        return forms.ChoiceField(choices=[("", "—")] + [(c, c) for c in choices], **common)
    # Never stripped: a separator can be a space or a tab (typed as \t).
    return forms.CharField(max_length=500, strip=False, **common)


def _truthy(value) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")


class DraftForm(forms.Form):
    """A resource before it is saved (or while it is edited). The source travels as validated plain fields and
    the datasource is rebuilt from them on every request; nothing secret is ever in this form."""

    source = forms.ChoiceField(choices=SOURCES, widget=forms.HiddenInput)
    url = forms.CharField(required=False, max_length=2000, label="URL",
                          validators=[URLValidator(schemes=["http", "https"])])
    file_uid = forms.CharField(required=False, max_length=FILE_UID_MAX, widget=forms.HiddenInput)
    connection_uid = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    connection_type = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    relative_url = forms.CharField(required=False, max_length=2000, label="Path on the connection's server")
    title = forms.CharField(required=False, max_length=255)
    extractor = forms.ChoiceField(label="Format (extractor)")
    previous_extractor = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    extra_params = forms.CharField(required=False, max_length=5000, widget=forms.HiddenInput)

    def __init__(self, *args, extractors=(), extractor: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.extractors = {e.type: e for e in extractors}
        self.fields["extractor"].choices = [(e.type, e.label or e.type) for e in extractors]
        chosen = extractor or self._raw("extractor") or ""
        self.definition = self.extractors.get(chosen)
        self.param_names: list[str] = []
        for p in (self.definition.parameters if self.definition else []):
            name = p.get("name") if isinstance(p, dict) else None
            if not name or p.get("hidden") or name in PUSH_KEY_PARAMS or name == "enabled":
                continue
            field = self.fields[PARAM_PREFIX + name] = _param_field(p)
            self.param_names.append(name)
            if isinstance(field, forms.BooleanField) and not self.is_bound:
                # a box shows the guessed value, else the extractor's default ("true" as a string)
                self.initial[PARAM_PREFIX + name] = _truthy(self.initial.get(PARAM_PREFIX + name, p.get("default")))
        source = self._raw("source")
        if source != "url":
            self.fields["url"].widget = forms.HiddenInput()
        if source != "connection":
            self.fields["relative_url"].widget = forms.HiddenInput()

    def _raw(self, name: str) -> str:
        if self.is_bound:
            return str(self.data.get(self.add_prefix(name), "") or "")
        return str(self.initial.get(name, "") or "")

    @classmethod
    def initial_for(cls, *, source: Source, title: str, extractor: str, params: dict) -> dict:
        """The initial values of a draft from a source, the extractor and its (guessed or saved) parameters."""
        initial = {"source": source.kind, "url": source.url, "file_uid": source.file_uid,
                   "connection_uid": source.connection_uid, "connection_type": source.connection_type,
                   "relative_url": source.relative_url, "title": title, "extractor": extractor,
                   "previous_extractor": extractor}
        params = public_params(params)
        params.pop("enabled", None)
        extra = {}
        for name, value in params.items():
            initial[PARAM_PREFIX + name] = value
            extra[name] = value
        initial["extra_params"] = json.dumps(extra)  # trimmed to the non-form params in clean_extra_params
        return initial

    def clean_extra_params(self):
        text = self.cleaned_data.get("extra_params") or ""
        try:
            value = json.loads(text) if text.strip() else {}
        except ValueError:
            value = None
        if not isinstance(value, dict) or any(isinstance(v, (dict, list)) for v in value.values()):
            raise forms.ValidationError("The hidden parameters of this draft are damaged: start again.")
        return {k: v for k, v in value.items() if k not in self.param_names and k not in PUSH_KEY_PARAMS}

    def clean(self):
        data = super().clean()
        source = data.get("source")
        if source == "url" and not data.get("url") and "url" not in self.errors:
            self.add_error("url", "Give the address of the file.")
        if source == "file" and not data.get("file_uid"):
            self.add_error(None, "The uploaded file of this draft is missing: upload it again.")
        if source == "connection":
            if data.get("connection_type") not in CONNECTION_TYPES:
                self.add_error(None, "The datasource connection of this draft is of an unknown kind: start again.")
            if not data.get("connection_uid"):
                self.add_error(None, "The datasource connection of this draft is missing: start again.")
            if not data.get("relative_url"):
                self.add_error("relative_url", "Give the path of the file on the connection's server.")
        return data

    def source_obj(self) -> Source:
        d = self.cleaned_data
        return Source(kind=d["source"], url=d.get("url") or "", file_uid=d.get("file_uid") or "",
                      connection_uid=d.get("connection_uid") or "", connection_type=d.get("connection_type") or "http",
                      relative_url=d.get("relative_url") or "")

    def params(self) -> dict:
        """The parameters to send: the extractor's fields as typed (empty ones left out, so the portal's default
        applies), plus guessed parameters this extractor's definition does not list."""
        out = dict(self.cleaned_data.get("extra_params") or {})
        for name in self.param_names:
            value = self.cleaned_data.get(PARAM_PREFIX + name)
            if isinstance(self.fields[PARAM_PREFIX + name], forms.BooleanField):
                out[name] = bool(value)
            elif value not in (None, ""):
                out[name] = "\t" if value == "\\t" else value
        return out

    def param_fields(self):
        return [self[PARAM_PREFIX + n] for n in self.param_names]

    @property
    def extractor_changed(self) -> bool:
        return self.is_bound and self._raw("previous_extractor") not in ("", self._raw("extractor"))

    def portal_aliases(self) -> dict[str, str]:
        """Portal names → our fields: `params.separator` → p_separator, the datasource onto the source's field."""
        source_field = {"url": "url", "connection": "relative_url"}.get(self._raw("source"), "title")
        return {**{n: PARAM_PREFIX + n for n in self.param_names}, "type": "extractor", "datasource": source_field,
                "connection": source_field, "relative_url": source_field, "file": source_field}

