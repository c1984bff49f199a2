"""Input validation for the fleet pages (no remote calls)."""

from __future__ import annotations

from django import forms

from portaladmin.core.filterbar import FilterBarMixin
from portaladmin.datasets.forms import DatasetListForm
from portaladmin.fleet.selectors import HEALTH_FILTERS

BULK_MAX_ROWS = 1000


class FleetDatasetFilterForm(DatasetListForm):
    """The datasets list's filters (same names, same meaning) plus the connection."""

    connection = forms.ChoiceField(required=False)

    def __init__(self, *args, connections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connection"].choices = [("", "All connections")] + [(c.slug, c.name) for c in connections]
        self.fields["q"].widget.attrs.update({"placeholder": "Search dataset id, title, keywords", "type": "search"})

    def filters(self) -> dict:
        result = super().filters()
        value = self.data.get("connection") or ""
        result["connection_slug"] = value if value in dict(self.fields["connection"].choices) else ""
        return result


class FleetBulkForm(forms.Form):
    action = forms.ChoiceField(choices=[("publish", "Publish"), ("unpublish", "Unpublish"),
                                        ("metadata", "Edit metadata…")])
    # "selected": the ticked rows; "all": every row matching the filters of the board.
    scope = forms.ChoiceField(choices=[("selected", "selected"), ("all", "all")], required=False)
    sel = forms.MultipleChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        values = self.data.getlist("sel") if hasattr(self.data, "getlist") else self.data.get("sel", [])
        self.fields["sel"].choices = [(v, v) for v in values[:BULK_MAX_ROWS + 1]]

    def clean(self):
        data = super().clean()
        if data.get("scope") != "all" and not data.get("sel"):
            raise forms.ValidationError("Select at least one dataset.")
        if len(data.get("sel") or []) > BULK_MAX_ROWS:
            raise forms.ValidationError(f"Select at most {BULK_MAX_ROWS:,} datasets at once.")
        return data


class HarvesterFilterForm(FilterBarMixin, forms.Form):
    connection = forms.ChoiceField(required=False)
    health = forms.ChoiceField(required=False, choices=[("", "Any health")] + [(h, h) for h in HEALTH_FILTERS])
    q = forms.CharField(required=False, max_length=200, label="Search")

    def __init__(self, *args, connections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connection"].choices = [("", "All connections")] + [(c.slug, c.name) for c in connections]
        self.fields["q"].widget.attrs.update({"placeholder": "Name, uid or type", "type": "search"})

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {"connection_slug": data.get("connection") or "", "health": data.get("health") or "",
                "q": (data.get("q") or "").strip()}


class PersonLookupForm(forms.Form):
    q = forms.CharField(max_length=254, min_length=2, label="E-mail or username",
                        widget=forms.TextInput(attrs={"placeholder": "jane@example.org or jdoe", "type": "search"}))

    def clean_q(self):
        return self.cleaned_data["q"].strip()


class OffboardForm(forms.Form):
    """account = '<connection id>:<username>' for every portal to remove the person from."""

    person = forms.CharField(max_length=254, required=False)
    account = forms.MultipleChoiceField(error_messages={"required": "Select at least one portal."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        values = self.data.getlist("account") if hasattr(self.data, "getlist") else self.data.get("account", [])
        self.fields["account"].choices = [(v, v) for v in values[:200]]

    def accounts(self) -> list[tuple[int, str]]:
        pairs = []
        for value in self.cleaned_data.get("account", []):
            conn_id, _, username = value.partition(":")
            if conn_id.isdigit() and username:
                pairs.append((int(conn_id), username[:150]))
        return pairs
