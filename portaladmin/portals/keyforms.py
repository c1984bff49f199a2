"""Forms for a portal's API keys and datasource connections (input validation only, no calls)."""

from urllib.parse import urlsplit

from django import forms

from portaladmin.people.rows import PERMISSIONS
from portaladmin.portals.datasources import TYPES

PERMISSION_CHOICES = [(p, p) for p in PERMISSIONS]


class ApiKeyForm(forms.Form):
    label = forms.CharField(max_length=200, strip=True)
    permissions = forms.MultipleChoiceField(choices=PERMISSION_CHOICES, required=False,
                                            widget=forms.CheckboxSelectMultiple,
                                            help_text="A key can never do more than its owner may.")


class ConnectionKeyForm(ApiKeyForm):
    """A new key for the connection's own use: created on the portal and stored here encrypted in one step."""

    revoke_previous = forms.BooleanField(required=False, initial=True,
                                         label="Revoke the connection's previous key once the new one is stored")
    reveal = forms.BooleanField(required=False, label="Show me the new key once (it is never shown again)")


class RevokeForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, strip=True)
    confirm = forms.BooleanField(error_messages={"required": "Tick the box: revoking a key cannot be undone."})


class DatasourceForm(forms.Form):
    """A datasource connection. The password and the header value are write-only: never rendered back; left empty
    on an edit, the portal keeps what it has."""

    type = forms.ChoiceField(choices=TYPES)
    url = forms.CharField(max_length=2000, strip=True, label="URL")
    is_reusable = forms.BooleanField(required=False, initial=True, label="Reusable by several datasets")
    username = forms.CharField(max_length=200, required=False, strip=True, label="User name (basic auth)")
    password = forms.CharField(max_length=500, required=False, strip=False, label="Password",
                               widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}))
    header_name = forms.CharField(max_length=200, required=False, strip=True, label="Header name")
    header_value = forms.CharField(max_length=2000, required=False, strip=False, label="Header value",
                                   widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}))

    def __init__(self, *args, current=None, **kwargs):
        self.current = current  # the DatasourceConnection being edited, or None
        super().__init__(*args, **kwargs)
        if current is not None:
            self.fields["password"].help_text = "Stored on the portal. Leave empty to keep it."
            self.fields["header_value"].help_text = "Leave empty to keep the stored headers."

    def clean_url(self):
        url = self.cleaned_data["url"]
        parts = urlsplit(url)
        wanted = ("http", "https") if self.cleaned_data.get("type", "http") == "http" else ("ftp", "ftps", "sftp")
        if parts.scheme not in wanted or not parts.hostname:
            raise forms.ValidationError(f"Enter a full address starting with {' or '.join(w + '://' for w in wanted)}.")
        if parts.username or parts.password:
            raise forms.ValidationError("Put the user name and the password in their own fields, not in the URL.")
        return url

    def clean(self):
        cleaned = super().clean()
        username, password = cleaned.get("username"), cleaned.get("password")
        old_username = getattr(self.current, "auth_username", None) or ""
        if password and not username:
            self.add_error("username", "Enter the user name that goes with the password.")
        elif username and not password and (self.current is None or username != old_username):
            self.add_error("password", "Enter the password for this user name (it is never shown back).")
        if bool(cleaned.get("header_name")) != bool(cleaned.get("header_value")) and not (
                self.current is not None and cleaned.get("header_name") in self.current.header_names):
            self.add_error("header_value", "Give both the header's name and its value.")
        return cleaned


class DatasourceAccessForm(forms.Form):
    kind = forms.ChoiceField(choices=[("user", "User"), ("group", "Group")], label="Who")
    target = forms.CharField(max_length=150, label="User name or group id",
                             widget=forms.TextInput(attrs={"placeholder": "e.g. louise.data or analysts"}))
    manage = forms.BooleanField(required=False, label="May manage it (share, edit, remove)")

    def clean_target(self):
        target = self.cleaned_data["target"].strip()
        if not target or "/" in target:
            raise forms.ValidationError("A user name or a group id, without '/'.")
        return target
