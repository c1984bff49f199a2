"""Before unpublishing or deleting a dataset: the studio and code editor pages that reference it, everywhere the
person can see (two sandbox portals over real HTTP)."""

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
