"""One way to show a portal's failure: one wording, one way onto a form, one 502 page (core/portalerrors.py)."""

import pytest
from django import forms

from portaladmin.core.portalerrors import form_add_portal_errors, portal_detail_text, portal_error_message
from portaladmin.portals.client.errors import (
    PortalAuthError,
    PortalConflict,
    PortalNotFound,
    PortalUnavailable,
    PortalValidationError,
)


class TitleForm(forms.Form):
    title = forms.CharField()
    url = forms.CharField(required=False)


def _form(**data):
    form = TitleForm({"title": "x", **data})
    assert form.is_valid()
    return form


@pytest.mark.parametrize("exc, read, wrote", [
    (PortalUnavailable("Down.", status=503), "The portal is unavailable right now. Try again in a moment. (Down.)",
     "The portal is unavailable right now; nothing was changed. Try again in a moment. (Down.)"),
    (PortalNotFound("Not found.", status=404), "That item no longer exists on the portal (deleted meanwhile?).",
     "That item no longer exists on the portal (deleted meanwhile?); nothing was changed."),
    (PortalAuthError("No.", status=403),
     "The portal refused the connection's API key (a permission is missing). Check the key on the connection's page.",
     "The portal refused the connection's API key (a permission is missing); nothing was changed. "
     "Check the key on the connection's page."),
    (PortalConflict("Busy.", status=400), "The portal refused this in the current state: Busy.",
     "The portal refused this in the current state; nothing was changed: Busy."),
])
def test_one_sentence_per_failure_and_nothing_changed_only_after_a_write(exc, read, wrote):
    assert portal_error_message(exc) == read
    assert portal_error_message(exc, wrote=True) == wrote


def test_validation_messages_land_on_the_deepest_known_field():
    form = _form()
    form_add_portal_errors(form, PortalValidationError("Invalid.", detail={
        "metas": {"default": {"title": ["Too long."]}}, "domain": ["Bad host."], "other": ["Odd."],
        "__all__": ["Whole form."]}), aliases={"domain": "url"})
    assert form.errors["title"] == ["Too long."]
    assert form.errors["url"] == ["Bad host."]
    assert form.non_field_errors() == ["other: Odd.", "Whole form."]


def test_flattened_details_are_peeled_back_onto_fields():
    form = _form()
    form_add_portal_errors(form, PortalValidationError("Invalid.", detail={"default": ["title: Too long."]}))
    assert form.errors["title"] == ["Too long."]


def test_a_failure_without_details_goes_on_top_in_the_common_wording():
    form = _form()
    form_add_portal_errors(form, PortalValidationError("The portal refused the request.", detail=None))
    assert form.non_field_errors() == ["The portal refused this: The portal refused the request."]


def test_detail_text_reads_in_one_line():
    assert portal_detail_text({"title": ["Too long."], "__all__": ["Bad."]}, "x") == "title: Too long. Bad."
    assert portal_detail_text(None, "fallback") == "fallback"


def test_the_copies_are_gone():
    import portaladmin.datasets.forms as dataset_forms
    import portaladmin.harvesters.views as harvester_views
    import portaladmin.pages.forms as page_forms
    import portaladmin.people.views as people_views

    assert not hasattr(dataset_forms, "apply_remote_errors") and not hasattr(page_forms, "apply_portal_errors")
    assert not hasattr(people_views, "_apply_portal_errors") and not hasattr(harvester_views, "_apply_field_errors")
