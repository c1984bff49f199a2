"""The compare, dry-run and start screens: who may use them and what they show (two sandbox portals)."""

import re

import pytest
from django.urls import reverse

from portaladmin.jobs.models import Job
from portaladmin.portals.models import Membership, Role
from tests.promote.conftest import portal_writes

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def url(name, uid, **query):
    base = reverse(f"promote:{name}", kwargs={"conn": "stage", "uid": uid})
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def person(make_user, stage, prod):
    def make(name, source_role, target_role=None):
        user = make_user(name, role=source_role, connection=stage)
        if target_role:
            Membership.objects.create(user=user, connection=prod, role=target_role)
        return user
    return make


def test_compare_shows_parts_side_by_side_and_folds_unchanged_ones(client, person, source_uid):
    client.force_login(person("vera", Role.VIEWER, Role.VIEWER))
    page = client.get(url("compare", source_uid))
    assert page.status_code == 200 and "Prod" in page.content.decode()  # the picker lists the other connection
    page = client.get(url("compare", source_uid, to="prod"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "does not exist on Prod" in html
    assert re.search(r'<details class="diff-part" data-part="resources" open>', html)
    assert "population.csv" in html
    assert "Promoting needs the operator role on Stage and the admin role on Prod" in html


def test_compare_with_a_connection_i_cannot_see_is_404(client, person, source_uid):
    client.force_login(person("vera", Role.VIEWER))
    assert client.get(url("compare", source_uid, to="prod")).status_code == 404
    assert client.get(url("dry-run", source_uid, to="prod", dataset_id="x", parts="metadata")).status_code == 404


def test_dry_run_lists_calls_and_writes_nothing(client, person, source_uid):
    client.force_login(person("pia", Role.OPERATOR, Role.ADMIN))
    before = portal_writes("prod")
    page = client.get(url("dry-run", source_uid, to="prod", dataset_id="stage-00001", parts="dataset&parts=resources",
                          publish="on"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "POST /datasets/ — create dataset stage-00001" in html and "upload population.csv" in html
    assert 'id="promote-start"' in html
    assert portal_writes("prod") == before


def test_start_needs_admin_on_the_target(client, person, source_uid, no_enqueue):
    data = {"to": "prod", "dataset_id": "stage-00001", "parts": ["metadata"], "target": ""}
    client.force_login(person("otto", Role.OPERATOR, Role.OPERATOR))
    assert client.post(url("start", source_uid), data).status_code == 403
    assert not Job.objects.exists()
    client.force_login(person("pia", Role.OPERATOR, Role.ADMIN))
    response = client.post(url("start", source_uid), data)
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.kind == "promote.dataset" and job.connection.slug == "prod"
    assert job.params["source"] == "stage" and job.params["parts"] == ["metadata"]


def test_one_job_for_several_targets_each_its_own_chain(client, person, source_uid, sandbox_connection, no_enqueue):
    third = sandbox_connection("prod2", slug="prod2", name="Prod 2", api_key="promote-prod2-key-0123456789",
                               datasets=1, users=3, groups=3, harvesters=0, pages=0)
    user = person("pia", Role.OPERATOR, Role.ADMIN)
    Membership.objects.create(user=user, connection=third, role=Role.ADMIN)
    client.force_login(user)
    page = client.get(url("dry-run", source_uid, to="prod", dataset_id="stage-00001", parts="metadata"))
    assert 'name="also" value="prod2"' in page.content.decode()
    response = client.post(url("start", source_uid), {"to": "prod", "dataset_id": "stage-00001",
                                                      "parts": ["dataset", "metadata"], "also": ["prod2"]})
    job = Job.objects.get()
    assert response.status_code == 302
    assert sorted(job.connections.values_list("slug", flat=True)) == ["prod", "prod2"]
    assert sorted(job.items.values_list("connection__slug", "payload__part")) == [
        ("prod", "dataset"), ("prod", "metadata"), ("prod2", "dataset"), ("prod2", "metadata")]


def test_a_dry_run_with_several_targets_lists_the_calls_per_target(client, person, source_uid, sandbox_connection):
    from portaladmin.portals.client import client_for
    from portaladmin.sandbox.models import SandboxDataset

    third = sandbox_connection("prod2", slug="prod2", name="Prod 2", api_key="promote-prod2-key-0123456789",
                               datasets=1, users=3, groups=3, harvesters=0, pages=0)
    # prod2 already has the dataset (same dataset_id), prod has not: the two plans differ
    target = next(client_for(third).dataset_iter())
    SandboxDataset.objects.filter(portal__name="prod2", uid=target.uid).update(dataset_id="stage-00001")
    user = person("pia", Role.OPERATOR, Role.ADMIN)
    Membership.objects.create(user=user, connection=third, role=Role.ADMIN)
    client.force_login(user)
    before = portal_writes("prod") + portal_writes("prod2")
    html = client.get(url("dry-run", source_uid, to="prod", dataset_id="stage-00001",
                          parts="dataset&parts=metadata", also="prod2")).content.decode()
    sections = dict(re.findall(r'<section class="dry-run-target" data-target="([\w-]+)"(.*?)</section>\s*</section>',
                               html, re.S))
    assert set(sections) == {"prod", "prod2"}
    assert "POST /datasets/ — create dataset stage-00001" in sections["prod"]
    assert "create dataset" not in sections["prod2"] and "/datasets/{target}/metadata/" in sections["prod2"]
    assert '<input type="hidden" name="also" value="prod2">' in html  # the promote goes to both
    assert portal_writes("prod") + portal_writes("prod2") == before


def test_the_job_page_lists_each_steps_calls(client, person, source_uid, sandbox_clock, no_enqueue):
    from tests.sandbox_fixtures import run_worker_and_poller

    client.force_login(person("pia", Role.OPERATOR, Role.ADMIN))
    client.post(url("start", source_uid), {"to": "prod", "dataset_id": "stage-00001", "parts": ["dataset", "schedules"]})
    job = run_worker_and_poller(Job.objects.get(), sandbox_clock, steps=20)
    html = client.get(job.get_absolute_url()).content.decode()
    assert "POST /datasets/ — create dataset stage-00001" in html
    assert "create schedule 30 2 * * 1" in html
