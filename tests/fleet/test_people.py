"""People across portals: parallel look-up with per-portal errors, and offboarding in ONE job (live sandbox)."""


import pytest
from django.urls import reverse

from portaladmin.fleet.selectors import person_lookup
from portaladmin.jobs import engine
from portaladmin.jobs.models import Job, JobItem
from portaladmin.portals.client import client_for
from portaladmin.portals.client.errors import PortalNotFound
from portaladmin.portals.models import Membership, Role

pytestmark = pytest.mark.live


@pytest.fixture
def portals(live_portal):
    alpha = live_portal("alpha", datasets=2, harvesters=0, users=4, groups=2, pages=0)
    beta = live_portal("beta", datasets=2, harvesters=0, users=4, groups=2, pages=0)
    return alpha, beta


@pytest.fixture
def run_jobs(monkeypatch):
    """No broker: the doorbells are dropped, and the pending items are processed in-process on demand."""
    from portaladmin.jobs import tasks

    monkeypatch.setattr(tasks, "enqueue_process", lambda item_ids: None, raising=False)
    monkeypatch.setattr(tasks.jobs_items_process_task, "delay", lambda **kw: None)

    def drain():
        ids = list(JobItem.objects.filter(status="pending").values_list("id", flat=True))
        for item_id in ids:
            engine.items_process([item_id])

    return drain


def second_user(conn) -> str:
    return [u.username for u in client_for(conn).user_list(limit=10, sort="username") if u.username != "admin"][0]


def test_lookup_by_username_and_by_email_on_every_portal(portals, make_user):
    alpha, beta = portals
    root = make_user("root", superuser=True)
    username = second_user(alpha)

    by_name = person_lookup(user=root, query=username)
    assert [r.connection.slug for r in by_name] == ["alpha", "beta"]
    assert all(not r.error for r in by_name)
    assert [m.username for r in by_name for m in r.matches] == [username, username]  # same seed, same names
    by_mail = person_lookup(user=root, query=f"{username}@beta.example.org")
    assert [len(r.matches) for r in by_mail] == [0, 1]
    assert by_mail[1].matches[0].email == f"{username}@beta.example.org"
    admin = person_lookup(user=root, query="ADMIN")[0].matches[0]
    assert "edit_domain" in admin.permissions


def test_lookup_reports_errors_per_portal(portals, make_connection, live_server, make_user):
    alpha, _ = portals
    make_connection("broken", name="Broken key", base_url=f"{live_server.url}/sandbox/alpha", api_key="wrong-key-1234")
    make_connection("gone", name="Gone portal", base_url=f"{live_server.url}/sandbox/nope")
    root = make_user("root", superuser=True)
    results = {r.connection.slug: r for r in person_lookup(user=root, query="admin")}
    assert len(results["alpha"].matches) == 1 and not results["alpha"].error
    assert "refused the connection's key" in results["broken"].error
    assert results["gone"].error and not results["gone"].matches
    assert "wrong-key" not in results["broken"].error


def test_lookup_is_bounded_and_times_out_per_portal(portals, make_user, settings, monkeypatch):
    from portaladmin.fleet import parallel

    settings.FLEET_CALL_TIMEOUT = 0.2
    seen = []
    real = parallel.ThreadPoolExecutor

    def spy(max_workers, **kw):
        seen.append(max_workers)
        return real(max_workers=max_workers, **kw)

    monkeypatch.setattr(parallel, "ThreadPoolExecutor", spy)
    import threading

    release = threading.Event()
    alpha, beta = portals

    def call(client):
        if client.base_url.endswith("/alpha/api/automation/v1.0"):
            release.wait(2)  # a slow portal
            return "late"
        return "fast"

    outcomes = parallel.fan_out([alpha, beta], call)
    release.set()
    assert seen == [2]  # min(FLEET_MAX_WORKERS=4, 2 connections)
    assert outcomes[0].error.startswith("The portal did not answer within") and outcomes[1].value == "fast"


