"""Harvester and schedule forms: validation messages and the spec's harvester body."""

import datetime as dt

import pytest

from portaladmin.harvesters.forms import (
    DeleteForm,
    HarvesterForm,
    ScheduleForm,
    format_forced_metas,
    next_runs,
    parse_forced_metas,
)


def form_data(**overrides):
    data = {"type": "ckan", "name": "City CKAN", "url": "https://ckan.example.org/api/3",
            "restrict_datasets_visibility": "on", "forced_metas": "publisher = City\ndcat.creator = Team"}
    data.update(overrides)
    return data


def test_body_follows_the_spec_flat_shape():
    form = HarvesterForm(form_data(download_resources="on"))
    assert form.is_valid(), form.errors
    assert form.to_body() == {
        "type": "ckan", "name": "City CKAN", "url": "https://ckan.example.org/api/3",
        "restrict_datasets_visibility": True, "delete_missing_datasets": False,
        "forced_metas": {"default": {"publisher": "City"}, "dcat": {"creator": "Team"}},
        "download_resources": True, "metadata_only": False,
    }


def test_ods_source_goes_into_domain_without_unsupported_flags():
    form = HarvesterForm(form_data(type="ods", url="https://other.opendatasoft.com"))
    assert form.is_valid(), form.errors
    body = form.to_body()
    assert body["domain"] == "https://other.opendatasoft.com"
    assert "url" not in body and "download_resources" not in body and "metadata_only" not in body


@pytest.mark.parametrize("url, message", [
    ("", "This field is required"),
    ("ckan.example.org", "Enter a full http:// or https:// URL"),
    ("ftp://ckan.example.org", "Enter a full http:// or https:// URL"),
    ("https://ckan example.org", "must not contain spaces"),
    ("javascript:alert(1)", "Enter a full http:// or https:// URL"),
])
def test_invalid_url_has_a_clear_message(url, message):
    form = HarvesterForm(form_data(url=url))
    assert not form.is_valid()
    assert message in " ".join(form.errors["url"])


def test_unsupported_options_are_refused_per_type():
    form = HarvesterForm(form_data(type="csw", download_resources="on"))
    assert not form.is_valid()
    assert "CSW harvesters cannot download resources" in form.errors["download_resources"][0]
    both = HarvesterForm(form_data(download_resources="on", metadata_only="on"))
    assert not both.is_valid() and "not both" in both.errors["metadata_only"][0]


def test_forced_metas_round_trip_and_bad_lines():
    metas = parse_forced_metas("# comment\npublisher = City\n\ndcat.creator = Team")
    assert metas == {"default": {"publisher": "City"}, "dcat": {"creator": "Team"}}
    assert parse_forced_metas(format_forced_metas(metas)) == metas
    form = HarvesterForm(form_data(forced_metas="just words"))
    assert not form.is_valid() and "Line 1" in form.errors["forced_metas"][0]


def test_editing_keeps_the_type():
    form = HarvesterForm(form_data(type="wfs"), initial={"type": "ckan"}, editing=True)
    assert form.is_valid(), form.errors
    assert form.to_body()["type"] == "ckan"


@pytest.mark.parametrize("cron, tz, field, message", [
    ("61 * * * *", "UTC", "cron_schedule", "not a valid cron expression"),
    ("* * *", "UTC", "cron_schedule", "not a valid cron expression"),
    ("every day", "UTC", "cron_schedule", "not a valid cron expression"),
    ("0 3 * * *", "Mars/Olympus", "timezone", "not a known time zone"),
    ("0 3 * * *", "../../etc/passwd", "timezone", "not a known time zone"),
    ("0 3 * * *", "", "timezone", "This field is required"),
])
def test_schedule_validation(cron, tz, field, message):
    form = ScheduleForm({"cron_schedule": cron, "timezone": tz})
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_next_runs_are_in_the_schedule_timezone():
    start = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    runs = next_runs("30 2 * * *", "Europe/Paris", count=3, start=start)
    assert [r.isoformat() for r in runs] == ["2026-03-02T02:30:00+01:00", "2026-03-03T02:30:00+01:00",
                                             "2026-03-04T02:30:00+01:00"]
    form = ScheduleForm({"cron_schedule": " 30  2 * * * ", "timezone": "Europe/Paris"})
    assert form.is_valid() and form.cleaned_data["cron_schedule"] == "30 2 * * *"
    assert len(form.next_runs()) == 5


def test_delete_needs_an_explicit_choice_and_the_name():
    form = DeleteForm({"confirm_name": "City CKAN"}, harvester_name="City CKAN")
    assert not form.is_valid() and "keep or delete" in form.errors["attached"][0]
    form = DeleteForm({"attached": "delete", "confirm_name": "city"}, harvester_name="City CKAN")
    assert not form.is_valid() and "exactly" in form.errors["confirm_name"][0]
    form = DeleteForm({"attached": "keep", "confirm_name": "City CKAN"}, harvester_name="City CKAN")
    assert form.is_valid() and form.delete_attached_datasets is False


@pytest.mark.parametrize("harvester_type", ["arcgis", "ckan", "csw", "datajson", "ods", "socrata", "wfs", "omi_node"])
def test_every_body_matches_the_spec(harvester_type):
    from tests.oracle import spec_available, validate_request

    if not spec_available():
        pytest.skip("openapi.json not available")
    form = HarvesterForm(form_data(type=harvester_type, metadata_only="" if harvester_type == "ods" else "on"))
    assert form.is_valid(), form.errors
    body = form.to_body()
    assert validate_request("POST", "/harvesters/", json_body=body) == "/harvesters/"
    assert validate_request("POST", "/harvesters/ha_1/unsaved_preview/", json_body=body)
    assert validate_request("PUT", "/harvesters/ha_1/", json_body=body)
    assert validate_request("POST", "/harvesters/ha_1/schedules/",
                            json_body={"cron_schedule": "0 3 * * *", "timezone": "Europe/Paris"})
