"""The pure parts of compare/promote: diff (what differs, part by part) and plan (the calls that fix it)."""

import copy

from portaladmin.promote.diff import (
    CHANGED,
    ONLY_SOURCE,
    ONLY_TARGET,
    SAME,
    canonical,
    diff_part,
    diff_snapshots,
    is_empty,
)
from portaladmin.promote.plan import plan_part
from portaladmin.promote.snapshot import empty_snapshot, resource_key


def snap(**over):
    base = empty_snapshot("roads")
    base.update(exists=True, uid="da_1", metadata={"default": {"title": "Roads", "modified": "2026-01-01",
                                                                "language": "en"}},
                resources={"url:/r.csv": {"title": "r.csv", "type": "csvfile", "params": {"separator": ";"},
                                          "datasource": {"type": "http", "relative_url": "/r.csv"}}},
                processors=[{"type": "string_replace", "label": "a", "old": "x", "new": "y"}],
                fields=[{"type": "rename", "label": "r", "from_name": "a", "to_name": "b", "field_label": "B"}],
                schedules=["0 3 * * *"],
                security={"is_restricted": False, "default_security": {"is_data_visible": True},
                          "users": {"ann": {"permissions": ["edit_dataset"], "security": None}},
                          "groups": {"Analysts": {"permissions": ["explore_restricted_dataset"], "security": None}}},
                publication={"is_published": True})
    base["refs"] = {"resources": {"url:/r.csv": {"uid": "re_1", "file_uid": ""}}, "processors": ["pr_1"],
                    "fields": ["fi_1"], "schedules": {"0 3 * * *": ["sc_1"]}, "groups": {"Analysts": "grp_a"}}
    base.update(over)
    return base


def test_identical_snapshots_have_no_difference_even_with_other_uids():
    one, other = snap(), snap(uid="da_9")
    other["refs"]["processors"] = ["pr_other"]  # the portal's own ids are never compared
    diffs = diff_snapshots(one, other)
    assert is_empty(diffs)
    assert {d.name for d in diffs} == {"dataset", "metadata", "resources", "processors", "fields", "schedules",
                                       "security", "publication"}
    assert all(row.status == SAME for d in diffs for row in d.rows)


def test_every_part_reports_its_differences():
    one, other = snap(), snap()
    other["metadata"]["default"]["title"] = "Routes"
    other["metadata"]["default"]["keyword"] = ["x"]
    other["resources"] = {"url:/other.csv": {"title": "o", "type": "csvfile", "params": {}, "datasource": {}}}
    other["processors"] = []
    other["fields"][0]["to_name"] = "c"
    other["schedules"] = ["0 3 * * *", "0 4 * * *"]
    other["security"] = {**other["security"], "is_restricted": True, "users": {}}
    other["publication"] = {"is_published": False}
    by_name = {d.name: d for d in diff_snapshots(one, other)}
    assert not by_name["dataset"].changed
    meta = {r.key: r.status for r in by_name["metadata"].rows}
    assert meta["default.title"] == CHANGED and meta["default.keyword"] == ONLY_TARGET
    assert meta["default.language"] == SAME
    res = {r.key: r.status for r in by_name["resources"].rows}
    assert res == {"url:/r.csv": ONLY_SOURCE, "url:/other.csv": ONLY_TARGET}
    assert [r.status for r in by_name["processors"].rows] == [ONLY_SOURCE]
    assert [r.status for r in by_name["fields"].rows] == [CHANGED]
    assert {r.key: r.status for r in by_name["schedules"].rows} == {"0 3 * * *": SAME, "0 4 * * *": ONLY_TARGET}
    sec = {r.key: r.status for r in by_name["security"].rows}
    assert sec["is_restricted"] == CHANGED and sec["user ann"] == ONLY_SOURCE and sec["group Analysts"] == SAME
    assert by_name["publication"].changed
    assert by_name["security"].counts == {SAME: 2, CHANGED: 1, ONLY_SOURCE: 1, ONLY_TARGET: 0}


def test_processor_order_matters():
    a = {"type": "concat", "label": "c"}
    b = {"type": "string_replace", "label": "s"}
    diff = diff_part("processors", snap(processors=[a, b]), snap(processors=[b, a]))
    assert [r.status for r in diff.rows] == [CHANGED, CHANGED]


