from django import forms

from portaladmin.core.filterbar import FilterBarMixin
from portaladmin.jobs.models import JobStatus
from portaladmin.jobs.registry import kinds


class JobFilterForm(FilterBarMixin, forms.Form):
    connection = forms.ChoiceField(required=False)
    kind = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *JobStatus.choices])
    person = forms.CharField(required=False, max_length=150, widget=forms.TextInput(attrs={"placeholder": "Person"}))

    def __init__(self, *args, connections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connection"].choices = [("", "All connections")] + [(c.slug, c.name) for c in connections]
        self.fields["kind"].choices = [("", "Any kind")] + sorted((name, name) for name in kinds())
