"""Input validation for pages (no API calls here). The portal's own validation errors are mapped back
onto these forms by `core.portalerrors.form_add_portal_errors`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.forms import BaseFormSet, formset_factory

from portaladmin.pages.content import MAX_CONTENT_BYTES, content_size, is_language_code
from portaladmin.pages.selectors import PERMISSIONS

slug_validator = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
                                "Use letters, digits, hyphens and underscores only (no spaces), e.g. my-page.")


class StudioPageForm(forms.Form):
    slug = forms.CharField(max_length=100, validators=[slug_validator],
                           help_text="Used in the page's URL on the portal.")
    public = forms.BooleanField(required=False, label="Public",
                                help_text="Visible to everyone who can explore the portal. "
                                          "Otherwise only to the users and groups given access below.")


class CodePageForm(forms.Form):
    slug = forms.CharField(max_length=100, validators=[slug_validator],
                           help_text="Used in the page's URL on the portal.")
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    template = forms.CharField(required=False, max_length=200,
                               help_text="The HTML template of the page, e.g. custom.html. "
                                         "Leave empty for the portal's default.")
    tags = forms.CharField(required=False, max_length=1000, help_text="Separated by commas.")
    is_restricted = forms.BooleanField(required=False, label="Restricted",
                                       help_text="Only the users and groups given access can see it.")

    def clean_tags(self) -> list[str]:
        raw = self.cleaned_data.get("tags") or ""
        return list(dict.fromkeys(t.strip() for t in raw.split(",") if t.strip()))


class LanguageForm(forms.Form):
    language = forms.CharField(max_length=10, widget=forms.TextInput(attrs={"list": "iso-languages",
                                                                            "size": 4, "autocomplete": "off"}),
                               help_text="Two-letter ISO 639-1 code, e.g. en, fr, de.")
    title = forms.CharField(max_length=500)
    html = forms.CharField(required=False, label="HTML", strip=False,
                           widget=forms.Textarea(attrs={"rows": 10, "class": "mono", "spellcheck": "false"}))
    css = forms.CharField(required=False, label="CSS", strip=False,
                          widget=forms.Textarea(attrs={"rows": 4, "class": "mono", "spellcheck": "false"}))

    def clean_language(self) -> str:
        code = (self.cleaned_data.get("language") or "").strip().lower()
        if not is_language_code(code):
            raise forms.ValidationError(
                f"“{code}” is not a language code. Use a two-letter ISO 639-1 code such as en, fr or de.")
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        size = content_size(data.get("html", ""), data.get("css", ""))
        if size > MAX_CONTENT_BYTES:
            self.add_error("html", f"HTML and CSS for this language weigh {size / 1_000_000:.1f} MB; "
                                   f"the limit is {MAX_CONTENT_BYTES // 1_000_000} MB per language. "
                                   "Move images and large styles to assets.")
        return data


class BaseLanguageFormSet(BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[str] = set()
        for form in self.forms:
            if self._skipped(form):
                continue
            code = form.cleaned_data["language"]
            if code in seen:
                form.add_error("language", f"“{code}” appears twice: keep one block per language.")
            seen.add(code)
        if not seen:
            raise forms.ValidationError("Add at least one language with a title.")

    def languages(self) -> list[dict[str, str]]:
        """The filled, kept language blocks: [{"language", "title", "html", "css"}]."""
        return [{k: form.cleaned_data.get(k, "") for k in ("language", "title", "html", "css")}
                for form in self.forms if not self._skipped(form)]

    def _skipped(self, form) -> bool:
        return not form.has_changed() or not form.cleaned_data or (self.can_delete and self._should_delete_form(form))


# Every block may be left empty (skipped); filled blocks are validated whole.
LanguageFormSet = formset_factory(LanguageForm, formset=BaseLanguageFormSet, extra=0, can_delete=True)
LANG_PREFIX = "lang"


def language_formset(data=None, *, initial: list[dict] | None = None, add: int = 0) -> BaseLanguageFormSet:
    """Bound to `data` (a POST), or unbound with `initial` rows plus `add` empty blocks."""
    if data is not None:
        return LanguageFormSet(data, prefix=LANG_PREFIX, form_kwargs={"empty_permitted": True})
    rows = list(initial or []) + [{} for _ in range(add)]
    return LanguageFormSet(initial=rows, prefix=LANG_PREFIX, form_kwargs={"empty_permitted": True})


def posted_language_rows(data) -> list[dict[str, str]]:
    """The language blocks of a POST, as typed (for re-displaying the form with one more block)."""
    try:
        total = min(int(data.get(f"{LANG_PREFIX}-TOTAL_FORMS", 0)), 50)
    except (TypeError, ValueError):
        total = 0
    rows = []
    for i in range(total):
        p = f"{LANG_PREFIX}-{i}-"
        if data.get(p + "DELETE"):
            continue
        rows.append({k: data.get(p + k, "") for k in ("language", "title", "html", "css")})
    return rows


class RulesetForm(forms.Form):
    target_kind = forms.ChoiceField(choices=[("user", "User"), ("group", "Group")], label="Who")
    target = forms.CharField(max_length=150, label="Username or group id")
    permissions = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple,
                                            help_text="Without edit_page the user or group may only see the page.")

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = [(p, p) for p in PERMISSIONS[kind]]

    def clean_target(self) -> str:
        target = self.cleaned_data["target"].strip()
        if not target or "/" in target:
            raise forms.ValidationError("Give a username or a group id (no slashes).")
        return target


class BulkDeleteForm(forms.Form):
    slug = forms.MultipleChoiceField(required=True, error_messages={"required": "Select at least one page."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any slug may be asked for: the portal answers with those it actually deleted.
        self.fields["slug"].valid_value = lambda value: bool(value) and "/" not in value and len(value) <= 200