def test_a_missing_target_differs_and_dict_key_order_does_not():
    one = snap()
    other = copy.deepcopy(one)
    other["security"]["default_security"] = dict(reversed(list(one["security"]["default_security"].items())))
    assert is_empty(diff_snapshots(one, other))
    assert not is_empty(diff_snapshots(one, empty_snapshot("roads")))


def test_resource_key_is_url_then_file_name_then_title():
    assert resource_key({"type": "http", "relative_url": "/a.csv"}, "A") == "url:/a.csv"
    assert resource_key({"type": "uploaded_file"}, "A", "a.csv") == "file:a.csv"
    assert resource_key({"type": "sharepoint"}, "A") == "title:A"


def test_plan_creates_a_missing_dataset_with_the_chosen_id():
    plan = plan_part("dataset", snap(), empty_snapshot("roads"), dataset_id="roads-prod")
    [call] = plan.calls
    assert call.line.startswith("POST /datasets/") and call.args["dataset_id"] == "roads-prod"
    assert call.args["metadata"]["default"]["title"] == {"value": "Roads"}
    assert plan_part("dataset", snap(), snap(), dataset_id="x").calls == []


def test_plan_of_identical_parts_is_empty():
    for part in ("metadata", "resources", "processors", "fields", "schedules"):
        assert plan_part(part, snap(), snap()).calls == [], part
    assert plan_part("security", snap(), snap(), known_users={"ann"}, target_groups={"Analysts": "g2"}).calls == []


def test_plan_metadata_sets_changed_and_clears_extra_fields():
    other = snap()
    other["metadata"]["default"]["title"] = "Old"
    other["metadata"]["default"]["keyword"] = ["x"]
    lines = [c.line for c in plan_part("metadata", snap(), other).calls]
    assert lines == ["PUT /datasets/{target}/metadata/default/title/ — set default.title",
                     "DELETE /datasets/{target}/metadata/default/keyword/ — clear default.keyword"]


def test_plan_resources_create_update_delete_and_stream_files():
    one = snap()
    one["resources"]["file:up.csv"] = {"title": "up", "type": "csvfile", "params": {},
                                       "datasource": {"type": "uploaded_file", "file": {"name": "up.csv", "size": 9}}}
    one["refs"]["resources"]["file:up.csv"] = {"uid": "re_2", "file_uid": "up.csv"}
    other = snap()
    other["resources"]["url:/r.csv"] = {**other["resources"]["url:/r.csv"], "title": "renamed"}
    other["resources"]["url:/gone.csv"] = {"title": "gone", "type": "csvfile", "params": {}, "datasource": {}}
    other["refs"]["resources"]["url:/gone.csv"] = {"uid": "re_9", "file_uid": ""}
    calls = plan_part("resources", one, other).calls
    assert [(c.method, c.op) for c in calls] == [("PUT", "resource_update"), ("GET", "none"), ("POST", "none"),
                                                  ("POST", "resource_create"), ("DELETE", "resource_delete")]
    assert calls[3].args["source_file_uid"] == "up.csv" and calls[4].args["resource_uid"] == "re_9"


def test_plan_processors_updates_in_place_or_rebuilds_from_the_first_difference():
    a, b, c = ({"type": t, "label": t} for t in ("concat", "string_replace", "geo_join"))
    target = snap(processors=[a, b])
    target["refs"]["processors"] = ["pr_a", "pr_b"]
    same_types = plan_part("processors", snap(processors=[a, {**b, "label": "new"}]), target).calls
    assert [(c.method, c.args.get("item_uid")) for c in same_types] == [("PUT", "pr_b")]
    rebuilt = plan_part("processors", snap(processors=[a, c, b]), target).calls
    assert [(x.method, x.args.get("item_uid") or x.args["body"]["type"]) for x in rebuilt] == [
        ("DELETE", "pr_b"), ("POST", "geo_join"), ("POST", "string_replace")]


def test_plan_schedules_is_a_multiset_difference():
    target = snap(schedules=["0 3 * * *", "0 3 * * *", "5 1 * * *"])
    target["refs"]["schedules"] = {"0 3 * * *": ["sc_1", "sc_2"], "5 1 * * *": ["sc_3"]}
    calls = plan_part("schedules", snap(schedules=["0 3 * * *", "9 9 * * *"]), target).calls
    assert [(c.method, c.args) for c in calls] == [("DELETE", {"item_uid": "sc_2"}), ("DELETE", {"item_uid": "sc_3"}),
                                                   ("POST", {"cron": "9 9 * * *"})]


