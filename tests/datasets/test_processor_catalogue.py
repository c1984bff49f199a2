"""The processor catalogue: definitions read from the portal, the built-in ones as fallback, and the forms
generated from them (required, types, defaults) — checked before anything is sent."""

from portaladmin.datasets.processor_catalogue import ProcessorParamsForm, catalogue_from, initial_from

PORTAL = [
    {"type": "string_replace", "label": "Replace text"},  # listed without definitions: the built-in ones
    {"type": "lookup", "label": "Lookup", "parameters": [  # described by the portal, /extractors/ style
        {"name": "field", "label": "Field", "type": "string", "is_mandatory": True},
        {"name": "limit", "label": "Limit", "type": "int", "is_mandatory": False, "default": 10},
        {"name": "mode", "label": "Mode", "type": "enum", "choices": ["exact", "fuzzy"], "default": "exact"},
        {"name": "strict", "label": "Strict", "type": "boolean", "default": True}]},
    {"type": "mystery", "label": "Mystery"},  # known to nobody: one JSON object field
]


def test_catalogue_reads_the_portal_then_the_built_in_definitions():
    cat = catalogue_from(PORTAL)
    assert list(cat) == ["string_replace", "lookup", "mystery"]
    assert cat["string_replace"].source == "built-in"
    assert [p["name"] for p in cat["string_replace"].parameters] == ["field", "old", "new"]
    assert cat["lookup"].source == "portal"
    assert [(p["name"], p["type"], p["is_mandatory"]) for p in cat["lookup"].parameters] == [
        ("field", "text", True), ("limit", "integer", False), ("mode", "choice", False), ("strict", "boolean", False)]
    assert cat["mystery"].source == "none" and cat["mystery"].parameters == []


def test_generated_form_has_required_types_and_defaults():
    form = ProcessorParamsForm(ptype=catalogue_from(PORTAL)["lookup"])
    assert form.fields["p_field"].required and not form.fields["p_limit"].required
    assert form.fields["p_limit"].initial == 10
    assert form.fields["p_mode"].initial == "exact"
    assert [c for c, _ in form.fields["p_mode"].choices] == ["", "exact", "fuzzy"]
    assert form.fields["p_strict"].initial is True


def test_body_puts_parameters_beside_type_and_label():
    ptype = catalogue_from(PORTAL)["lookup"]
    form = ProcessorParamsForm({"label": "", "p_field": "city", "p_limit": "3", "p_mode": "fuzzy",
                                "p_strict": "on"}, ptype=ptype)
    assert form.is_valid(), form.errors
    assert form.body() == {"type": "lookup", "label": "Lookup", "field": "city", "limit": 3, "mode": "fuzzy",
                           "strict": True}


def test_missing_required_and_wrong_types_are_refused_on_their_fields():
    form = ProcessorParamsForm({"p_limit": "ten", "p_mode": "other"}, ptype=catalogue_from(PORTAL)["lookup"])
    assert not form.is_valid()
    assert set(form.errors) == {"p_field", "p_limit", "p_mode"}


def test_field_parameters_are_checked_against_the_dataset_fields():
    ptype = catalogue_from([{"type": "concat"}])["concat"]
    names = ["name", "zip"]
    form = ProcessorParamsForm({"p_fields": "name, nope", "p_output_field": "zip"}, ptype=ptype, field_names=names)
    assert not form.is_valid()
    assert "no field 'nope'" in form.errors["p_fields"][0]
    assert "already has a field 'zip'" in form.errors["p_output_field"][0]
    bad = ProcessorParamsForm({"p_fields": "name", "p_output_field": "Bad Name"}, ptype=ptype, field_names=names)
    assert not bad.is_valid() and "lowercase" in bad.errors["p_output_field"][0]
    ok = ProcessorParamsForm({"p_fields": "name, zip", "p_separator": " - ", "p_output_field": "label"},
                             ptype=ptype, field_names=names)
    assert ok.is_valid(), ok.errors
    assert ok.body()["fields"] == ["name", "zip"] and ok.body()["separator"] == " - "


def test_a_type_without_definitions_takes_a_json_object():
    ptype = catalogue_from(PORTAL)["mystery"]
    assert not ProcessorParamsForm({"params": "[1]"}, ptype=ptype).is_valid()
    form = ProcessorParamsForm({"params": '{"x": 1, "type": "evil"}'}, ptype=ptype)
    assert form.is_valid()
    assert form.body() == {"type": "mystery", "label": "Mystery", "x": 1}  # type stays the chosen one


def test_editing_starts_from_the_saved_values():
    ptype = catalogue_from([{"type": "concat"}])["concat"]
    initial = initial_from({"uid": "pr_1", "type": "concat", "label": "L", "fields": ["a", "b"],
                            "output_field": "ab"}, ptype)
    assert initial == {"label": "L", "p_fields": "a, b", "p_output_field": "ab"}
