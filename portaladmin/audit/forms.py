from django import forms

from portaladmin.audit.models import Outcome
from portaladmin.core.filterbar import FilterBarMixin


class ActivityFilterForm(FilterBarMixin, forms.Form):
    connection = forms.ChoiceField(required=False)
    # The filter bar shows bare inputs (no labels): the placeholder says what each one filters on.
    person = forms.CharField(required=False, max_length=150, widget=forms.TextInput(
        attrs={"placeholder": "Person (user name)", "aria-label": "Person"}))
    action = forms.CharField(required=False, max_length=80, help_text="e.g. dataset. or auth.login",
                             widget=forms.TextInput(attrs={"placeholder": "Action, e.g. dataset. or auth.login",
                                                           "aria-label": "Action"}))
    outcome = forms.ChoiceField(required=False, choices=[("", "Any outcome"), *Outcome.choices])
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, connections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connection"].choices = [("", "All connections")] + [(c.slug, c.name) for c in connections]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("since") and cleaned.get("until") and cleaned["since"] > cleaned["until"]:
            self.add_error("until", "The end date is before the start date.")
        return cleaned
