"""Job items link to their target's page (dataset, harvester, user; e-mails: the users found by that address), and
"Retry failed" offers only the rows whose failure can change on retry."""

from django.urls import reverse

from portaladmin.jobs.models import ItemStatus, Job, JobItem, JobStatus


def _job(connection, user, kind, *targets):
    job = Job.objects.create(kind=kind, connection=connection, started_by=user, status=JobStatus.RUNNING, title=kind)
    job.connections.add(connection)
    for target in targets:
        JobItem.objects.create(job=job, connection=connection, target=target)
    return job


def _page(client, job) -> str:
    return client.get(reverse("jobs:detail", kwargs={"job_id": job.pk})).content.decode()


def test_items_link_to_their_targets(cast, client_as, connection):
    c = client_as(cast["viewer"])
    assert 'href="/c/demo/datasets/da_1/"' in _page(c, _job(connection, cast["operator"], "dataset.publish", "da_1"))
    assert 'href="/c/demo/harvesters/ha_1/"' in _page(c, _job(connection, cast["operator"], "harvester.start", "ha_1"))
    assert 'href="/c/demo/users/ada/"' in _page(c, _job(connection, cast["operator"], "group.batch_add", "ada"))
    invite = _page(c, _job(connection, cast["operator"], "user.invite", "new@example.org"))
    assert 'href="/c/demo/users/?search=new%40example.org"' in invite


def test_a_target_that_cannot_be_in_a_url_stays_plain_text(cast, client_as, connection):
    html = _page(client_as(cast["viewer"]), _job(connection, cast["operator"], "group.batch_add", "a/b"))
    assert ">a/b<" in html and "/users/a/b/" not in html


def _invite_job(connection, user, failures: dict[str, bool]):
    """A finished invite job whose failed rows are {address: was already a member before the send}."""
    job = Job.objects.create(kind="user.invite", connection=connection, started_by=user, title="Invite",
                             status=JobStatus.FAILED, total=len(failures), failed_count=len(failures))
    job.connections.add(connection)
    for email, member in failures.items():
        JobItem.objects.create(job=job, connection=connection, target=email, status=ItemStatus.FAILED,
                               details={"member_before_send": member}, message="Refused.")
    return job


def test_retry_is_offered_only_for_rows_whose_failure_can_change(cast, client_as, connection):
    c = client_as(cast["operator"])
    mixed = _page(c, _invite_job(connection, cast["operator"], {"old@example.org": True, "new@example.org": False}))
    assert "Retry 1 failed" in mixed and "2 failed, of which 1 may end differently on retry" in mixed
    members_only = _page(c, _invite_job(connection, cast["operator"], {"old@example.org": True}))
    assert "Retry" not in members_only.split('id="job-progress"')[0].replace("retry_of", "")
    assert "none would end differently on retry" in members_only


def test_retrying_a_job_of_existing_members_only_starts_nothing(cast, client_as, connection):
    job = _invite_job(connection, cast["operator"], {"old@example.org": True})
    response = client_as(cast["operator"]).post(reverse("jobs:retry", kwargs={"job_id": job.pk}))
    assert response.status_code == 302 and Job.objects.count() == 1
