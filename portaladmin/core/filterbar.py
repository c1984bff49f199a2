"""Filter bars show bare controls in one line (no visible <label>): each control still needs a name for screen
readers, so every field gets its label as `aria-label` unless the form set one."""

from django.forms.utils import pretty_name


class FilterBarMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("aria-label", field.label or pretty_name(name))
