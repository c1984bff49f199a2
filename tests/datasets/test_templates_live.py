"""Custom metadata templates from portaladmin against the sandbox portal over real HTTP: create, edit (fields
kept losslessly), refusals mapped onto the rows they concern, built-ins left alone, delete; admins only."""

import pytest
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.portals.client import client_for
from portaladmin.portals.models import Role
from portaladmin.sandbox.services import request_counts, reset_request_log

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def url(view, **kw):
    return reverse(f"datasets:{view}", kwargs={"conn": "demo", **kw})


def rows(*fields, total=None):
    """The POST of the field rows: each (name, type, requirement, choices)."""
    data = {"f-TOTAL_FORMS": str(total or len(fields)), "f-INITIAL_FORMS": "0"}
    for i, (name, type_, level, choices) in enumerate(fields):
        data.update({f"f-{i}-name": name, f"f-{i}-label": name.title(), f"f-{i}-type": type_,
                     f"f-{i}-requirement_level": level, f"f-{i}-choices": choices, f"f-{i}-help_text": ""})
    return data


@pytest.fixture
def admin(sandbox_connection, make_user, client):
    conn = sandbox_connection("tpl", slug="demo", datasets=1, users=1, groups=0, harvesters=0, pages=0)
    client.force_login(make_user("ada", role=Role.ADMIN, connection=conn))
    return conn, client


def test_create_then_edit_a_custom_template_keeps_what_the_form_does_not_show(admin):
    conn, client = admin
    # given a new template with an enumeration and a list
    response = client.post(url("template_create"), {"name": "ops", "title": "Operations", "type": "admin",
                                                    "is_active": "on", **rows(("tier", "enum", "mandatory", "gold\nsilver"),
                                                                              ("owners", "list", "optional", ""),
                                                                              ("", "text", "optional", ""))})
    assert response.status_code == 302
    portal = client_for(conn)
    created = portal.metadata_template_get("ops")
    assert [(f.name, f.type, f.required, f.choices) for f in created.fields] == [
        ("tier", "enum", True, ["gold", "silver"]), ("owners", "list", False, None)]
    assert AuditEvent.objects.filter(action="metadata.template.create", target="ops").exists()
    # and a property the form does not show, set on the portal by someone else
    body = {"name": "ops", "title": "Operations", "type": "admin", "is_active": True,
            "schema": [{**{k: v for k, v in f.items() if k not in ("is_hidden", "suggest_url")},
                        "labels": {"gold": {"fr": "or"}}} if f["name"] == "tier" else
                       {k: v for k, v in f.items() if k not in ("is_hidden", "suggest_url")} for f in created.schema]}
    portal.metadata_template_update("ops", body)
    # when the title changes and a value is added in the editor
    page = client.get(url("template_edit", name="ops"))
    assert page.status_code == 200 and "gold\nsilver" in page.content.decode()
    data = {"title": "Ops team", "type": "admin", "is_active": "on",
            **rows(("tier", "enum", "mandatory", "gold\nsilver\nbronze"), ("owners", "list", "optional", ""))}
    data.update({"f-0-original": "tier", "f-1-original": "owners", "f-INITIAL_FORMS": "2"})
    assert client.post(url("template_edit", name="ops"), data).status_code == 302
    # then the portal has the change, and the labels nobody touched here are still there
    saved = portal.metadata_template_get("ops")
    tier = saved.fields[0]
    assert saved.title == "Ops team" and tier.choices == ["gold", "silver", "bronze"]
    assert tier.labels == {"gold": {"fr": "or"}}


def test_refusals_land_on_the_row_and_what_was_typed_stays(admin):
    conn, client = admin
    # an enumeration without values is refused before anything is sent
    reset_request_log("tpl")
    page = client.post(url("template_create"), {"name": "ops", "title": "Ops", "type": "basic",
                                                **rows(("tier", "enum", "optional", ""))})
    assert page.status_code == 200 and "List the allowed values" in page.content.decode()
    assert request_counts("tpl", "POST") == 0
    # a name the portal already has: its refusal lands on the name, the rows stay as typed
    page = client.post(url("template_create"), {"name": "internal", "title": "Mine", "type": "basic",
                                                **rows(("reviewer", "text", "optional", ""))})
    html = page.content.decode()
    assert page.status_code == 200 and "A template with this name already exists." in html
    assert 'value="reviewer"' in html


def test_place_schema_errors_puts_each_portal_message_on_its_row():
    from django.http import QueryDict

    from portaladmin.datasets.template_forms import field_formset, place_schema_errors

    data = QueryDict(mutable=True)
    data.update(rows(("a", "text", "optional", ""), ("", "text", "optional", ""), ("b", "text", "optional", "")))
    formset = field_formset(data)
    assert formset.is_valid()
    rest = place_schema_errors(formset, {"schema": [{}, {"type": ["Bad type."]}], "title": ["Too long."]})
    # the empty row was not sent: the portal's second entry is the third row
    assert formset.forms[2].errors == {"type": ["Bad type."]} and not formset.forms[0].errors
    assert rest == {"title": ["Too long."]}


def test_built_in_templates_are_only_switched_and_custom_ones_deleted(admin):
    conn, client = admin
    html = client.get(url("templates")).content.decode()
    assert 'href="/c/demo/datasets/templates/default/edit/"' not in html
    assert "/c/demo/datasets/templates/internal/active/" in html
    # editing a built-in is refused before anything is sent
    reset_request_log("tpl")
    response = client.get(url("template_edit", name="dcat"), follow=True)
    assert "provided by the platform" in response.content.decode() and request_counts("tpl", "PUT") == 0
    assert client.post(url("template_delete", name="default")).status_code == 302
    assert request_counts("tpl", "DELETE") == 0
    # switching one off keeps its fields as they are
    before = client_for(conn).metadata_template_get("internal").schema
    client.post(url("template_active", name="internal"), {"active": "0"})
    after = client_for(conn).metadata_template_get("internal")
    assert after.is_active is False and after.schema == before
    # a custom one goes
    client_for(conn).metadata_template_create({"name": "tmp", "title": "Tmp", "type": "basic", "is_active": True,
                                               "schema": [{"name": "x", "type": "text"}]})
    client.post(url("template_delete", name="tmp"))
    assert "tmp" not in {t.name for t in client_for(conn).metadata_template_list(limit=100)}
    assert AuditEvent.objects.filter(action="metadata.template.delete", target="tmp").exists()


def test_operators_cannot_change_templates(sandbox_connection, make_user, client):
    conn = sandbox_connection("tpl", slug="demo", datasets=1, users=1, groups=0, harvesters=0, pages=0)
    client.force_login(make_user("otto", role=Role.OPERATOR, connection=conn))
    assert "New template" not in client.get(url("templates")).content.decode()
    assert client.post(url("template_create"), {"name": "x"}).status_code == 403
