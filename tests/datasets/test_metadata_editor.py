"""The typed metadata editor: round trips for every field type (unchanged sends nothing, one edit sends one
field), lists that keep commas, quotes, unicode and empty strings, explicit clearing, the portal's refusals on
their fields, and the "Publish metadata" offer. Pure form tests, then the view against a `responses` portal."""

import json

import pytest
from django.http import QueryDict
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.datasets.metadata_form import MetadataEditForm, form_prefix, template_editors
from portaladmin.portals.client.schemas import MetadataTemplate, MetadataValue

from .conftest import API, dataset_json, page_json

HX = {"HX-Request": "true"}
LIST = ["Paris, France", "Lyon", 'say "hi", then \'bye\'', "Zürich, 東京 🌳", "", "a,b,,c"]

SCHEMA = [
    {"name": "title", "type": "text", "label": "Title", "requirement_level": "mandatory"},
    {"name": "description", "type": "html", "label": "Description"},
    {"name": "notes", "type": "longstring", "label": "Notes"},
    {"name": "summary", "type": "multitext", "label": "Summary"},
    {"name": "keyword", "type": "list", "label": "Keywords", "self_suggest": True},
    {"name": "language", "type": "enum", "label": "Language", "choices": ["en", "fr"]},
    {"name": "conformity", "type": "uri_enum", "label": "Conformity", "choices": ["http://a/1", "http://a/2"]},
    {"name": "theme", "type": "enumlist", "label": "Themes", "choices": ["env", "mobility", "health"]},
    {"name": "draft", "type": "boolean", "label": "Draft"},
    {"name": "rank", "type": "int", "label": "Rank"},
    {"name": "ratio", "type": "double", "label": "Ratio"},
    {"name": "issued", "type": "date", "label": "Issued"},
    {"name": "modified", "type": "datetime", "label": "Modified"},
    {"name": "bbox", "type": "geo_shape", "label": "Extent"},
    {"name": "facets", "type": "list", "label": "Facets"},  # holds objects: not a list of strings
    {"name": "internal", "type": "text", "label": "Internal", "is_hidden": True},
]
VALUES = {
    "title": 'Trees, "urban" — été', "description": "<p>One</p>\n<p>Two, three</p>", "notes": "line 1\nline 2",
    "summary": "short", "keyword": LIST, "language": "fr", "conformity": "http://a/2", "theme": ["mobility", "env"],
    "draft": False, "rank": 42, "ratio": 1.10, "issued": "2026-01-31", "modified": "2026-01-31T10:00:00+02:00",
    "bbox": {"type": "Point", "coordinates": [4.8, 45.7]}, "facets": [{"field_name": "city"}],
    "legacy": {"kept": True},  # a value the template does not define
}
EDITABLE = ["title", "description", "notes", "summary", "keyword", "language", "conformity", "theme", "draft",
            "rank", "ratio", "issued", "modified"]


def _fields():
    return MetadataTemplate.from_dict({"name": "custom", "schema": SCHEMA}).fields


def _load(values=None):
    return MetadataEditForm(fields=_fields(), values=dict(VALUES if values is None else values),
                            prefix=form_prefix("custom"))


def browser_post(form: MetadataEditForm) -> QueryDict:
    """What a browser submits for the rendered form: one value per input, the checked boxes in page order,
    textarea newlines as CRLF."""
    data = QueryDict(mutable=True)
    data[form.add_prefix("__loaded")] = form.loaded_field.value()
    for row in form.rows():
        if row.kind == "readonly":
            continue
        if row.kind == "list":
            data.setlist(row.html_name, list(row.shown))
        elif row.kind == "enumlist":
            data.setlist(row.html_name, [v for v, _ in row.choices if v in row.shown])
        elif row.multiline:
            data[row.html_name] = row.shown.replace("\n", "\r\n")
        else:
            data[row.html_name] = row.shown
    return data


def _submit(data: QueryDict) -> MetadataEditForm:
    form = MetadataEditForm(data, fields=_fields(), prefix=form_prefix("custom"))
    assert form.is_valid(), form.errors
    return form


# ---------------------------------------------------------------------------------------------- the form

