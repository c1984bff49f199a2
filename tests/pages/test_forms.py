"""Local validation of pages input: slugs, language codes, content size, language blocks, portal errors."""

import pytest
from django.forms import Form

from portaladmin.core.portalerrors import form_add_portal_errors
from portaladmin.pages.content import MAX_CONTENT_BYTES
from portaladmin.pages.forms import (
    CodePageForm,
    RulesetForm,
    StudioPageForm,
    language_formset,
    posted_language_rows,
)
from portaladmin.portals.client.errors import PortalUnavailable, PortalValidationError


def lang_data(*rows, deleted=()):
    data = {"lang-TOTAL_FORMS": str(len(rows)), "lang-INITIAL_FORMS": "0", "lang-MIN_NUM_FORMS": "0",
            "lang-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"lang-{i}-{key}"] = value
        if i in deleted:
            data[f"lang-{i}-DELETE"] = "on"
    return data


def test_languages_are_normalised_and_collected():
    fs = language_formset(lang_data({"language": " EN ", "title": "Hello", "html": "<p>x</p>", "css": ""},
                                    {"language": "fr", "title": "Bonjour", "html": "", "css": ""}))
    assert fs.is_valid(), fs.errors
    assert [r["language"] for r in fs.languages()] == ["en", "fr"]


@pytest.mark.parametrize("code", ["english", "xx", "e", "en-US", "123"])
def test_invalid_language_code_has_a_clear_message(code):
    fs = language_formset(lang_data({"language": code, "title": "T"}))
    assert not fs.is_valid()
    message = fs.forms[0].errors["language"][0]
    assert "is not a language code" in message and "ISO 639-1" in message


def test_duplicate_language_is_refused():
    fs = language_formset(lang_data({"language": "en", "title": "A"}, {"language": "en", "title": "B"}))
    assert not fs.is_valid()
    assert "appears twice" in fs.forms[1].errors["language"][0]


def test_at_least_one_language_is_needed_and_blank_blocks_are_ignored():
    fs = language_formset(lang_data({"language": "", "title": "", "html": "", "css": ""}))
    assert not fs.is_valid()
    assert "at least one language" in fs.non_form_errors()[0]
    fs = language_formset(lang_data({"language": "en", "title": "A"}, {"language": "", "title": ""}))
    assert fs.is_valid(), fs.errors
    assert len(fs.languages()) == 1


def test_removed_language_is_not_sent():
    fs = language_formset(lang_data({"language": "en", "title": "A"}, {"language": "de", "title": "B"}, deleted=(1,)))
    assert fs.is_valid(), fs.errors
    assert [r["language"] for r in fs.languages()] == ["en"]


def test_oversized_content_is_refused_with_the_limit_in_the_message():
    big = "x" * (MAX_CONTENT_BYTES - 10)
    fs = language_formset(lang_data({"language": "en", "title": "T", "html": big, "css": "y" * 20}))
    assert not fs.is_valid()
    message = fs.forms[0].errors["html"][0]
    assert "limit is 1 MB per language" in message
    ok = language_formset(lang_data({"language": "en", "title": "T", "html": big, "css": ""}))
    assert ok.is_valid(), ok.errors


def test_content_whitespace_is_kept():
    fs = language_formset(lang_data({"language": "en", "title": "T", "html": "  <p>\n  x\n</p>\n", "css": ""}))
    assert fs.is_valid()
    assert fs.languages()[0]["html"] == "  <p>\n  x\n</p>\n"


def test_posted_rows_keep_what_was_typed_for_add_a_language():
    data = lang_data({"language": "en", "title": "A", "html": "<b>", "css": ""}, {"language": "de", "title": "B"},
                     deleted=(1,))
    assert posted_language_rows(data) == [{"language": "en", "title": "A", "html": "<b>", "css": ""}]
    fs = language_formset(initial=posted_language_rows(data), add=1)
    assert len(fs.forms) == 2 and not fs.is_bound


def test_code_page_tags_are_split_and_deduplicated():
    form = CodePageForm({"slug": "hello_world", "tags": "news, home,news,, "})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["tags"] == ["news", "home"]


@pytest.mark.parametrize("slug", ["has space", "", "-lead", "a/b"])
def test_bad_slugs_are_refused(slug):
    assert not StudioPageForm({"slug": slug}).is_valid()


def test_portal_field_errors_land_on_the_field():
    form = StudioPageForm({"slug": "taken", "public": "on"})
    assert form.is_valid()
    form_add_portal_errors(form, PortalValidationError("Invalid data.", status=400, error_code="validation_error",
                                                    detail={"slug": ["A page with this slug already exists."],
                                                            "contents": {"0": ["bad"]}}))
    assert form.errors["slug"] == ["A page with this slug already exists."]
    assert "contents.0: bad" in form.non_field_errors()


def test_portal_errors_without_detail_go_on_top():
    form = Form({})
    form.is_valid()
    form_add_portal_errors(form, PortalUnavailable("The portal is unavailable.", status=503))
    assert form.non_field_errors() == ["The portal is unavailable right now; nothing was changed. Try again in a moment. "
                                      "(The portal is unavailable.)"]


def test_ruleset_permissions_depend_on_the_page_kind():
    assert RulesetForm({"target_kind": "user", "target": "u", "permissions": ["manage_page"]}, kind="code").is_valid()
    assert not RulesetForm({"target_kind": "user", "target": "u", "permissions": ["manage_page"]},
                           kind="studio").is_valid()
    assert not RulesetForm({"target_kind": "user", "target": "a/b"}, kind="studio").is_valid()
