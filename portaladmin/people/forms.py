"""Input validation only (no portal calls)."""

from __future__ import annotations

from django import forms

from portaladmin.core.userinput import BadInput, json_from_text
from portaladmin.people.rows import PERMISSIONS
from portaladmin.people.selectors import GROUP_SORTS, USER_SORTS

PERMISSION_CHOICES = [(p, p.replace("_", " ")) for p in PERMISSIONS]
PAGE_SIZES = (25, 50, 100)
LIMIT_UNITS = [(u, u) for u in ("second", "minute", "hour", "day", "month", "year")]
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class UserFilterForm(forms.Form):
    search = forms.CharField(required=False, max_length=200,
                             widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, username, e-mail"}))
    sort = forms.ChoiceField(required=False, choices=[("", "Default order")] + list(USER_SORTS.items()))
    permissions = forms.MultipleChoiceField(required=False, choices=PERMISSION_CHOICES)
    via_groups = forms.BooleanField(required=False, label="Including permissions from groups")
    limit = forms.TypedChoiceField(required=False, coerce=int, empty_value=25,
                                   choices=[(n, f"{n} per page") for n in PAGE_SIZES])
    offset = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class GroupFilterForm(forms.Form):
    search = forms.CharField(required=False, max_length=200,
                             widget=forms.TextInput(attrs={"type": "search", "placeholder": "Uid, title, description"}))
    sort = forms.ChoiceField(required=False, choices=[("", "Default order")] + list(GROUP_SORTS.items()))
    limit = forms.TypedChoiceField(required=False, coerce=int, empty_value=25,
                                   choices=[(n, f"{n} per page") for n in PAGE_SIZES])
    offset = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class ExportForm(forms.Form):
    delimiter = forms.ChoiceField(choices=[(",", "Comma (,)"), (";", "Semicolon (;)")], initial=",")


class PermissionsForm(forms.Form):
    permissions = forms.MultipleChoiceField(required=False, choices=PERMISSION_CHOICES,
                                            widget=forms.CheckboxSelectMultiple)


class LimitsForm(forms.Form):
    api_calls_limit = forms.IntegerField(required=False, min_value=0, label="API calls",
                                         help_text="Empty: no quota of its own.")
    api_calls_unit = forms.ChoiceField(choices=LIMIT_UNITS, initial="day", label="per")


class AddToGroupForm(forms.Form):
    group_uid = forms.ChoiceField(label="Group")

    def __init__(self, *args, groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group_uid"].choices = [(g.uid, g.title or g.uid) for g in groups]


class AddMemberForm(forms.Form):
    username = forms.CharField(max_length=200, label="Username")


class ConfirmRemoveForm(forms.Form):
    confirm = forms.CharField(max_length=200, label="Type the username to confirm")

    def __init__(self, *args, expected: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_confirm(self):
        value = self.cleaned_data["confirm"].strip()
        if value != self.expected:
            raise forms.ValidationError("This does not match.")
        return value


class GroupForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    permissions = forms.MultipleChoiceField(required=False, choices=PERMISSION_CHOICES,
                                            widget=forms.CheckboxSelectMultiple)


class ProvisionForm(forms.Form):
    email = forms.EmailField()
    username = forms.CharField(required=False, max_length=150)
    first_name = forms.CharField(required=False, max_length=150)
    last_name = forms.CharField(required=False, max_length=150)
    identity_provider = forms.CharField(max_length=200, label="Identity provider uid",
                                        help_text="The uid of the identity provider configured on the portal.")
    identity_provider_attributes = forms.CharField(
        required=False, label="Identity provider attributes (JSON object)",
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}))
    permissions = forms.MultipleChoiceField(required=False, choices=PERMISSION_CHOICES,
                                            widget=forms.CheckboxSelectMultiple)
    groups = forms.MultipleChoiceField(required=False, choices=[], widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["groups"].choices = [(g.uid, g.title or g.uid) for g in groups]

    def clean_identity_provider_attributes(self):
        raw = self.cleaned_data["identity_provider_attributes"].strip()
        if not raw:
            return None
        try:
            value = json_from_text(raw)
        except BadInput as exc:
            raise forms.ValidationError(str(exc)) from None
        if not isinstance(value, dict):
            raise forms.ValidationError("A JSON object is expected, e.g. {\"department\": \"GIS\"}.")
        return value

    def body(self) -> dict:
        data = self.cleaned_data
        body: dict = {"email": data["email"], "identity_provider": {"uid": data["identity_provider"]}}
        for key in ("username", "first_name", "last_name"):
            if data.get(key):
                body[key] = data[key]
        if data.get("identity_provider_attributes"):
            body["identity_provider_attributes"] = data["identity_provider_attributes"]
        if data.get("permissions"):
            body["permissions"] = data["permissions"]
        if data.get("groups"):
            body["groups"] = [{"uid": uid} for uid in data["groups"]]
        return body


class InviteForm(forms.Form):
    text = forms.CharField(required=False, label="Paste e-mails or CSV text",
                           widget=forms.Textarea(attrs={"rows": 10, "class": "mono",
                                                        "placeholder": "ana@example.org\nben@example.org"}),
                           help_text="One e-mail per line, or CSV text whose first line names the columns "
                                     "(email, first_name, last_name, groups, permissions).")
    file = forms.FileField(required=False, label="…or upload a CSV file",
                           help_text="UTF-8 (with or without BOM), “,” or “;” separated, with a header row.")
    also = forms.ModelMultipleChoiceField(queryset=None, required=False, label="Also invite on",
                                          widget=forms.CheckboxSelectMultiple,
                                          help_text="The same list on other portals where you are an operator.")

    def __init__(self, *args, other_connections=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["also"].queryset = other_connections
        if not other_connections:
            self.fields["also"].widget = forms.MultipleHiddenInput()

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
        return upload

    def clean(self):
        data = super().clean()
        if not (data.get("text") or "").strip() and not data.get("file"):
            raise forms.ValidationError("Paste some e-mails or choose a CSV file.")
        if (data.get("text") or "").strip() and data.get("file"):
            raise forms.ValidationError("Paste a list or upload a file, not both.")
        return data


class BatchAddForm(forms.Form):
    text = forms.CharField(label="Usernames or e-mails, one per line",
                           widget=forms.Textarea(attrs={"rows": 10, "class": "mono"}))
