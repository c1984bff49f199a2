"""Input validation for harvesters and their schedules (no API calls here)."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from croniter import croniter
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

# The harvester types this panel configures, what their source field is called in the spec,
# and whether they take download_resources / metadata_only (openapi.json, components/schemas/*Harvester).
HARVESTER_TYPES: dict[str, dict] = {
    "arcgis": {"label": "ArcGIS", "source": "url", "download": True, "metadata_only": True},
    "arcgis_opendata": {"label": "ArcGIS Open Data", "source": "url", "download": True, "metadata_only": True},
    "ckan": {"label": "CKAN", "source": "url", "download": True, "metadata_only": True},
    "csw": {"label": "CSW", "source": "url", "download": False, "metadata_only": True},
    "datajson": {"label": "data.json", "source": "url", "download": True, "metadata_only": True},
    "ods": {"label": "Opendatasoft", "source": "domain", "download": False, "metadata_only": False},
    "omi_node": {"label": "O-MI node", "source": "url", "download": True, "metadata_only": True},
    "socrata": {"label": "Socrata", "source": "url", "download": True, "metadata_only": True},
    "wfs": {"label": "WFS", "source": "url", "download": False, "metadata_only": True},
}
TYPE_CHOICES = [(k, v["label"]) for k, v in HARVESTER_TYPES.items()]

_url_validator = URLValidator(schemes=["http", "https"])
_META_LINE = re.compile(r"^(?:(?P<template>[A-Za-z0-9_-]+)\.)?(?P<field>[A-Za-z0-9_-]+)\s*=\s*(?P<value>.*)$")


def parse_forced_metas(text: str) -> dict[str, dict[str, str]]:
    """'publisher = Paris' or 'dcat.creator = Paris', one per line → {"default": {"publisher": "Paris"}, …}."""
    result: dict[str, dict[str, str]] = {}
    errors = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _META_LINE.match(line)
        if not match or not match["value"].strip():
            errors.append(f"Line {number}: write “field = value” or “template.field = value”.")
            continue
        result.setdefault(match["template"] or "default", {})[match["field"]] = match["value"].strip()
    if errors:
        raise ValidationError(errors)
    return result


def format_forced_metas(metas: dict | None) -> str:
    lines = []
    for template, fields in (metas or {}).items():
        if not isinstance(fields, dict):
            continue
        for name, value in fields.items():
            prefix = "" if template == "default" else f"{template}."
            lines.append(f"{prefix}{name} = {value}")
    return "\n".join(lines)


class HarvesterForm(forms.Form):
    type = forms.ChoiceField(choices=TYPE_CHOICES, label="Type")
    name = forms.CharField(max_length=200, label="Name")
    url = forms.CharField(max_length=2000, label="Source URL",
                          help_text="The catalogue to harvest, e.g. https://data.example.org/api/3 "
                                    "(for an Opendatasoft source: the portal's URL).")
    restrict_datasets_visibility = forms.BooleanField(required=False, label="Restrict visibility of harvested datasets")
    delete_missing_datasets = forms.BooleanField(required=False, label="Delete datasets that disappear from the source")
    download_resources = forms.BooleanField(required=False, label="Download resources (instead of linking them)")
    metadata_only = forms.BooleanField(required=False, label="Metadata only (no resources)")
    forced_metas = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Forced metadata",
                                   help_text="One per line: “publisher = Paris Open Data”, or “template.field = value”.")

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            self.fields["type"].disabled = True
            self.fields["type"].help_text = "The type of an existing harvester cannot change."

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Give the harvester a name.")
        return name

    def clean_url(self):
        value = self.cleaned_data["url"].strip()
        if not value:
            raise ValidationError("Enter the source URL.")
        if any(c.isspace() for c in value):
            raise ValidationError("The URL must not contain spaces.")
        try:
            _url_validator(value)
        except ValidationError:
            raise ValidationError("Enter a full http:// or https:// URL, e.g. https://data.example.org/api/3.") from None
        return value

    def clean_forced_metas(self):
        return parse_forced_metas(self.cleaned_data.get("forced_metas", ""))

    def clean(self):
        cleaned = super().clean()
        spec = HARVESTER_TYPES.get(cleaned.get("type") or "")
        if spec:
            label = spec["label"]
            if cleaned.get("download_resources") and not spec["download"]:
                self.add_error("download_resources", f"{label} harvesters cannot download resources.")
            if cleaned.get("metadata_only") and not spec["metadata_only"]:
                self.add_error("metadata_only", f"{label} harvesters have no “metadata only” option.")
        if cleaned.get("download_resources") and cleaned.get("metadata_only"):
            self.add_error("metadata_only", "Choose either “download resources” or “metadata only”, not both.")
        return cleaned

    def to_body(self) -> dict:
        """The harvester body the spec describes (flat: url/domain, flags, forced_metas)."""
        data = self.cleaned_data
        spec = HARVESTER_TYPES[data["type"]]
        body = {
            "type": data["type"],
            "name": data["name"],
            spec["source"]: data["url"],
            "restrict_datasets_visibility": data["restrict_datasets_visibility"],
            "delete_missing_datasets": data["delete_missing_datasets"],
            "forced_metas": data["forced_metas"],
        }
        if spec["download"]:
            body["download_resources"] = data["download_resources"]
        if spec["metadata_only"]:
            body["metadata_only"] = data["metadata_only"]
        return body

    @classmethod
    def initial_from(cls, raw: dict) -> dict:
        spec = HARVESTER_TYPES.get(raw.get("type", ""), {"source": "url"})
        return {
            "type": raw.get("type", ""),
            "name": raw.get("name", ""),
            "url": raw.get(spec["source"]) or raw.get("url") or raw.get("domain") or "",
            "restrict_datasets_visibility": bool(raw.get("restrict_datasets_visibility")),
            "delete_missing_datasets": bool(raw.get("delete_missing_datasets")),
            "download_resources": bool(raw.get("download_resources")),
            "metadata_only": bool(raw.get("metadata_only")),
            "forced_metas": format_forced_metas(raw.get("forced_metas")),
        }


def _timezones() -> set[str]:
    return zoneinfo.available_timezones()


def next_runs(cron: str, timezone: str, *, count: int = 5, start: dt.datetime | None = None) -> list[dt.datetime]:
    tz = zoneinfo.ZoneInfo(timezone)
    base = (start or dt.datetime.now(dt.UTC)).astimezone(tz)
    it = croniter(cron, base)
    return [it.get_next(dt.datetime) for _ in range(count)]


class ScheduleForm(forms.Form):
    cron_schedule = forms.CharField(max_length=100, label="Cron schedule",
                                    help_text="Five fields: minute hour day-of-month month day-of-week, e.g. “30 2 * * *”.")
    timezone = forms.CharField(max_length=64, initial="UTC", label="Time zone",
                               help_text="An IANA time zone name, e.g. Europe/Paris or UTC.")

    def clean_cron_schedule(self):
        value = " ".join(self.cleaned_data["cron_schedule"].split())
        if len(value.split(" ")) != 5 or not croniter.is_valid(value):
            raise ValidationError("This is not a valid cron expression: use five fields "
                                  "(minute hour day-of-month month day-of-week), e.g. “30 2 * * *”.")
        return value

    def clean_timezone(self):
        value = self.cleaned_data["timezone"].strip()
        if value not in _timezones():
            raise ValidationError(f"“{value}” is not a known time zone: use a name like Europe/Paris or UTC.")
        return value

    def next_runs(self, count: int = 5) -> list[dt.datetime]:
        return next_runs(self.cleaned_data["cron_schedule"], self.cleaned_data["timezone"], count=count)


class DeleteForm(forms.Form):
    CHOICES = [("keep", "Keep the attached datasets (detach them from the harvester)"),
               ("delete", "Delete the attached datasets too")]
    attached = forms.ChoiceField(choices=CHOICES, widget=forms.RadioSelect, label="Attached datasets",
                                 error_messages={"required": "Choose whether to keep or delete the attached datasets."})
    confirm_name = forms.CharField(label="Type the harvester's name to confirm")

    def __init__(self, *args, harvester_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.harvester_name = harvester_name

    def clean_confirm_name(self):
        value = self.cleaned_data["confirm_name"].strip()
        if value != self.harvester_name:
            raise ValidationError(f"Type the harvester's name exactly (“{self.harvester_name}”) to confirm.")
        return value

    @property
    def delete_attached_datasets(self) -> bool:
        return self.cleaned_data["attached"] == "delete"