def test_plan_security_maps_principals_by_name_and_reports_unknown_ones():
    one = snap()
    one["security"]["users"]["zoe"] = {"permissions": ["edit_dataset"], "security": None}
    one["security"]["is_restricted"] = True
    target = snap()
    target["security"]["users"] = {"old": {"permissions": [], "security": None}}
    target["security"]["groups"] = {}
    plan = plan_part("security", one, target, known_users={"ann"}, target_groups={"Analysts": "grp_prod"})
    assert plan.unknown == ["user zoe"]
    assert [(c.op, c.args.get("principal")) for c in plan.calls] == [
        ("dataset_security", None), ("ruleset_create", "ann"), ("ruleset_delete", "old"),
        ("ruleset_create", "grp_prod")]


def test_plan_publish_only_when_needed():
    unpublished = snap(publication={"is_published": False})
    assert [c.op for c in plan_part("publication", snap(), unpublished).calls] == ["publish"]
    assert plan_part("publication", snap(), snap()).calls == []
    assert [c.op for c in plan_part("publication", snap(), snap(), wrote=True).calls] == ["publish"]
    assert plan_part("publication", unpublished, unpublished).notes


def test_secrets_in_a_datasource_are_masked_on_screen_but_compared():
    from portaladmin.promote.diff import MASK, Row

    source = {"type": "http", "auth": {"type": "basic", "password": "hunter2"},
              "headers": [{"name": "Authorization", "value": "Bearer abc"}, {"name": "Accept", "value": "text/csv"}]}
    target = {**source, "auth": {"type": "basic", "password": "other"}}
    row = Row("url:/x", source, target)
    assert row.status == CHANGED  # the real values differ
    assert "hunter2" not in row.source_text and "Bearer abc" not in row.source_text and MASK in row.source_text
    assert "text/csv" in row.source_text


def test_two_resources_from_the_same_url_are_both_kept():
    from types import SimpleNamespace

    from portaladmin.portals.client.schemas import Page
    from portaladmin.promote.snapshot import read_resources

    def res(uid, kind):
        return SimpleNamespace(uid=uid, title="data", type=kind, params={},
                               datasource={"type": "http", "relative_url": "/d"})

    client = SimpleNamespace(resource_list=lambda uid, **kw: Page(
        total_count=2, results=[res("re_1", "csvfile"), res("re_2", "jsonfile")] if kw["offset"] == 0 else []))
    resources, refs = read_resources(client, "da_1")
    assert {k: v["type"] for k, v in resources.items()} == {"url:/d": "csvfile", "url:/d #2": "jsonfile"}
    assert refs["url:/d #2"]["uid"] == "re_2"


def test_plan_resources_maps_datasource_connections_by_label_and_reports_missing_ones():
    label = {"type": "http", "url": "https://data.example.org"}
    one = snap()
    one["resources"]["url:/c.csv"] = {"title": "c", "type": "csvfile", "params": {},
                                      "datasource": {"type": "http", "connection": label, "relative_url": "/c.csv"}}
    one["refs"]["resources"]["url:/c.csv"] = {"uid": "re_5", "file_uid": "", "connection_uid": "co_stage"}
    other = snap()
    mapped = plan_part("resources", one, other, target_connections={canonical(label): ["co_prod"]})
    create = next(c for c in mapped.calls if c.op == "resource_create")
    assert create.args["body"]["datasource"] == {"type": "http", "connection": {"uid": "co_prod"},
                                                 "relative_url": "/c.csv"}
    assert mapped.missing == []
    missing = plan_part("resources", one, other, target_connections={})
    assert not any(c.op == "resource_create" for c in missing.calls)  # never sent with a uid that is not there
    assert missing.missing == ["http connection https://data.example.org (for the resource c)"]
    several = plan_part("resources", one, other, target_connections={canonical(label): ["co_a", "co_b"]})
    assert several.missing  # two candidates and none with the same uid: not guessed


def test_an_empty_text_is_shown_apart_from_a_missing_value():
    """A page with an empty CSS on one side and none on the other differs: both read "—" before."""
    from portaladmin.promote.diff import EMPTY_TEXT, MISSING, Row

    row = Row("content.css.en", "", MISSING)
    assert row.status == "only_source" and row.source_text == EMPTY_TEXT and row.target_text == ""
