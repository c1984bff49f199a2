"""Against the sandbox portal over real HTTP: "delete all matching the filter" from the list, confirmed, deletes
exactly those datasets on the portal, audits each, and the rows leave the catalogue snapshot."""

import pytest
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.datasets.services import catalogue_sync_run
from portaladmin.jobs.models import JobStatus
from portaladmin.portals.client import client_for
from portaladmin.portals.client.errors import PortalNotFound
from portaladmin.portals.models import Role
from tests.sandbox_fixtures import run_worker_and_poller

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

KEY = "sandbox-bulk-delete-key-0123456789"


def test_delete_all_matching_on_the_sandbox(sandbox_connection, sandbox_clock, make_user, no_enqueue, client):
    conn = sandbox_connection("bdl", slug="demo", api_key=KEY, datasets=6, users=1, groups=0, harvesters=0, pages=0)
    catalogue_sync_run(connection=conn)
    rows = list(DatasetSnapshot.objects.filter(connection=conn).order_by("dataset_id"))
    assert len(rows) == 6
    doomed = rows[:2]
    client.force_login(make_user("alice", role=Role.ADMIN, connection=conn))
    bulk = reverse("datasets:bulk", kwargs={"conn": "demo"})
    # the filter: a search word only two rows carry (the list searches the local snapshot)
    DatasetSnapshot.objects.filter(pk__in=[r.pk for r in doomed]).update(search="doomed")
    matching = "q=doomed"
    expected = doomed
    html = client.post(bulk, {"action": "delete", "scope": "all", "matching": matching}).content.decode()
    assert f"Delete 2 datasets on {conn.name}?" in html
    response = client.post(bulk, {"action": "delete", "scope": "all", "matching": matching, "confirmed": "yes",
                                  "expected": str(len(expected))})
    assert response.status_code == 302
    job = conn.jobs.get()
    job = run_worker_and_poller(job, sandbox_clock, steps=5)
    assert job.status == JobStatus.SUCCEEDED and job.succeeded_count == len(expected)
    for row in expected:
        with pytest.raises(PortalNotFound):
            client_for(conn).dataset_get(row.uid)
        assert AuditEvent.objects.filter(action="dataset.delete", target=row.uid, outcome="success").exists()
    assert DatasetSnapshot.objects.filter(connection=conn).count() == 6 - len(expected)