def test_every_type_is_edited_with_its_input_and_the_rest_is_read_only_json():
    rows = {r.name: r for r in _load().rows()}
    assert {n: rows[n].kind for n in EDITABLE} == {
        "title": "text", "description": "long", "notes": "long", "summary": "long", "keyword": "list",
        "language": "enum", "conformity": "enum", "theme": "enumlist", "draft": "bool", "rank": "int",
        "ratio": "double", "issued": "date", "modified": "datetime"}
    assert rows["keyword"].shown == LIST  # one input per item, nothing joined
    assert rows["modified"].shown == "2026-01-31T08:00:00"  # UTC for a datetime-local input
    assert rows["bbox"].kind == rows["facets"].kind == rows["legacy"].kind == "readonly"
    assert json.loads(rows["facets"].raw_json) == [{"field_name": "city"}]
    assert json.loads(rows["legacy"].raw_json) == {"kept": True}
    assert "internal" not in rows  # hidden by the portal
    assert rows["title"].required and not rows["notes"].required


def test_load_then_save_unchanged_sends_nothing():
    form = _submit(browser_post(_load()))
    assert form.changes == {} and form.clears == []


def test_a_datetime_the_browser_writes_without_its_zero_seconds_is_not_a_change():
    """Chromium's datetime-local input gives "2026-01-31T08:00" for a value of "2026-01-31T08:00:00": saving another
    field must not send this one (it did, and failed two browser journeys on a sandbox seeded at :00 seconds)."""
    form = _load()
    data = browser_post(form)
    data[form.add_prefix("modified")] = "2026-01-31T08:00"
    data[form.add_prefix("title")] = "Trees"
    assert _submit(data).changes == {"title": "Trees"}


def test_load_then_save_unchanged_sends_nothing_when_every_value_is_missing():
    form = _submit(browser_post(_load({})))
    assert form.changes == {} and form.clears == []


@pytest.mark.parametrize("name, typed, sent", [
    ("title", "Trees, 'urban'", "Trees, 'urban'"),
    ("description", "<p>One</p>\r\n<p>Two</p>", "<p>One</p>\n<p>Two</p>"),
    ("notes", "only one line", "only one line"),
    ("summary", "longer, with a comma", "longer, with a comma"),
    ("keyword", [*LIST, "Saint-Étienne, Loire"], [*LIST, "Saint-Étienne, Loire"]),
    ("keyword", list(reversed(LIST)), list(reversed(LIST))),
    ("language", "en", "en"),
    ("conformity", "http://a/1", "http://a/1"),
    ("theme", ["env", "health"], ["env", "health"]),
    ("draft", "true", True),
    ("rank", "43", 43),
    ("ratio", "2.5", 2.5),
    ("issued", "2026-02-01", "2026-02-01"),
    ("modified", "2026-01-31T09:30:00", "2026-01-31T09:30:00Z"),
])
def test_editing_one_field_sends_only_that_field(name, typed, sent):
    form = _load()
    data = browser_post(form)
    key = form.add_prefix(name)
    if isinstance(typed, list):
        data.setlist(key, typed)
    else:
        data[key] = typed
    assert _submit(data).changes == {name: sent}


def test_a_theme_kept_in_the_portals_order_when_one_is_added():
    form = _load()
    data = browser_post(form)
    data.setlist(form.add_prefix("theme"), ["env", "mobility", "health"])  # page order
    assert _submit(data).changes == {"theme": ["mobility", "env", "health"]}


def test_list_values_with_commas_quotes_unicode_and_empty_strings_survive_an_edit_elsewhere():
    form = _load()
    data = browser_post(form)
    data[form.add_prefix("title")] = "New title"
    assert _submit(data).changes == {"title": "New title"}  # keyword is not re-sent
    data.setlist(form.add_prefix("keyword"), [*LIST[:2], "Lyon, Rhône"])
    assert _submit(data).changes["keyword"] == ["Paris, France", "Lyon", "Lyon, Rhône"]


def test_clearing_is_explicit():
    form = _load()
    data = browser_post(form)
    data[form.add_prefix("notes")] = ""
    emptied = MetadataEditForm(data, fields=_fields(), prefix=form_prefix("custom"))
    assert not emptied.is_valid() and "tick “Clear”" in emptied.errors["notes"][0]
    data[form.add_prefix("notes__clear")] = "on"
    data[form.add_prefix("keyword__clear")] = "on"
    form = _submit(data)
    assert form.clears == ["keyword", "notes"] or sorted(form.clears) == ["keyword", "notes"]
    assert form.changes == {}


