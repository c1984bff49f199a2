"""The dataset list's bulk actions: "all matching the filter", publish metadata, delete (admin, confirmed with
how many and which portal), and the CSV export of the filtered list (formula-safe)."""

import csv
import io

import pytest
import responses
from django.urls import reverse

from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.datasets.selectors import snapshot_uids_matching
from portaladmin.jobs.models import Job
from portaladmin.jobs.registry import get_kind

from .conftest import API

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def url(name, **kw):
    return reverse(f"datasets:{name}", kwargs={"conn": "demo", **kw})


@pytest.fixture
def catalogue(make_snapshot):
    for i in range(12):
        make_snapshot(f"da_{i}", f"ds-{i:02d}", status="error" if i % 3 == 0 else "idle",
                      search=f"ds-{i:02d} {'river' if i < 6 else 'road'}")


def test_matching_selector_reads_the_list_filter(connection, catalogue):
    assert sorted(snapshot_uids_matching(connection=connection, querystring="q=river")) == [f"da_{i}" for i in range(6)]
    assert set(snapshot_uids_matching(connection=connection, querystring="q=river&status=error&page=3")) == {
        "da_0", "da_3"}
    # invalid values are ignored as on the list, unknown parameters too
    assert len(snapshot_uids_matching(connection=connection, querystring="status=nonsense&x=1")) == 12
    # one more than the limit, so that the caller can refuse rather than cut
    assert len(snapshot_uids_matching(connection=connection, querystring="", limit=5)) == 6


def test_publish_all_matching_the_filter_is_one_job_of_exactly_those(client_as, cast, catalogue):
    response = client_as(cast["operator"]).post(url("bulk"), {"action": "publish", "scope": "all",
                                                              "matching": "q=river&status=idle"}, headers=HX)
    assert response.status_code == 200
    job = Job.objects.get()
    assert job.kind == "dataset.publish"
    assert set(job.items.values_list("target", flat=True)) == {"da_1", "da_2", "da_4", "da_5"}


def test_all_matching_refuses_more_than_the_limit(client_as, cast, catalogue, monkeypatch):
    monkeypatch.setattr("portaladmin.datasets.views.catalogue.MATCHING_MAX", 5)
    response = client_as(cast["operator"]).post(url("bulk"), {"action": "publish", "scope": "all", "matching": ""},
                                                headers=HX)
    assert "More than 5 datasets match" in response.content.decode()
    assert not Job.objects.exists()


def test_nothing_chosen_is_refused(client_as, cast, catalogue):
    response = client_as(cast["operator"]).post(url("bulk"), {"action": "publish"}, headers=HX)
    assert "Select at least one dataset." in response.content.decode()
    assert not Job.objects.exists()


def test_publish_metadata_of_the_selected(client_as, cast, catalogue):
    client_as(cast["operator"]).post(url("bulk"), {"action": "publish_metadata", "uid": ["da_1", "da_2"]}, headers=HX)
    job = Job.objects.get()
    assert job.kind == "dataset.publish_metadata" and job.total == 2


def test_edit_metadata_of_all_matching_hands_the_uids_to_the_bulk_editor(client_as, cast, catalogue):
    client = client_as(cast["operator"])
    response = client.post(url("bulk"), {"action": "metadata", "scope": "all", "matching": "q=road"}, headers=HX)
    assert response["HX-Redirect"] == url("bulk_metadata")
    stored = next(v for k, v in client.session.items() if k.startswith("bulk-metadata:"))
    assert sorted(stored) == sorted(f"da_{i}" for i in range(6, 12))


