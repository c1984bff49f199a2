"""Input validation only (no remote calls). Remote validation errors are mapped back with
core.portalerrors.form_add_portal_errors."""

from __future__ import annotations

import re

from croniter import croniter
from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from portaladmin.core.filterbar import FilterBarMixin
from portaladmin.core.userinput import BadInput, json_from_text
from portaladmin.datasets.selectors import DEFAULT_SORT, SORTS, STATUS_FILTERS

DATASET_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
LANGUAGES = [("en", "English"), ("fr", "French"), ("de", "German"), ("es", "Spanish"), ("it", "Italian"),
             ("nl", "Dutch"), ("pt", "Portuguese"), ("ca", "Catalan"), ("eu", "Basque"), ("sv", "Swedish"),
             ("ar", "Arabic")]
PERMISSIONS = [("explore_restricted_dataset", "Explore (restricted dataset)"), ("edit_dataset", "Edit"),
               ("publish_dataset", "Publish"), ("manage_dataset", "Manage")]
FIELD_CONFIG_TYPES = [("rename", "Rename"), ("type", "Type"), ("annotate", "Annotate"),
                      ("description", "Description"), ("order", "Order"), ("delete", "Delete")]


# ---------------------------------------------------------------------------------------------- the list

class DatasetListForm(FilterBarMixin, forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    published = forms.ChoiceField(required=False, choices=[("", "Published or not"), ("yes", "Published"),
                                                           ("no", "Unpublished")])
    status = forms.ChoiceField(required=False, choices=[("", "Any status")] + [
        (s, "not checked yet" if s == "unknown" else s.replace("_", " ")) for s in STATUS_FILTERS])
    restricted = forms.ChoiceField(required=False, choices=[("", "Restricted or not"), ("yes", "Restricted"),
                                                            ("no", "Not restricted")])
    freshness = forms.ChoiceField(required=False, choices=[("", "Late or not"), ("late", "Late"),
                                                           ("on_time", "Not late")])
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])
    page = forms.IntegerField(required=False, min_value=1)

    def filters(self) -> dict:
        """Selector arguments; invalid values are ignored (a shared URL never errors)."""
        data = self.cleaned_data if self.is_valid() else {}
        if not data:  # keep the valid parts of an invalid query
            data = {}
            for name, field in self.fields.items():
                try:
                    data[name] = field.clean(self.data.get(name, ""))
                except forms.ValidationError:
                    data[name] = None
        tri = {"yes": True, "no": False}
        return {"q": data.get("q") or "", "published": tri.get(data.get("published") or ""),
                "status": data.get("status") or "", "restricted": tri.get(data.get("restricted") or ""),
                "sort": data.get("sort") or DEFAULT_SORT,
                "late": {"late": True, "on_time": False}.get(data.get("freshness") or "")}

    def page_number(self) -> int:
        try:
            return max(1, int(self.data.get("page") or 1))
        except (TypeError, ValueError):
            return 1


class BulkActionForm(forms.Form):
    """A bulk action on the ticked rows (`uid`), or on every dataset matching the list's filter (`scope=all` and
    `matching`, the list's filter querystring: datasets.selectors.snapshot_uids_matching)."""

    action = forms.ChoiceField(choices=[("publish", "Publish"), ("unpublish", "Unpublish"),
                                        ("publish_metadata", "Publish metadata"), ("delete", "Delete"),
                                        ("metadata", "Edit metadata")])
    uid = forms.MultipleChoiceField(required=False)
    scope = forms.ChoiceField(required=False, choices=[("", "selected"), ("selected", "selected"), ("all", "all")])
    matching = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        uids = self.data.getlist("uid") if hasattr(self.data, "getlist") else self.data.get("uid", [])
        self.fields["uid"].choices = [(u, u) for u in uids[:1001]]

    def clean_uid(self):
        uids = self.cleaned_data["uid"]
        if len(uids) > 1000:
            raise forms.ValidationError("Select at most 1,000 datasets at once.")
        return uids

    def clean(self):
        data = super().clean()
        if data.get("scope") != "all" and not data.get("uid") and "uid" not in self.errors:
            raise forms.ValidationError("Select at least one dataset.")
        return data

    @property
    def all_matching(self) -> bool:
        return self.cleaned_data.get("scope") == "all"