def test_offboarding_is_one_job_with_per_portal_results(portals, client_as, make_user, run_jobs):
    alpha, beta = portals
    admin = make_user("alice")
    for conn in (alpha, beta):
        Membership.objects.create(user=admin, connection=conn, role=Role.ADMIN)
    # on beta a second domain administrator exists, so "admin" may go there; alpha refuses (its last admin)
    other = second_user(beta)
    client_for(beta).user_update(other, {"permissions": ["edit_domain"]})
    c = client_as(admin)

    page = c.get(reverse("fleet:people") + "?q=admin").content.decode()
    assert f'value="{alpha.pk}:admin"' in page and f'value="{beta.pk}:admin"' in page

    response = c.post(reverse("fleet:people-offboard"),
                      {"person": "admin", "account": [f"{alpha.pk}:admin", f"{beta.pk}:admin"]})
    job = Job.objects.get(kind="user.offboard")
    assert response.status_code == 302 and response["Location"] == reverse("fleet:offboard", kwargs={"job_id": job.pk})
    assert job.total == 2 and set(job.connections.all()) == {alpha, beta}
    run_jobs()

    job.refresh_from_db()
    assert job.status == "partially_failed"
    items = {i.connection.slug: i for i in JobItem.objects.filter(job=job).select_related("connection")}
    assert items["beta"].status == "succeeded"
    assert items["alpha"].status == "failed"
    assert "only domain administrator" in items["alpha"].message
    with pytest.raises(PortalNotFound):
        client_for(beta).user_get("admin")
    assert client_for(alpha).user_get("admin").username == "admin"

    # beta: the key the connection uses belongs to "admin": left working, and said; alpha: the same
    assert "The key this connection uses is theirs and was left working" in items["beta"].message
    assert client_for(beta).dataset_count() >= 0  # the connection still works

    html = c.get(reverse("fleet:offboard", kwargs={"job_id": job.pk})).content.decode()
    assert 'data-portal="alpha" data-result="failed"' in html and 'data-portal="beta" data-result="succeeded"' in html
    assert "only domain administrator" in html

    from portaladmin.audit.models import AuditEvent

    assert set(AuditEvent.objects.filter(action="user.offboard").values_list("connection__slug", "outcome")) == {
        ("alpha", "failure"), ("beta", "success")}


def test_offboarding_needs_admin_on_every_selected_portal(portals, client_as, make_user):
    alpha, beta = portals
    user = make_user("oscar")
    Membership.objects.create(user=user, connection=alpha, role=Role.ADMIN)
    Membership.objects.create(user=user, connection=beta, role=Role.OPERATOR)
    response = client_as(user).post(reverse("fleet:people-offboard"),
                                    {"person": "admin", "account": [f"{alpha.pk}:admin", f"{beta.pk}:admin"]})
    assert response.status_code == 403
    assert b"Portal beta" in response.content
    assert not Job.objects.exists()


def test_offboarding_revokes_the_persons_api_keys_on_each_portal(portals, client_as, make_user, run_jobs):
    from portaladmin.sandbox.handlers.misc import apikey_data
    from portaladmin.sandbox.models import SandboxObject, SandboxPortal

    alpha, beta = portals
    person = second_user(alpha)
    portal = SandboxPortal.objects.get(name="alpha")
    for n in range(2):  # two keys of theirs on alpha, one already revoked elsewhere is skipped
        SandboxObject.objects.create(portal=portal, kind="apikey", key=f"ak_off{n}", data=apikey_data(
            f"ak_off{n}", f"their key {n}", f"secret-of-{person}-{n}", permissions=["edit_dataset"], by=person))
    admin = make_user("alice")
    Membership.objects.create(user=admin, connection=alpha, role=Role.ADMIN)
    client_as(admin).post(reverse("fleet:people-offboard"), {"person": person, "account": [f"{alpha.pk}:{person}"]})
    run_jobs()
    item = JobItem.objects.get(job__kind="user.offboard")
    assert item.status == "succeeded" and item.message == "Removed from this portal. 2 API keys revoked."
    keys = {k.uid: k for k in client_for(alpha).apikey_iter()}
    assert keys["ak_off0"].is_revoked and keys["ak_off1"].is_revoked
    assert client_for(alpha).dataset_count() >= 0  # the connection's own key still works
