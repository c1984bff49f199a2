"""The typed metadata editor against the sandbox portal over real HTTP: what the portal holds after each save,
and how many write requests reached it (the sandbox's request log)."""

import pytest
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.portals.client import client_for
from portaladmin.portals.models import Role
from portaladmin.sandbox.services import request_counts, reset_request_log

from .test_metadata_editor import browser_post

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

KEY = "sandbox-metadata-key-0123456789"
HX = {"HX-Request": "true"}
TRICKY = ["Paris, France", 'say "hi", then \'bye\'', "Zürich, 東京 🌳", "", "a,b,,c"]


def url(name, **kw):
    return reverse(f"datasets:{name}", kwargs={"conn": "demo", **kw})


def _editor(client, uid, template):
    response = client.get(url("tab", uid=uid, tab="metadata"))
    return next(e for e in response.context["editors"] if e.name == template)


def _save(client, uid, template, data):
    return client.post(url("metadata_template", uid=uid, template=template),
                       {key: data.getlist(key) for key in data}, headers=HX)


def _fields_written() -> list[str]:
    """The fields portaladmin wrote, from its audit trail (one event per remote write)."""
    return [name for e in AuditEvent.objects.filter(action__startswith="dataset.metadata.").order_by("pk")
            for name in e.extra.get("fields", [])]


def _writes(portal: str) -> int:
    return sum(request_counts(portal, method) for method in ("PUT", "DELETE", "POST"))


@pytest.fixture
def setup(sandbox_connection, make_user, client):
    conn = sandbox_connection("mdl", slug="demo", api_key=KEY, datasets=3, users=1, groups=0, harvesters=0,
                              pages=0)
    client.force_login(make_user("olga", role=Role.OPERATOR, connection=conn))
    uid = client_for(conn).dataset_list(limit=1).results[0].uid
    return conn, uid, client


def test_every_template_round_trips_unchanged_without_a_single_write(setup):
    conn, uid, client = setup
    for template in ("default", "internal", "visualization", "dcat", "inspire"):
        editor = _editor(client, uid, template)
        assert editor.form is not None, template
        reset_request_log("mdl")
        html = _save(client, uid, template, browser_post(editor.form)).content.decode()
        assert "Nothing changed" in html, template
        assert _writes("mdl") == 0, template


def test_list_items_with_commas_quotes_unicode_and_empty_strings_survive_and_only_the_edit_is_sent(setup):
    conn, uid, client = setup
    portal = client_for(conn)
    before = portal.metadata_get_all(uid)
    editor = _editor(client, uid, "default")
    data = browser_post(editor.form)
    data.setlist(editor.form.add_prefix("keyword"), TRICKY)
    reset_request_log("mdl")
    html = _save(client, uid, "default", data).content.decode()
    assert "Standard metadata: saved Keywords." in html
    assert request_counts("mdl", "PUT") == 1 and _fields_written() == ["keyword"]
    assert portal.metadata_get(uid, "default", "keyword").value == TRICKY

    # then edit only the title: the keywords are not re-sent and stay exactly as they are
    editor = _editor(client, uid, "default")
    assert next(r for r in editor.rows if r.name == "keyword").shown == TRICKY
    data = browser_post(editor.form)
    data[editor.form.add_prefix("title")] = "Trees, parks & gardens"
    reset_request_log("mdl")
    _save(client, uid, "default", data)
    assert request_counts("mdl", "PUT") == 1 and _fields_written() == ["keyword", "title"]
    after = portal.metadata_get_all(uid)
    assert after["default"]["keyword"].value == TRICKY
    assert after["default"]["title"].value == "Trees, parks & gardens"
    untouched = {t: {k: v.value for k, v in f.items()} for t, f in before.items() if t != "default"}
    assert {t: {k: v.value for k, v in f.items()} for t, f in after.items() if t != "default"} == untouched


def test_typed_fields_clear_and_remote_refusal_on_the_field(setup):
    conn, uid, client = setup
    portal = client_for(conn)
    editor = _editor(client, uid, "dcat")
    form = editor.form
    data = browser_post(form)
    data[form.add_prefix("created")] = "2026-01-31"
    data[form.add_prefix("issued")] = "2026-01-31T08:15:00"
    data[form.add_prefix("spatial_resolution_in_meters")] = "12.5"
    data[form.add_prefix("accrualperiodicity")] = "http://publications.europa.eu/resource/authority/frequency/DAILY"
    data.setlist(form.add_prefix("spatial"), ["Lyon, France"])
    data[form.add_prefix("contact_email")] = "not-an-address"  # the portal refuses it
    reset_request_log("mdl")
    response = _save(client, uid, "dcat", data)
    rows = {r.name: r for r in next(e for e in response.context["editors"] if e.name == "dcat").rows}
    assert rows["contact_email"].errors == ["Enter a valid email address."]
    assert rows["contact_email"].shown == "not-an-address"  # what was typed is kept
    assert request_counts("mdl", "PUT") == 6
    held = {k: v.value for k, v in portal.metadata_get_template(uid, "dcat").items()}
    assert held == {"created": "2026-01-31", "issued": "2026-01-31T08:15:00Z", "spatial_resolution_in_meters": 12.5,
                    "accrualperiodicity": "http://publications.europa.eu/resource/authority/frequency/DAILY",
                    "spatial": ["Lyon, France"]}

    # clear one value explicitly: one DELETE, nothing else
    editor = _editor(client, uid, "dcat")
    data = browser_post(editor.form)
    data[editor.form.add_prefix("spatial__clear")] = "on"
    reset_request_log("mdl")
    _save(client, uid, "dcat", data)
    assert request_counts("mdl", "DELETE") == 1 and _writes("mdl") == 1
    assert "spatial" not in portal.metadata_get_template(uid, "dcat")
