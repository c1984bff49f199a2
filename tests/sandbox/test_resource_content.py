"""The sandbox's resource answers depend on the content: guesses from the file, previews from the extractor's
parameters, the portal's messages for wrong parameters, unreachable hosts and oversized files."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.sandbox.helpers import new_dataset_body


@pytest.fixture
def dataset(api):
    return api.post("/datasets/", new_dataset_body("resource-content")).json["uid"]


def _upload(api, uid, name, content):
    answer = api.call("POST", f"/datasets/{uid}/resources/files/",
                      files={"file": SimpleUploadedFile(name, content, content_type="text/plain")})
    assert answer.status == 200, answer
    return {"type": "uploaded_file", "file": {"uid": answer.json["uid"]}}


@pytest.mark.parametrize(("content", "separator"), [
    (b"city;population\nLyon;522000\nRennes;222000\n", ";"),
    (b"city,population\nLyon,522000\n", ","),
    (b"city\tpopulation\nLyon\t522000\n", "\t"),
    (b"city|population\nLyon|522000\n", "|"),
])
def test_the_separator_is_guessed_from_the_content(api, dataset, content, separator):
    source = _upload(api, dataset, "cities.csv", content)
    assert [e["type"] for e in api.post(f"/datasets/{dataset}/resources/guess_extractors/",
                                        {"datasource": source}).json] == ["csvfile"]
    guess = api.post(f"/datasets/{dataset}/resources/guess_extractor_params/",
                     {"type": "csvfile", "datasource": source}).json
    assert guess["params"]["separator"] == separator and guess["params"]["encoding"] == "utf-8"


def test_latin1_json_and_geojson_are_told_apart(api, dataset):
    latin = _upload(api, dataset, "a.csv", "ville;été\nLyon;oui\n".encode("iso-8859-1"))
    assert api.post(f"/datasets/{dataset}/resources/guess_extractor_params/",
                    {"type": "csvfile", "datasource": latin}).json["params"]["encoding"] == "iso-8859-1"
    js = _upload(api, dataset, "a.json", b'{"items": [{"a": 1}, {"a": 2}]}')
    assert api.post(f"/datasets/{dataset}/resources/guess_extractors/", {"datasource": js}).json[0]["type"] == "jsonfile"
    assert api.post(f"/datasets/{dataset}/resources/guess_extractor_params/",
                    {"type": "jsonfile", "datasource": js}).json["params"] == {"json_root": "items"}
    geo = _upload(api, dataset, "a.geojson", b'{"type": "FeatureCollection", "features": []}')
    assert api.post(f"/datasets/{dataset}/resources/guess_extractors/", {"datasource": geo}).json[0]["type"] == "geojson"


def test_the_preview_follows_the_parameters(api, dataset):
    source = _upload(api, dataset, "cities.csv", b"city;population\nLyon;522000\nRennes;222000\n")
    path = f"/datasets/{dataset}/resources/preview/"
    right = api.post(path, {"type": "csvfile", "params": {"separator": ";"}, "datasource": source}).json
    assert [f["name"] for f in right["fields"]] == ["city", "population"]
    assert right["fields"][1]["type"] == "int" and right["records"][0] == {"city": "Lyon", "population": "522000"}
    wrong = api.post(path, {"type": "csvfile", "params": {"separator": ","}, "datasource": source}).json
    assert len(wrong["fields"]) == 1  # a wrong separator reads one column, as on a real portal
    no_header = api.post(path, {"type": "csvfile", "params": {"separator": ";", "headers_first_row": False},
                                "datasource": source}).json
    assert len(no_header["records"]) == 3 and no_header["fields"][0]["name"] == "column_1"


@pytest.mark.parametrize(("params", "field"), [
    ({"separator": ";;"}, "separator"),
    ({"encoding": "klingon"}, "encoding"),
    ({"encoding": "ascii"}, "encoding"),
    ({"first_row_no": "x"}, "first_row_no"),
])
def test_wrong_parameters_get_the_portal_message_on_the_parameter(api, dataset, params, field):
    source = _upload(api, dataset, "c.csv", "ville;été\n".encode())
    answer = api.post(f"/datasets/{dataset}/resources/preview/", {"type": "csvfile", "params": params,
                                                                  "datasource": source})
    assert answer.status == 400 and list(answer.json["detail"]["params"]) == [field]


def test_an_unreachable_host_and_an_unknown_extractor_are_refused(api, dataset):
    source = {"type": "http", "connection": {"type": "http", "url": "https://files.nowhere.invalid", "auth": None},
              "relative_url": "/a.csv"}
    answer = api.post(f"/datasets/{dataset}/resources/guess_extractors/", {"datasource": source})
    assert answer.status == 400 and "could not be reached" in answer.json["message"]
    reachable = {**source, "connection": {**source["connection"], "url": "https://files.example.org"}}
    assert api.post(f"/datasets/{dataset}/resources/", {"type": "nope", "title": "x",
                                                        "datasource": reachable}).status == 400


def test_an_oversized_file_is_refused(api, dataset, settings):
    settings.SANDBOX_MAX_UPLOAD_BYTES = 10
    answer = api.call("POST", f"/datasets/{dataset}/resources/files/",
                      files={"file": SimpleUploadedFile("big.csv", b"x" * 11, content_type="text/csv")})
    assert answer.status == 400 and "too large" in answer.json["detail"]["file"][0]


def test_a_seeded_resource_previews_with_its_own_parameters(api, dataset):
    uid = api.get("/datasets/", query={"limit": 1}).json["results"][0]["uid"]
    resource = api.get(f"/datasets/{uid}/resources/").json["results"][0]
    preview = api.get(f"/datasets/{uid}/resources/{resource['uid']}/preview/").json
    assert [f["name"] for f in preview["fields"]] == ["year", "region", "population"]
    guess = api.get(f"/datasets/{uid}/resources/{resource['uid']}/guess_extractors_params/").json
    assert guess["params"]["separator"] == resource["params"]["separator"] == ";"
