"""Job items link to their target's page: dataset, harvester, user (e-mails: the users found by that address)."""

from django.urls import reverse

from portaladmin.jobs.models import Job, JobItem, JobStatus


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
