from django import forms

from portaladmin.promote.services import PROMOTABLE
from portaladmin.promote.snapshot import PART_LABELS

PART_CHOICES = [(p, PART_LABELS[p]) for p in PROMOTABLE]


class PromoteForm(forms.Form):
    to = forms.SlugField(max_length=100)
    target = forms.CharField(max_length=100, required=False)  # the counterpart chosen by hand (uid)
    dataset_id = forms.SlugField(max_length=255, label="dataset_id on the target (when it is created there)")
    parts = forms.MultipleChoiceField(choices=PART_CHOICES, widget=forms.CheckboxSelectMultiple,
                                      initial=[p for p, _ in PART_CHOICES])
    publish = forms.BooleanField(required=False, label="Publish on the target and watch until it is idle")
