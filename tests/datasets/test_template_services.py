"""Template writes through the real client against `responses`: the bodies sent (checked against the spec's
schema by hand here: the whole template on PUT, read-only properties never sent) and what is audited."""

import json

import pytest
from django.http import QueryDict
from responses import matchers

from portaladmin.audit.models import AuditEvent
from portaladmin.datasets.services.templates import (
    metadata_template_delete,
    metadata_template_set_active,
    template_editable,
    template_switchable,
)
from portaladmin.datasets.template_forms import TemplateForm, field_formset, template_body
from portaladmin.portals.client.errors import PortalValidationError
from portaladmin.portals.client.schemas import MetadataTemplate

from .conftest import API

pytestmark = pytest.mark.django_db

INTERNAL = {"name": "internal", "title": "Internal", "type": "admin", "is_active": True, "is_system": True,
            "is_always_active": False, "schema": [{"name": "draft", "type": "boolean", "label": "Draft",
                                                   "is_hidden": False, "suggest_url": None,
                                                   "labels": {"x": {"fr": "y"}}}]}


def test_switching_off_sends_the_template_back_whole_without_read_only_properties(api, connection, make_user):
    user = make_user("ada")
    api.get(f"{API}/metadata/templates/internal/", json=INTERNAL)
    sent = {"name": "internal", "title": "Internal", "type": "admin", "is_active": False,
            "schema": [{"name": "draft", "type": "boolean", "label": "Draft", "labels": {"x": {"fr": "y"}}}]}
    api.put(f"{API}/metadata/templates/internal/", json={**INTERNAL, "is_active": False},
            match=[matchers.json_params_matcher(sent)])
    assert metadata_template_set_active(connection=connection, actor=user, name="internal", active=False).is_active \
        is False
    assert AuditEvent.objects.filter(action="metadata.template.deactivate", target="internal").exists()


def test_a_refused_delete_is_audited_as_a_failure(api, connection, make_user):
    api.delete(f"{API}/metadata/templates/default/", status=400,
               json={"error_code": "validation_error", "message": "A built-in template cannot be removed.",
                     "detail": {"name": ["A built-in template cannot be removed."]}})
    with pytest.raises(PortalValidationError):
        metadata_template_delete(connection=connection, actor=make_user("ada"), name="default")
    assert AuditEvent.objects.get(action="metadata.template.delete").outcome == "failure"


def test_what_may_change_follows_the_spec():
    def t(**kw):
        return MetadataTemplate.from_dict({"name": "x", "type": "basic", **kw})

    assert template_editable(t(is_system=False)) and not template_editable(t(is_system=True))
    assert not template_editable(t(type="interop", is_system=False))
    assert template_switchable(t(is_system=True, type="admin")) and not template_switchable(t(is_always_active=True))
    assert not template_switchable(t(type="extra"))  # the API's PUT body takes basic or admin only


def test_the_body_keeps_a_fields_unshown_properties_and_follows_a_rename():
    stored = {"name": "ops", "schema": [{"name": "tier", "type": "enum", "choices": ["a"], "i18n": True,
                                         "labels": {"a": {"fr": "A"}}, "is_hidden": False, "suggest_url": None}]}
    data = QueryDict(mutable=True)
    data.update({"title": "Ops", "type": "basic", "is_active": "on", "f-TOTAL_FORMS": "2", "f-INITIAL_FORMS": "1",
                 "f-0-original": "tier", "f-0-name": "level", "f-0-type": "enum", "f-0-requirement_level": "optional",
                 "f-0-choices": "a\r\nb\r\n", "f-0-label": "", "f-0-help_text": "",
                 "f-1-name": "", "f-1-type": "text", "f-1-requirement_level": "optional"})
    form, formset = TemplateForm(data, initial={"name": "ops"}, editing=True), field_formset(data)
    assert form.is_valid() and formset.is_valid(), (form.errors, formset.errors)
    body = template_body(form, formset, stored=stored)
    assert body["name"] == "ops" and body["is_active"] is True
    assert body["schema"] == [{"name": "level", "type": "enum", "choices": ["a", "b"], "i18n": True,
                               "labels": {"a": {"fr": "A"}}, "label": "level", "requirement_level": "optional",
                               "help_text": None}]
    assert "is_hidden" not in json.dumps(body)


def test_duplicate_names_are_refused_before_anything_is_sent():
    data = QueryDict(mutable=True)
    data.update({"f-TOTAL_FORMS": "2", "f-INITIAL_FORMS": "0", "f-0-name": "a", "f-0-type": "text",
                 "f-0-requirement_level": "optional", "f-1-name": "a", "f-1-type": "int",
                 "f-1-requirement_level": "optional"})
    formset = field_formset(data)
    assert not formset.is_valid() and "used twice" in str(formset.non_form_errors())