def test_delete_needs_the_admin_role(client_as, cast, catalogue):
    response = client_as(cast["operator"]).post(url("bulk"), {"action": "delete", "uid": ["da_1"]}, headers=HX)
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_delete_asks_first_saying_how_many_and_which_portal(client_as, cast, catalogue, connection):
    client = client_as(cast["admin"])
    response = client.post(url("bulk"), {"action": "delete", "scope": "all", "matching": "q=river"}, headers=HX)
    html = response.content.decode()
    assert f"Delete 6 datasets on {connection.name}?" in html
    assert connection.base_url in html and "cannot be undone" in html and "ds-00" in html
    assert 'name="confirmed" value="yes"' in html and 'name="expected" value="6"' in html
    assert not Job.objects.exists()

    # the filter's result changed between the question and the answer: asked again, nothing deleted
    DatasetSnapshot.objects.filter(uid="da_5").delete()
    html = client.post(url("bulk"), {"action": "delete", "scope": "all", "matching": "q=river", "confirmed": "yes",
                                     "expected": "6"}, headers=HX).content.decode()
    assert "6 before, 5 now" in html and not Job.objects.exists()

    client.post(url("bulk"), {"action": "delete", "scope": "all", "matching": "q=river", "confirmed": "yes",
                              "expected": "5"}, headers=HX)
    job = Job.objects.get()
    assert job.kind == "dataset.delete" and job.total == 5 and job.title == "Delete 5 datasets"


def test_delete_of_ticked_rows_carries_them_through_the_confirmation(client_as, cast, catalogue):
    client = client_as(cast["admin"])
    html = client.post(url("bulk"), {"action": "delete", "uid": ["da_1", "da_2"]}).content.decode()
    assert "Delete 2 datasets on" in html and html.count('name="uid"') == 2 and "<html" in html
    response = client.post(url("bulk"), {"action": "delete", "uid": ["da_1", "da_2"], "confirmed": "yes",
                                         "expected": "2"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert set(job.items.values_list("target", flat=True)) == {"da_1", "da_2"}


def test_the_delete_kind_treats_already_gone_as_done(connection):
    from portaladmin.portals.client import client_for

    kind = get_kind("dataset.delete")
    item = type("Item", (), {"target": "da_1"})()
    with responses.RequestsMock() as api:
        api.delete(f"{API}/datasets/da_1/", status=204)
        assert kind.perform(client_for(connection), item) == {"message": "Deleted."}
    with responses.RequestsMock() as api:
        api.delete(f"{API}/datasets/da_1/", status=404, json={"error_code": "NotFound", "message": "gone"})
        assert "already gone" in kind.perform(client_for(connection), item)["message"]
    assert kind.idempotent and kind.needed_role == "admin"


def test_list_offers_all_matching_export_and_delete_by_role(client_as, cast, catalogue):
    operator = client_as(cast["operator"]).get(url("list"), {"q": "river"}).content.decode()
    assert 'name="scope" value="all" form="bulk-form"' in operator and "All 6 datasets matching" in operator
    assert 'name="matching" value="q=river" form="bulk-form"' in operator
    assert 'value="publish_metadata"' in operator and 'value="delete"' not in operator
    assert url("export") + "?q=river" in operator
    admin = client_as(cast["admin"]).get(url("list")).content.decode()
    assert 'value="delete"' in admin
    viewer = client_as(cast["viewer"]).get(url("list")).content.decode()
    assert 'name="scope"' not in viewer and url("export") in viewer


def test_export_is_the_filtered_list_and_formula_safe(client_as, cast, make_snapshot):
    make_snapshot("da_1", "evil", title="=HYPERLINK(\"http://x\")", keywords=["+cmd", "ok"], status="error",
                  search="evil river")
    make_snapshot("da_2", "calm", title="Calm", search="calm river")
    make_snapshot("da_3", "other", title="Other", search="other")
    response = client_as(cast["viewer"]).get(url("export"), {"q": "river", "sort": "-dataset_id"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "datasets-demo-" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["dataset_id", "uid", "title", "status"]
    assert [r[0] for r in rows[1:]] == ["evil", "calm"]
    assert rows[1][2] == "'=HYPERLINK(\"http://x\")" and rows[1][7] == "'+cmd, ok" and rows[1][3] == "error"


def test_export_outsider_gets_404(client_as, cast):
    assert client_as(cast["outsider"]).get(url("export")).status_code == 404


def test_a_double_click_on_the_delete_confirmation_is_one_job(client_as, cast, catalogue):
    client = client_as(cast["admin"])
    form = {"action": "delete", "uid": ["da_1", "da_2"], "confirmed": "yes", "expected": "2", "submit_token": "t-1"}
    first = client.post(url("bulk"), form, headers=HX)
    second = client.post(url("bulk"), form, headers=HX)
    assert first.status_code == second.status_code == 200
    assert Job.objects.count() == 1
