"""Typed results are built tolerantly and keep the raw dict; DatasetStatus knows its terminal states."""

from __future__ import annotations

import pytest

from portaladmin.portals.client import schemas as s
from tests.client import payloads as p


@pytest.mark.parametrize("state, terminal, success, failure", [
    ("idle", True, True, False),
    ("error", True, False, True),
    ("limit_reached", True, False, True),
    ("queued", False, False, False),
    ("processing", False, False, False),
    ("aborting_processing", False, False, False),
    ("deleting", False, False, False),
    ("saving_version", False, False, False),
])
def test_dataset_status_states(state, terminal, success, failure):
    status = s.DatasetStatus.from_dict({**p.STATUS_IDLE, "status": state})
    assert (status.is_terminal, status.is_success, status.is_failure) == (terminal, success, failure)
    assert status.is_busy is (not terminal)
    assert status.is_known


@pytest.mark.parametrize("state", ["processing_resource_records", "", "SOMETHING_NEW", None])
def test_unknown_dataset_status_is_busy_never_a_crash(state):
    status = s.DatasetStatus.from_dict({"status": state, "whatever": 1})
    assert status.is_busy
    assert not status.is_terminal and not status.is_success and not status.is_failure
    assert not status.is_known


def test_dataset_status_from_garbage():
    for junk in (None, [], "idle", 42):
        status = s.DatasetStatus.from_dict(junk)
        assert status.is_busy
        assert status.records_errors == []


def test_limit_reached_keeps_params():
    status = s.DatasetStatus.from_dict(p.STATUS_LIMIT)
    assert status.params["error"]["limit"] == 1000


def test_unknown_keys_are_ignored_and_raw_is_kept():
    data = {**p.DATASET, "brand_new_field": {"x": 1}}
    dataset = s.Dataset.from_dict(data)
    assert dataset.raw["brand_new_field"] == {"x": 1}
    assert "brand_new_field" not in repr(dataset)
    assert dataset == s.Dataset.from_dict(p.DATASET)  # raw is not part of equality


def test_missing_optional_keys_default():
    dataset = s.Dataset.from_dict({"uid": "da_1"})
    assert dataset.dataset_id == "" and dataset.is_published is None and dataset.metadata == {}
    assert dataset.title == ""
    harvester = s.Harvester.from_dict({"uid": "h"})
    assert harvester.harvested_datasets_count == 0 and not harvester.has_error and not harvester.is_busy
    user = s.User.from_dict({"username": "u", "groups": ["g1", {"uid": "g2"}]})
    assert user.groups == [{"uid": "g1"}, {"uid": "g2"}]
    assert s.Resource.from_dict({}).params == {}
    assert s.Group.from_dict({"user_count": "n/a"}).user_count == 0


def test_generic_from_dict_skips_nulls():
    resource = s.Resource.from_dict({"uid": "re_1", "title": None, "params": None})
    assert resource.title == "" and resource.params == {}


def test_dataset_metadata_value_prefers_remote_when_not_overridden():
    dataset = s.Dataset.from_dict({"metadata": {"default": {
        "title": {"value": "Local", "remote_value": "Remote", "override_remote_value": False},
        "language": {"value": "fr"}}}})
    assert dataset.title == "Remote"
    assert dataset.metadata_value("default", "language") == "fr"
    assert dataset.metadata_value("nope", "x", "dflt") == "dflt"


def test_item_results_are_ordered_by_position_and_tolerant():
    results = s.item_results({
        "10": {"status_code": "success", "data": p.USER},
        "2": {"status_code": "error", "error": {"email": ["Invalid", "Taken"]}},
        "0": {"status_code": "error"},
    })
    assert [r.index for r in results] == [0, 2, 10]
    assert results[0].message == "Failed."
    assert results[1].message == "email: Invalid; Taken"
    assert results[2].ok and results[2].user.username == "louise.data"
    assert s.item_results([{"status_code": "success", "data": p.USER}])[0].index == 0
    assert s.item_results(None) == []


def test_apikey_secret_not_in_repr():
    key = s.ApiKey.from_dict(p.APIKEY_CREATED)
    assert key.key == p.APIKEY_CREATED["key"]
    assert p.APIKEY_CREATED["key"] not in repr(key)


def test_code_page_title_variants():
    assert s.CodePage.from_dict({"slug": "x", "title": {"fr": "", "en": "Hi"}}).display_title == "Hi"
    assert s.CodePage.from_dict({"slug": "x"}).display_title == "x"
    assert s.CodePage.from_dict({"slug": "x", "title": "Plain"}).display_title == "Plain"


def test_field_config_finds_its_field_name():
    assert s.FieldConfig.from_dict({"type": "type", "field": "h"}).field == "h"
    assert s.FieldConfig.from_dict({"type": "rename", "rename": {"from_name": "a"}}).field == "a"


def test_page_tolerates_a_plain_array_and_string_total():
    page = s.Page.from_dict([p.GROUP], s.Group.from_dict)
    assert page.total_count == 1 and page.results[0].uid == "content_designers"
    page = s.Page.from_dict({"total_count": "12", "results": []}, s.Group.from_dict)
    assert page.total_count == 12


def test_harvester_errors():
    assert not s.HarvesterErrors.from_dict({"harvester": None, "resources": {}}).has_errors
    assert s.HarvesterErrors.from_dict({"harvester": "Fatal", "resources": {}}).has_errors
