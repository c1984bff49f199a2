"""The seed command and function, and the sandbox settings page."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from portaladmin.sandbox.models import SandboxDataset, SandboxHarvester, SandboxObject, SandboxPortal
from portaladmin.sandbox.services import request_counts, seed_portal
from tests.sandbox.helpers import SandboxApi


def seed(*args) -> list[str]:
    out = io.StringIO()
    call_command("sandbox_seed", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def counts(name):
    portal = SandboxPortal.objects.get(name=name)
    objects = SandboxObject.objects.filter(portal=portal)
    return {"datasets": SandboxDataset.objects.filter(portal=portal, harvester_uid="").count(),
            "users": objects.filter(kind="user").count(), "groups": objects.filter(kind="group").count(),
            "harvesters": SandboxHarvester.objects.filter(portal=portal).count(),
            "pages": objects.filter(kind__in=("studio_page", "code_page")).count()}


def test_command_creates_the_portal_and_prints_a_working_key(db, client):
    lines = seed("demo", "--datasets", "30", "--users", "12", "--groups", "4", "--harvesters", "3", "--pages", "5")
    key = lines[-1]
    assert counts("demo") == {"datasets": 30, "users": 12, "groups": 4, "harvesters": 3, "pages": 5}
    assert SandboxApi(client, "demo", key).get("/datasets/", query={"limit": 0}).json["total_count"] > 30


def test_command_is_idempotent_and_keeps_the_key(db):
    first = seed("demo", "--datasets", "10", "--api-key", "fixed-key-123")
    second = seed("demo", "--datasets", "10")
    assert first[-1] == second[-1] == "fixed-key-123"
    assert counts("demo")["datasets"] == 10
    assert seed("demo", "--datasets", "15")[-1] == "fixed-key-123"  # tops up
    assert counts("demo")["datasets"] == 15


def test_reset_wipes_and_reseeds(db, client):
    seed("demo", "--datasets", "10", "--api-key", "k-1")
    api = SandboxApi(client, "demo", "k-1")
    api.post("/groups/", {"title": "Extra"})
    assert request_counts("demo") == 1
    seed("demo", "--datasets", "5", "--groups", "2", "--reset", "--api-key", "k-2")
    assert counts("demo")["datasets"] == 5 and counts("demo")["groups"] == 2
    assert request_counts("demo") == 0
    assert api.get("/groups/").status == 401
    assert SandboxApi(client, "demo", "k-2").get("/groups/").json["total_count"] == 2


def test_command_sets_faults_and_durations(db):
    seed("demo", "--datasets", "1", "--latency-ms", "5", "--error-rate", "0.1", "--throttle-rate", "0.05",
         "--processing-seconds", "2-4")
    portal = SandboxPortal.objects.get(name="demo")
    assert (portal.latency_ms, portal.error_rate, portal.throttle_rate) == (5, 0.1, 0.05)
    assert (portal.processing_seconds_min, portal.processing_seconds_max) == (2.0, 4.0)
    with pytest.raises(CommandError):
        seed("demo", "--error-rate", "2")
    with pytest.raises(CommandError):
        seed("demo", "--processing-seconds", "5-1")


def test_seed_content_is_realistic_and_mixed(db):
    portal, key = seed_portal("mix", datasets=100, reset=True)
    rows = list(SandboxDataset.objects.filter(portal=portal, harvester_uid=""))
    assert {ds.status for ds in rows} == {"idle", "error", "limit_reached"}
    assert 0 < sum(ds.is_published for ds in rows) < len(rows)
    default = rows[0].data["metadata"]["default"]
    assert default["title"]["value"] and default["keyword"]["value"] and default["publisher"]["value"]
    assert rows[0].data["metadata"]["internal"]["license_id"]["value"]
    assert len({ds.data["metadata"]["default"]["title"]["value"] for ds in rows}) == 100
    assert SandboxHarvester.objects.filter(portal=portal, fails=True).count() == 1
    assert key.startswith("sbx-")


def test_seeding_5000_datasets_uses_bulk_inserts(db, django_assert_max_num_queries):
    with django_assert_max_num_queries(120):
        seed_portal("large", datasets=5000, users=50, groups=5, harvesters=2, pages=4, reset=True)
    assert SandboxDataset.objects.filter(portal__name="large", harvester_uid="").count() == 5000


def test_settings_page_lists_portals_and_saves_faults(client, make_user, db):
    seed_portal("page", datasets=3, api_key="page-key", reset=True)
    assert client.get("/sandbox/").status_code == 302  # a portaladmin page: login required
    client.force_login(make_user("op"))
    assert client.get("/sandbox/").status_code == 403  # fault settings change what everyone sees: superusers only
    assert client.post("/sandbox/page/reset-log/").status_code == 403
    client.force_login(make_user("boss", superuser=True))
    page = client.get("/sandbox/")
    assert page.status_code == 200 and b"page" in page.content and b"page-key" not in page.content
    fields = {"page-latency_ms": "0", "page-error_rate": "0.25", "page-throttle_rate": "0.1",
              "page-retry_after": "4", "page-seed": "3", "page-publish_race_seconds": "0.3",
              "page-queue_seconds": "1", "page-processing_seconds_min": "1", "page-processing_seconds_max": "2",
              "page-deleting_seconds": "1", "page-aborting_seconds": "0.5", "page-harvest_seconds": "2"}
    assert client.post("/sandbox/page/settings/", fields).status_code == 302
    portal = SandboxPortal.objects.get(name="page")
    assert (portal.error_rate, portal.throttle_rate, portal.retry_after) == (0.25, 0.1, 4)
    client.post("/sandbox/page/settings/", {**fields, "page-error_rate": "0.9", "page-throttle_rate": "0.5"})
    assert SandboxPortal.objects.get(name="page").error_rate == 0.25  # refused: more than 100 %
    SandboxApi(client, "page", "page-key").call("GET", "/groups/", check_response=False)
    assert request_counts("page") == 1
    assert client.post("/sandbox/page/reset-log/").status_code == 302
    assert request_counts("page") == 0


def test_refresh_after_deletions_fills_the_gaps_without_duplicates(db, client, sandbox_clock):
    seed_portal("gaps", datasets=10, users=5, pages=4, api_key="gaps-key")
    api = SandboxApi(client, "gaps", "gaps-key")
    third = api.get("/datasets/", query={"dataset_id": "gaps-00003"}).json["results"][0]["uid"]
    api.delete(f"/datasets/{third}/")
    victim = [u["username"] for u in api.get("/users/").json["results"]][2]
    api.delete(f"/users/{victim}/")
    api.delete("/code_editor_pages/home/")
    seed_portal("gaps", datasets=10, users=5, pages=4)  # same fake time: nothing may collide
    ids = [d["dataset_id"] for d in api.get("/datasets/", query={"limit": 100}).json["results"]
           if d["dataset_id"].startswith("gaps-")]
    assert len(ids) == len(set(ids)) == 10 and "gaps-00003" in ids
    assert counts("gaps") == {"datasets": 10, "users": 5, "groups": 3, "harvesters": 2, "pages": 4}
