from zoneinfo import available_timezones

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import validate_email

from portaladmin.core.netguard import validate_webhook_url
from portaladmin.notify.models import RULE_EVENT_CHOICES, Audience, Channel, Rule, Scope
from portaladmin.portals.permissions import ADMIN, VIEW, has_role

TIMEZONES = sorted(available_timezones())


class RuleForm(forms.ModelForm):
    events = forms.MultipleChoiceField(choices=RULE_EVENT_CHOICES, widget=forms.CheckboxSelectMultiple,
                                       label="Events")
    timezone = forms.ChoiceField(choices=[(z, z) for z in TIMEZONES], initial="UTC", label="Time zone")

    class Meta:
        model = Rule
        fields = ["name", "scope", "audience", "addresses", "events", "connections", "channel", "email", "webhook_url",
                  "slack_text", "schedule", "digest_hour", "timezone", "active"]
        labels = {"scope": "Who it is for", "audience": "Recipients (e-mail)", "addresses": "E-mail addresses",
                  "connections": "Connections", "email": "E-mail address", "webhook_url": "Webhook URL",
                  "slack_text": "Add a Slack/Teams-compatible “text” field", "digest_hour": "Digest hour (0–23)"}
        help_texts = {"scope": "Connection rules: their admins. Team rules: superusers.",
                      "audience": "Either way, a person only hears about connections they have a role on "
                                  "(checked when sending).",
                      "addresses": "One a line; each must be someone here with a role on the rule's connections.",
                      "connections": "None chosen: every connection you can see, now and later.",
                      "email": "Empty: your own address.",
                      "webhook_url": "https://…; each message is signed with this rule's secret."}
        widgets = {"connections": forms.CheckboxSelectMultiple, "addresses": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, connections=None, owner=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.fields["connections"].queryset = connections
        self.fields["connections"].required = False
        self.fields["connections"].to_field_name = "slug"  # a forged huge number is just an unknown choice
        self.fields["digest_hour"].widget.attrs.update(min=0, max=23)
        self.fields["scope"].required = self.fields["audience"].required = False  # absent: a personal rule
        # Offer only the scopes this person may use (the clean methods check again).
        admin_somewhere = bool(owner and any(has_role(owner, c, ADMIN) for c in (connections or [])))
        self.fields["scope"].choices = [(v, label) for v, label in Scope.choices
                                        if v == Scope.PERSONAL or (v == Scope.CONNECTION and admin_somewhere)
                                        or (v == Scope.TEAM and getattr(owner, "is_superuser", False))]

    def clean_digest_hour(self):
        hour = self.cleaned_data["digest_hour"]
        if hour is None or not 0 <= hour <= 23:
            raise forms.ValidationError("Choose an hour from 0 to 23.")
        return hour

    def clean_webhook_url(self):
        url = self.cleaned_data.get("webhook_url", "").strip()
        if self.data.get(self.add_prefix("channel")) == Channel.WEBHOOK or url:
            try:
                url = validate_webhook_url(url)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        return url

    def clean_scope(self):
        return self.cleaned_data.get("scope") or Scope.PERSONAL

    def clean_audience(self):
        return self.cleaned_data.get("audience") or Audience.ROLES

    def clean_addresses(self):
        raw = self.cleaned_data.get("addresses", "")
        addresses = [a.strip() for a in raw.replace(",", "\n").splitlines() if a.strip()]
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError:
                raise forms.ValidationError(f"“{address}” is not an e-mail address.") from None
        return "\n".join(addresses)

    def clean(self):
        data = super().clean()
        scope = data.get("scope") or Scope.PERSONAL
        chosen = list(data.get("connections") or [])
        if scope == Scope.TEAM and not getattr(self.owner, "is_superuser", False):
            self.add_error("scope", "Only a superuser can make a rule for the whole team.")
        if scope == Scope.CONNECTION:
            if not chosen:
                self.add_error("connections", "Choose the connections this rule is for.")
            refused = [c.name for c in chosen if not has_role(self.owner, c, ADMIN)]
            if refused:
                self.add_error("connections", f"You are not an admin of {', '.join(refused)}: a rule for its "
                                              "people needs the admin role.")
        if scope == Scope.PERSONAL:
            data["audience"], data["addresses"] = Audience.ROLES, ""
            if data.get("channel") == Channel.EMAIL and not data.get("email") and not getattr(
                    self.owner, "email", ""):
                self.add_error("email", "You have no e-mail address on your account: enter one here.")
        elif data.get("audience") == Audience.ADDRESSES and data.get("channel") == Channel.EMAIL:
            self._check_addresses(data.get("addresses", ""), chosen)
        return data

    def _check_addresses(self, addresses: str, chosen: list) -> None:
        wanted = [a for a in addresses.splitlines() if a]
        if not wanted:
            self.add_error("addresses", "Enter at least one e-mail address.")
            return
        users = list(get_user_model().objects.filter(is_active=True).exclude(email=""))
        for address in wanted:
            people = [u for u in users if u.email.lower() == address.lower()]
            scope_conns = chosen or list(self.fields["connections"].queryset)
            if not any(has_role(u, c, VIEW) for u in people for c in scope_conns):
                self.add_error("addresses", f"{address} is nobody with a role on these connections: they would "
                                            "never receive anything.")
