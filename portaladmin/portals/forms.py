from urllib.parse import urlsplit

from django import forms
from django.contrib.auth import get_user_model

from portaladmin.core.netguard import validate_portal_url
from portaladmin.portals.models import Connection, Membership, Role


class ConnectionForm(forms.ModelForm):
    """Create or edit a connection. The API key is write-only: it is never rendered back."""

    api_key = forms.CharField(
        label="API key", required=False, strip=True, max_length=512,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted. Leave empty to keep the current key (a new host needs it again).",
    )

    class Meta:
        model = Connection
        fields = ["name", "slug", "base_url", "api_key", "connect_timeout", "read_timeout", "request_budget", "status_scan_budget",
                  "status_scan_hours", "notes"]
        labels = {"base_url": "Portal domain or URL"}
        help_texts = {"base_url": "e.g. data.example.org or https://data.example.org — https only.",
                      "slug": "Short name used in URLs, e.g. paris."}
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.previous_base_url = self.instance.base_url if self.instance.pk else ""
        if self.instance.pk is None:
            self.fields["api_key"].required = True
            self.fields["api_key"].error_messages["required"] = "Enter the portal API key."
            self.fields["api_key"].help_text = "Stored encrypted; never shown again."
        self.fields["status_scan_hours"].widget.attrs.update({"min": "0.25", "max": "168", "step": "0.25"})
        for name in ("connect_timeout", "read_timeout"):
            self.fields[name].min_value = 0.5
            self.fields[name].widget.attrs.update({"min": "0.5", "max": "300", "step": "0.5"})

    def clean_base_url(self):
        try:
            return validate_portal_url(self.cleaned_data["base_url"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_api_key(self):
        key = self.cleaned_data.get("api_key", "")
        if key and any(c.isspace() for c in key):
            raise forms.ValidationError("The API key must not contain spaces.")
        if self.instance.pk is None and not key:
            raise forms.ValidationError("Enter the portal API key.")
        return key

    def clean(self):
        cleaned = super().clean()
        hours = cleaned.get("status_scan_hours")
        if hours is not None and not 0.25 <= hours <= 168:  # more often than every 15 min would be a poll
            self.add_error("status_scan_hours", "Between 0.25 and 168 hours.")
        for name in ("connect_timeout", "read_timeout"):
            value = cleaned.get(name)
            if value is not None and value > 300:
                self.add_error(name, "At most 300 seconds.")
        # The stored key must never follow the URL to another server: a new host needs the key typed again.
        new_url = cleaned.get("base_url")
        if (self.previous_base_url and new_url and not cleaned.get("api_key") and "api_key" not in self.errors
                and origin(new_url) != origin(self.previous_base_url)):
            self.add_error("api_key", "The portal's address changed to another host: enter the API key for it "
                                      "again (the stored key is never sent to a new host).")
        return cleaned

    @property
    def base_url_changed(self) -> bool:
        return bool(self.previous_base_url) and self.cleaned_data.get("base_url") != self.previous_base_url

    def save(self, commit=True):
        connection = super().save(commit=False)
        if self.cleaned_data.get("api_key"):
            connection.set_api_key(self.cleaned_data["api_key"])
        if commit:
            connection.save()
        return connection

    @property
    def key_replaced(self) -> bool:
        return bool(self.cleaned_data.get("api_key"))


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the port made explicit: where a request would really go."""
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or {"https": 443, "http": 80}.get(parts.scheme)


class MembershipForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices)

    def __init__(self, *args, connection: Connection, **kwargs):
        self.connection = connection
        super().__init__(*args, **kwargs)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        try:
            user = get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist:
            raise forms.ValidationError("No active portaladmin user has this user name.") from None
        if Membership.objects.filter(user=user, connection=self.connection).exists():
            raise forms.ValidationError("This person already has a role here; change it in the table.")
        self.cleaned_data["user"] = user
        return username


class RoleChangeForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