def test_a_mandatory_field_cannot_be_cleared_and_bad_input_keeps_what_was_typed():
    form = _load()
    data = browser_post(form)
    data[form.add_prefix("title__clear")] = "on"
    data[form.add_prefix("rank")] = "forty"
    data[form.add_prefix("modified")] = "yesterday"
    data[form.add_prefix("language")] = "xx"
    bad = MetadataEditForm(data, fields=_fields(), prefix=form_prefix("custom"))
    assert not bad.is_valid()
    assert set(bad.errors) == {"title", "rank", "modified", "language"}
    rows = {r.name: r for r in bad.rows()}
    assert rows["rank"].shown == "forty" and rows["modified"].shown == "yesterday" and rows["rank"].errors


def test_a_value_changed_on_the_portal_meanwhile_is_not_overwritten_by_an_untouched_field():
    form = _load()
    data = browser_post(form)  # the person opened the form, then someone else changed the title on the portal
    data[form.add_prefix("rank")] = "7"
    submitted = _submit(data)  # compared with what this person saw, not with the portal now
    assert submitted.changes == {"rank": 7}


def test_template_editors_list_active_templates_then_values_without_a_definition():
    definitions = [MetadataTemplate.from_dict({"name": "custom", "title": "Custom", "is_active": True,
                                               "schema": SCHEMA}),
                   MetadataTemplate.from_dict({"name": "off", "title": "Off", "is_active": False, "schema": []})]
    values = {"custom": {"title": MetadataValue(value="T")}, "orphan": {"x": MetadataValue(value=[1, 2])}}
    editors = template_editors(values=values, definitions=definitions)
    assert [(e.name, e.form is not None) for e in editors] == [("custom", True), ("orphan", False)]
    assert editors[1].rows[0].kind == "readonly"
    assert [e.form for e in template_editors(values=values, definitions=None)] == [None, None]


# ---------------------------------------------------------------------------------------------- the view


DEFAULT = {"name": "default", "title": "Standard", "type": "basic", "is_active": True, "schema": [
    {"name": "title", "type": "text", "label": "Title", "requirement_level": "mandatory"},
    {"name": "keyword", "type": "list", "label": "Keywords", "self_suggest": True},
    {"name": "publisher", "type": "text", "label": "Publisher"},
    {"name": "language", "type": "enum", "label": "Language", "choices": ["en", "fr"]}]}
STORED = {"default": {"title": {"value": "Trees"}, "keyword": {"value": LIST},
                      "publisher": {"value": "City, Parks dept."}, "language": {"value": "en"}}}


def url(name, **kw):
    return reverse(f"datasets:{name}", kwargs={"conn": "demo", **kw})


@pytest.fixture
def portal(api, make_snapshot):
    make_snapshot("da_1", "trees", is_published=True)
    api.get(f"{API}/datasets/da_1/metadata/", json=STORED)
    api.get(f"{API}/metadata/templates/", json=page_json([DEFAULT]))
    api.get(f"{API}/metadata/templates/default/", json=DEFAULT)
    api.get(f"{API}/datasets/da_1/", json=dataset_json("da_1"))
    return api


def _page_form(client):
    """The metadata tab as a person receives it, turned back into what their browser would post."""
    response = client.get(url("tab", uid="da_1", tab="metadata"))
    editor = next(e for e in response.context["editors"] if e.name == "default")
    return editor.form, browser_post(editor.form)


def _save(client, data: QueryDict):
    # the test client would send only the last value of a QueryDict key: give it every value, like a browser
    return client.post(url("metadata_template", uid="da_1", template="default"),
                       {key: data.getlist(key) for key in data}, headers=HX)


def _writes(api):
    return [(c.request.method, c.request.url.replace(API, ""), c.request.body) for c in api.calls
            if c.request.method in ("PUT", "DELETE", "POST")]


@pytest.mark.django_db
def test_view_save_unchanged_sends_nothing(portal, client_as, cast):
    client = client_as(cast["operator"])
    _, data = _page_form(client)
    response = _save(client, data)
    assert "Nothing changed" in response.content.decode()
    assert _writes(portal) == []


