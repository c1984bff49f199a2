"""The sandbox's routes are spec operations; demo_setup (what `make run` runs) brings up working portals."""

import io

import pytest
from django.core.management import call_command

from portaladmin.portals.models import Connection
from portaladmin.sandbox.api import ROUTES
from portaladmin.sandbox.models import SandboxPortal
from tests.oracle import all_operations, requires_spec
from tests.sandbox.helpers import SandboxApi, new_dataset_body


@requires_spec
def test_the_sandbox_serves_exactly_the_operations_of_the_spec():
    from portaladmin.sandbox import handlers  # noqa: F401  (registers the routes)

    spec_ops = set(all_operations())
    ours = {(method, template) for method, template, *_ in ROUTES}
    assert ours - spec_ops == set()  # same paths, same parameter names: the request log speaks the spec's language
    assert spec_ops - ours == set()  # and all 181 operations are served


@pytest.mark.django_db
def test_demo_setup_seeds_two_portals_whose_connections_work(client, settings):
    settings.PORTALADMIN_SELF_URL = "http://testserver"
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    assert set(SandboxPortal.objects.values_list("name", flat=True)) >= {"lyon", "bretagne"}
    for conn in Connection.objects.filter(slug__in=("lyon", "bretagne")):
        assert conn.base_url == f"http://testserver/sandbox/{conn.slug}"
        api = SandboxApi(client, conn.slug, conn.api_key)
        total = api.get("/datasets/", query={"limit": 0}).json["total_count"]
        assert total >= (3000 if conn.slug == "bretagne" else 300)
        assert api.post("/datasets/", new_dataset_body("after-setup")).status == 201


def test_realtime_resource_actions(api):
    uid = api.get("/datasets/", query={"limit": 1}).json["results"][0]["uid"]
    resource = api.post(f"/datasets/{uid}/resources/", {
        "type": "realtime", "title": "Push", "datasource": {"type": "http", "connection": {"uid": "co_sandbx"}}})
    ruid = resource.json["uid"]
    assert api.post(f"/datasets/{uid}/resources/{ruid}/disable/").json["params"]["enabled"] is False
    assert api.post(f"/datasets/{uid}/resources/{ruid}/renew_api_key/").json["params"]["push_api_key"]
    csv_resource = api.get(f"/datasets/{uid}/resources/").json["results"][0]["uid"]
    assert api.post(f"/datasets/{uid}/resources/{csv_resource}/enable/", check_response=False).status == 400
    guessed = api.get(f"/datasets/{uid}/resources/{csv_resource}/guess_extractors_params/")
    assert guessed.json["extractor"] == "csvfile"
