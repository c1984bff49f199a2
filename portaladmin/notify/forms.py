from zoneinfo import available_timezones

from django import forms

from portaladmin.core.netguard import validate_webhook_url
from portaladmin.notify.models import RULE_EVENT_CHOICES, Channel, Rule

TIMEZONES = sorted(available_timezones())


class RuleForm(forms.ModelForm):
    events = forms.MultipleChoiceField(choices=RULE_EVENT_CHOICES, widget=forms.CheckboxSelectMultiple,
                                       label="Events")
    timezone = forms.ChoiceField(choices=[(z, z) for z in TIMEZONES], initial="UTC", label="Time zone")

    class Meta:
        model = Rule
        fields = ["name", "events", "connections", "channel", "email", "webhook_url", "slack_text", "schedule",
                  "digest_hour", "timezone", "active"]
        labels = {"connections": "Connections", "email": "E-mail address", "webhook_url": "Webhook URL",
                  "slack_text": "Add a Slack/Teams-compatible “text” field", "digest_hour": "Digest hour (0–23)"}
        help_texts = {"connections": "None chosen: every connection you can see, now and later.",
                      "email": "Empty: your own address.",
                      "webhook_url": "https://…; each message is signed with this rule's secret."}
        widgets = {"connections": forms.CheckboxSelectMultiple}

    def __init__(self, *args, connections=None, owner=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.fields["connections"].queryset = connections
        self.fields["connections"].required = False
        self.fields["connections"].to_field_name = "slug"  # a forged huge number is just an unknown choice
        self.fields["digest_hour"].widget.attrs.update(min=0, max=23)

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

    def clean(self):
        data = super().clean()
        if data.get("channel") == Channel.EMAIL and not data.get("email") and not getattr(
                self.owner, "email", ""):
            self.add_error("email", "You have no e-mail address on your account: enter one here.")
        return data
