"""Before unpublishing or deleting a dataset: the studio and code editor pages that reference it, everywhere the
person can see (two sandbox portals over real HTTP)."""

import re

import pytest
from django.urls import reverse

from portaladmin.portals.client import client_for
from portaladmin.portals.models import Membership, Role
from portaladmin.promote.dependents import dataset_dependents, references

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_references_match_whole_tokens_only():
    assert references('{"html": "<ods-dataset-context context=\\"roads\\">"}', ["roads"])
    assert references("dataset=roads&q=x", ["roads"])
    assert not references("roads-2026 and main_roads", ["roads"])
    assert not references("anything", ["", ""])


@pytest.fixture
def referencing_pages(stage, prod):
    from portaladmin.sandbox.models import SandboxObject

    body = {"slug": "roads-map", "title": {"en": "Roads map"}, "description": "",
            "content": {"html": {"en": '<ods-dataset-context context="ctx" ctx-dataset="stage-00001">'},
                        "css": {"en": ""}}}
    client_for(prod).code_page_create(body)
    client_for(stage).code_page_create({**body, "slug": "unrelated",
                                        "content": {"html": {"en": "stage-000010"}, "css": {"en": ""}}})
    studio = SandboxObject.objects.filter(portal__name="stage", kind="studio_page").first()
    studio.data["contents"][0]["description"] = "Built on stage-00001"
    studio.save()
    return studio.key


def test_pages_referencing_the_dataset_on_every_visible_connection(make_user, stage, prod, referencing_pages):
    both = make_user("bo", role=Role.VIEWER, connection=stage)
    Membership.objects.create(user=both, connection=prod, role=Role.VIEWER)
    found = dataset_dependents(user=both, dataset_id="stage-00001")
    assert sorted((d.connection.slug, d.kind, d.key) for d in found.pages) == [
        ("prod", "code", "roads-map"), ("stage", "studio", referencing_pages)]
    assert found.unreadable == []
    only_stage = make_user("sol", role=Role.VIEWER, connection=stage)
    assert [d.connection.slug for d in dataset_dependents(user=only_stage, dataset_id="stage-00001").pages] == [
        "stage"]


def test_the_dataset_overview_loads_the_check_next_to_unpublish(client, make_user, stage, prod, referencing_pages):
    user = make_user("oscar", role=Role.OPERATOR, connection=stage)
    Membership.objects.create(user=user, connection=prod, role=Role.VIEWER)
    client.force_login(user)
    uid = next(d.uid for d in client_for(stage).dataset_iter() if d.dataset_id == "stage-00001")
    overview = client.get(reverse("datasets:detail", kwargs={"conn": "stage", "uid": uid})).content.decode()
    check = reverse("promote:dependents", kwargs={"conn": "stage", "uid": uid})
    assert f'hx-get="{check}?dataset_id=stage-00001"' in overview
    fragment = client.get(check, {"dataset_id": "stage-00001"}).content.decode()
    assert "2 pages reference this dataset" in fragment and "Roads map" in fragment


def test_a_portal_that_cannot_be_read_is_reported_not_skipped(make_user, make_connection, stage, live_server):
    broken = make_connection("broken", base_url=f"{live_server.url}/sandbox/stage", api_key="not-the-key")
    user = make_user("bo", role=Role.VIEWER, connection=stage)
    Membership.objects.create(user=user, connection=broken, role=Role.VIEWER)
    found = dataset_dependents(user=user, dataset_id="stage-00001")
    assert [(conn.slug, "key" in why) for conn, why in found.unreadable] == [("broken", True)]


def test_the_unpublish_and_delete_confirmations_name_the_pages(client, make_user, stage, prod, referencing_pages):
    user = make_user("ada", role=Role.ADMIN, connection=stage)
    Membership.objects.create(user=user, connection=prod, role=Role.VIEWER)
    client.force_login(user)
    uid = next(d.uid for d in client_for(stage).dataset_iter() if d.dataset_id == "stage-00001")
    from portaladmin.datasets.services import catalogue_sync_run

    catalogue_sync_run(connection=stage)  # the Delete form shows once the dataset is in the catalogue
    overview = client.get(reverse("datasets:detail", kwargs={"conn": "stage", "uid": uid})).content.decode()
    check = reverse("promote:dependents", kwargs={"conn": "stage", "uid": uid})
    assert f'hx-get="{check}?dataset_id=stage-00001&amp;delete=1"' in overview
    assert "(Still checking which pages reference it.) Unpublish this dataset?" in overview  # until the check ran
    fragment = client.get(check, {"dataset_id": "stage-00001", "delete": "1"}).content.decode()
    # the confirmations themselves are swapped in (out of band) with the pages' names and portals
    unpublish = re.search(r'<form id="unpublish-form" hx-swap-oob="true"[^>]*hx-confirm="([^"]*)"', fragment).group(1)
    assert unpublish.startswith("2 pages reference this dataset: ") and "Roads map (Prod)" in unpublish
    assert unpublish.endswith("Unpublish this dataset? Its data will be removed from the portal's explore pages.")
    delete = re.search(r'<p id="delete-dependents" hx-swap-oob="true".*?</p>', fragment, re.S).group(0)
    assert "2 pages reference this dataset: " in delete and "Roads map (Prod)" in delete

    # a viewer gets the list, not the buttons
    viewer = make_user("vic", role=Role.VIEWER, connection=stage)
    client.force_login(viewer)
    assert "unpublish-form" not in client.get(check, {"dataset_id": "stage-00001", "delete": "1"}).content.decode()


def test_the_bulk_delete_confirmation_names_the_pages(client, make_user, stage, prod, referencing_pages):
    from portaladmin.datasets.models import DatasetSnapshot
    from portaladmin.datasets.services import catalogue_sync_run

    user = make_user("ada", role=Role.ADMIN, connection=stage)
    Membership.objects.create(user=user, connection=prod, role=Role.VIEWER)
    client.force_login(user)
    catalogue_sync_run(connection=stage)
    rows = {r.dataset_id: r.uid for r in DatasetSnapshot.objects.filter(connection=stage)}
    html = client.post(reverse("datasets:bulk", kwargs={"conn": "stage"}),
                       {"action": "delete", "uid": [rows["stage-00001"], rows["stage-00002"]]}).content.decode()
    assert "Delete 2 datasets on Stage?" in html
    block = re.search(r'<div class="msg msg-warning" id="delete-dependents" data-count="1">(.*?)</div>', html,
                      re.S).group(1)
    assert "stage-00001</span> — 2 pages reference this dataset: " in block and "Roads map (Prod)" in block
    assert "stage-00002" not in block
