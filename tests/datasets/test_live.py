"""Live screens for datasets (portaladmin.core.live): rows and the page heading name the dataset they show, and
re-read themselves when a response says it changed (bulk actions, edits, the job's poller)."""

import json

import pytest
from django.urls import reverse

from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.jobs.models import Job

from .conftest import API, dataset_json, page_json
from .test_views import HX, register_reads, url

pytestmark = pytest.mark.django_db


def _changed(response) -> dict:
    return json.loads(response["HX-Trigger"])["changed"]


def test_rows_are_live_and_reread_from_the_list_they_are_on(client_as, cast, make_snapshot, synced):
    make_snapshot("da_1", "trees")
    listing = url("list") + "?q=trees"
    html = client_as(cast["viewer"]).get(listing).content.decode()
    assert f'<tr id="ds-row-da_1" data-live-key="dataset:demo:da_1" data-live-src="{listing}">' in html
    part = client_as(cast["viewer"]).get(listing, headers=HX).content.decode()
    assert 'id="ds-row-da_1"' in part and "<h1>" not in part  # the source answers the table alone


def test_bulk_publish_clears_the_selection_and_names_the_rows(client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    make_snapshot("da_2", "roads")
    response = client_as(cast["operator"]).post(url("bulk"), {"action": "publish", "uid": ["da_1", "da_2"]},
                                                headers=HX)
    live = _changed(response)
    assert sorted(live["keys"]) == ["dataset:demo:da_1", "dataset:demo:da_2"] and live["clear"] == "uid"
    job = Job.objects.get()
    # the job's poller (embedded in #bulk-result) names the same rows each time the job moves and when it ends
    assert f'hx-get="{reverse("jobs:status", kwargs={"job_id": job.pk})}?seen=0"' in response.content.decode()


def test_heading_is_live_and_answers_alone_without_a_remote_call(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    register_reads(api)
    detail = url("detail", uid="da_1")
    html = client_as(cast["viewer"]).get(detail).content.decode()
    assert f'<hgroup id="dataset-head" data-live-key="dataset:demo:da_1" data-live-src="{detail}?part=head">' in html
    calls = len(api.calls)
    head = client_as(cast["viewer"]).get(detail, {"part": "head"}, headers=HX)
    body = head.content.decode()
    assert head.status_code == 200 and body.lstrip().startswith('<hgroup id="dataset-head"')
    assert 'id="tab-panel"' not in body and len(api.calls) == calls
    assert client_as(cast["viewer"]).get(url("detail", uid="da_x"), {"part": "head"}).status_code == 404


def test_a_title_edit_shows_in_the_heading_and_the_lists(api, client_as, cast, make_snapshot, synced):
    from tests.datasets.test_metadata_editor import DEFAULT, STORED, browser_post

    make_snapshot("da_1", "trees")
    api.get(f"{API}/datasets/da_1/metadata/", json=STORED)
    api.get(f"{API}/metadata/templates/", json=page_json([DEFAULT]))
    api.get(f"{API}/metadata/templates/default/", json=DEFAULT)
    api.get(f"{API}/datasets/da_1/", json=dataset_json("da_1", title="Street trees"))
    api.put(f"{API}/datasets/da_1/metadata/default/title/", json={"value": "Street trees"})
    client = client_as(cast["operator"])
    editor = next(e for e in client.get(url("tab", uid="da_1", tab="metadata")).context["editors"]
                  if e.name == "default")
    data = browser_post(editor.form)
    data.setlist(editor.form.add_prefix("title"), ["Street trees"])
    response = client.post(url("metadata_template", uid="da_1", template="default"),
                           {key: data.getlist(key) for key in data}, headers=HX)
    assert response.status_code == 200 and _changed(response)["keys"] == ["dataset:demo:da_1"]
    assert DatasetSnapshot.objects.get(uid="da_1").title == "Street trees"
    head = client.get(url("detail", uid="da_1"), {"part": "head"}, headers=HX).content.decode()
    row = client.get(url("list"), headers=HX).content.decode()
    assert "<h1>Street trees</h1>" in head and "Street trees" in row