class BulkMetadataForm(forms.Form):
    """One operation on one template field ("template:field") of the selected datasets."""

    field = forms.ChoiceField(label="Field")
    op = forms.ChoiceField(label="Operation", choices=[("set", "Set"), ("clear", "Clear"), ("add", "Add to the list"),
                                                       ("remove", "Remove from the list"),
                                                       ("replace", "Find and replace in the text")])
    find = forms.CharField(required=False, strip=False, max_length=1000, label="Find (replace only)")
    value = forms.CharField(required=False, strip=False, max_length=100000, label="Value",
                            widget=forms.Textarea(attrs={"rows": 3}),
                            help_text="Set a list: one item per line (commas are kept). Add / remove: one item. "
                                      "Booleans: true or false. Dates: 2026-01-31; datetimes: 2026-01-31T08:00:00 "
                                      "(UTC).")

    publish = forms.BooleanField(required=False, label="Then publish the metadata of the published datasets that "
                                                      "changed (one more job, with its own results)")

    def __init__(self, *args, field_choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = field_choices


# ---------------------------------------------------------------------------------------------- a dataset

class DatasetCreateForm(forms.Form):
    dataset_id = forms.CharField(max_length=100, help_text="Lower-case letters, digits, - and _.")
    title = forms.CharField(max_length=255)
    language = forms.ChoiceField(choices=LANGUAGES, initial="en")
    modified = forms.DateTimeField(required=False, help_text="When the data last changed (UTC, e.g. 2026-01-31 "
                                                            "08:00); empty = now.")
    description = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    keywords = forms.CharField(required=False, max_length=1000, help_text="Comma-separated.")
    is_restricted = forms.BooleanField(required=False, label="Restricted (visible only to users with a ruleset)")

    def clean_dataset_id(self):
        value = self.cleaned_data["dataset_id"].strip()
        if not DATASET_ID_RE.match(value):
            raise forms.ValidationError("Use lower-case letters, digits, - and _ only, starting with a letter or "
                                        "digit (at most 100 characters).")
        return value

    def clean_keywords(self):
        return [k.strip() for k in self.cleaned_data["keywords"].split(",") if k.strip()]


class DeleteDatasetForm(forms.Form):
    confirm = forms.CharField(max_length=255, label="Type the dataset_id to confirm")

    def __init__(self, *args, dataset_id: str, **kwargs):
        self.dataset_id = dataset_id
        super().__init__(*args, **kwargs)

    def clean_confirm(self):
        if self.cleaned_data["confirm"].strip() != self.dataset_id:
            raise forms.ValidationError(f"Type {self.dataset_id} exactly to delete this dataset.")
        return self.cleaned_data["confirm"]


# The metadata editor (typed, from the template definitions) is in metadata_form.py.


# ---------------------------------------------------------------------------------------------- resources

def check_upload(upload) -> None:
    if upload is None:
        raise forms.ValidationError("Choose a file to upload.")
    limit = settings.PORTALADMIN_MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise forms.ValidationError(f"This file is {filesizeformat(upload.size)}; the limit is "
                                    f"{filesizeformat(limit)}. Split it or add it from a URL instead.")
    if upload.size == 0:
        raise forms.ValidationError("This file is empty.")


class AttachmentForm(forms.Form):
    file = forms.FileField(allow_empty_file=True)

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        check_upload(upload)
        return upload


# ------------------------------------------------------------------------------------ processors and fields

def _json_object(text: str, what: str) -> dict:
    text = (text or "").strip() or "{}"
    try:
        value = json_from_text(text)
    except BadInput as exc:
        raise forms.ValidationError(str(exc)) from None
    if not isinstance(value, dict):
        raise forms.ValidationError(f"{what} must be a JSON object, like {{\"name\": \"value\"}}.")
    return value


class ProcessorForm(forms.Form):
    type = forms.CharField(max_length=100)
    label = forms.CharField(required=False, max_length=255)
    args = forms.CharField(required=False, label="Parameters (JSON object)", initial="{}",
                           widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}))

    def clean_type(self):
        value = self.cleaned_data["type"].strip()
        if not re.match(r"^[A-Za-z0-9_.-]+$", value):
            raise forms.ValidationError("A processor type is a name like replace or geo_join.")
        return value

    def clean_args(self):
        return _json_object(self.cleaned_data["args"], "The parameters")


class FieldConfigForm(forms.Form):
    type = forms.ChoiceField(choices=FIELD_CONFIG_TYPES)
    label = forms.CharField(required=False, max_length=255)
    params = forms.CharField(required=False, label="Parameters (JSON object)", initial="{}",
                             widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
                             help_text='e.g. {"from_name": "a", "to_name": "b", "field_label": "B"} for rename.')

    def clean_params(self):
        return _json_object(self.cleaned_data["params"], "The parameters")

    def body(self) -> dict:
        data = self.cleaned_data
        reserved = {"uid", "type", "label"}
        return {**{k: v for k, v in data["params"].items() if k not in reserved}, "type": data["type"],
                "label": data["label"] or data["type"]}


class ScheduleForm(forms.Form):
    cron = forms.CharField(max_length=100, label="Cron expression", help_text="minute hour day month weekday (UTC)")

    def clean_cron(self):
        value = " ".join(self.cleaned_data["cron"].split())
        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise forms.ValidationError(f"{value!r} is not a valid cron expression: use five fields, "
                                        "minute hour day month weekday, e.g. 0 3 * * *.")
        return value


# ---------------------------------------------------------------------------------------------- security

class SecurityForm(forms.Form):
    is_restricted = forms.BooleanField(required=False, label="Restricted")
    is_data_visible = forms.BooleanField(required=False, label="Data visible by default")
    filter_query = forms.CharField(required=False, max_length=2000, label="Default filter query")
    visible_fields = forms.CharField(required=False, max_length=5000, help_text="Comma-separated; empty = all.")

    def default_security(self) -> dict:
        data = self.cleaned_data
        fields = [f.strip() for f in data["visible_fields"].split(",") if f.strip()]
        return {"is_data_visible": data["is_data_visible"], "filter_query": data["filter_query"],
                "visible_fields": fields}


class RulesetForm(forms.Form):
    kind = forms.ChoiceField(choices=[("user", "User"), ("group", "Group")])
    principal = forms.CharField(max_length=150, label="Username or group uid")
    permissions = forms.MultipleChoiceField(required=False, choices=PERMISSIONS,
                                            widget=forms.CheckboxSelectMultiple)

    def clean_principal(self):
        value = self.cleaned_data["principal"].strip()
        if not re.match(r"^[\w.@+-]+$", value):
            raise forms.ValidationError("Letters, digits and . @ + - _ only.")
        return value