@pytest.mark.django_db
def test_view_edit_one_list_item_sends_only_that_field_with_every_item_intact(portal, client_as, cast):
    client = client_as(cast["operator"])
    form, data = _page_form(client)
    portal.put(f"{API}/datasets/da_1/metadata/default/keyword/", json={"value": [*LIST, "Lyon, Rhône"]})
    data.setlist(form.add_prefix("keyword"), [*LIST, "Lyon, Rhône"])
    response = _save(client, data)
    writes = _writes(portal)
    assert [(m, u) for m, u, _ in writes] == [("PUT", "/datasets/da_1/metadata/default/keyword/")]
    assert json.loads(writes[0][2]) == {"value": [*LIST, "Lyon, Rhône"]}
    html = response.content.decode()
    assert "Standard: saved Keywords." in html  # the words of the form, not "default: saved keyword."
    assert "Publish metadata" in html  # a published dataset: offered once, after the change
    assert AuditEvent.objects.filter(action="dataset.metadata.update", outcome="success").count() == 1


@pytest.mark.django_db
def test_view_clear_sends_the_apis_delete(portal, client_as, cast):
    client = client_as(cast["operator"])
    form, data = _page_form(client)
    portal.delete(f"{API}/datasets/da_1/metadata/default/publisher/", status=204)
    data[form.add_prefix("publisher__clear")] = "on"
    _save(client, data)
    assert [(m, u) for m, u, _ in _writes(portal)] == [("DELETE", "/datasets/da_1/metadata/default/publisher/")]
    assert AuditEvent.objects.filter(action="dataset.metadata.clear", outcome="success").exists()


@pytest.mark.django_db
def test_view_remote_refusal_lands_on_its_field_and_keeps_what_was_typed(portal, client_as, cast):
    client = client_as(cast["operator"])
    form, data = _page_form(client)
    portal.put(f"{API}/datasets/da_1/metadata/default/title/", status=400, json={
        "error_code": "validation_error", "message": "Invalid", "detail": {"value": ["Too short."]}})
    portal.put(f"{API}/datasets/da_1/metadata/default/publisher/", json={"value": "Parks, Gardens"})
    data[form.add_prefix("title")] = "T"
    data[form.add_prefix("publisher")] = "Parks, Gardens"
    response = _save(client, data)
    editor = next(e for e in response.context["editors"] if e.name == "default")
    rows = {r.name: r for r in editor.rows}
    assert rows["title"].errors == ["Too short."] and rows["title"].shown == "T"
    assert rows["publisher"].shown == "Parks, Gardens" and not rows["publisher"].errors
    assert "refused 1 field (title)" in response.content.decode()
    # saving again sends only what is still pending: the publisher was saved, it now counts as loaded
    portal.calls.reset()
    again = browser_post(editor.form)
    _save(client, again)
    assert [(m, u) for m, u, _ in _writes(portal)] == [("PUT", "/datasets/da_1/metadata/default/title/")]


@pytest.mark.django_db
def test_viewer_sees_values_without_a_form_and_suggestions_come_from_the_portal(portal, client_as, cast):
    html = client_as(cast["viewer"]).get(url("tab", uid="da_1", tab="metadata")).content.decode()
    assert "<form" not in html.split('id="metadata"')[1] and "Paris, France" in html
    portal.get(f"{API}/metadata/templates/default/fields/keyword/suggest/",
               json={"hits": [{"value": "Lyon, Rhône"}, {"value": "Lyon"}]})
    answer = client_as(cast["operator"]).get(url("metadata_suggest", uid="da_1", template="default",
                                                 field="keyword"), {"t-default-keyword": "lyo"}, headers=HX)
    assert answer.content.decode() == '<option value="Lyon, Rhône"></option><option value="Lyon"></option>'


@pytest.mark.django_db
def test_templates_page_lists_each_template_with_field_types_requirement_and_allowed_values(api, client_as, cast):
    api.get(f"{API}/metadata/templates/", json=page_json([DEFAULT]))
    html = client_as(cast["viewer"]).get(reverse("datasets:templates", kwargs={"conn": "demo"})).content.decode()
    assert 'id="template-default"' in html and "<strong>mandatory</strong>" in html
    for text in ("keyword", "list", "enum", "2 values", '<li class="mono">fr</li>'):
        assert text in html
    api.replace("GET", f"{API}/metadata/templates/", status=403, json={"error_code": "permission_denied",
                                                                        "message": "No."})
    html = client_as(cast["viewer"]).get(reverse("datasets:templates", kwargs={"conn": "demo"})).content.decode()
    assert "could not be read" in html
