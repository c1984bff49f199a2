"""Plain words instead of developer terms, and a dash with the reason instead of a misleading zero."""

from datetime import timedelta

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from portaladmin.jobs.models import ItemStatus, Job, JobItem, JobStatus
from portaladmin.portals.models import Health


def _harvest_job(connection, user, *, status, errors):
    job = Job.objects.create(kind="harvester.start", connection=connection, started_by=user, status=JobStatus.SUCCEEDED
                             if status == ItemStatus.SUCCEEDED else JobStatus.FAILED, title="Start harvester")
    job.connections.add(connection)
    now = timezone.now()
    item = JobItem.objects.create(job=job, connection=connection, target="ha_1", status=status, remote_state="idle",
                                  started_at=now - timedelta(seconds=185), finished_at=now,
                                  details={"resource_errors_count": errors})
    return job, item


def test_a_finished_harvest_says_what_happened_in_words(cast, connection):
    for status, errors, words in [(ItemStatus.FAILED, 2, "The run ended with an error,\n          2 resource errors."),
                                  (ItemStatus.SUCCEEDED, 0, "The run ended without an error,\n          no resource errors.")]:
        job, item = _harvest_job(connection, cast["operator"], status=status, errors=errors)
        html = render_to_string("harvesters/detail.html#job-panel", {"job": job, "item": item, "connection": connection,
                                                                      "uid": "ha_1"})
        assert words in html and "has_error" not in html.replace('data-outcome="has_error"', "")


def test_job_items_say_how_long_they_took_in_human_units(cast, client_as, connection):
    job, _ = _harvest_job(connection, cast["operator"], status=ItemStatus.SUCCEEDED, errors=0)
    html = client_as(cast["operator"]).get(reverse("jobs:detail", kwargs={"job_id": job.pk})).content.decode()
    assert "took 3 min 5 s" in html and "0 minutes" not in html


def test_a_superuser_has_all_connections_not_no_roles(cast, client_as):
    html = client_as(cast["superuser"]).get(reverse("accounts:users")).content.decode()
    row = html[html.index(f'id="member-{cast["superuser"].pk}"'):]
    row = row[:row.index("</tr>")]
    assert "superuser (all connections)" in row and "none" not in row


def test_a_connection_whose_key_was_refused_shows_dashes_and_the_reason_not_zero(cast, client_as, connection):
    connection.health, connection.health_message = Health.AUTH_FAILED, "The portal refused the key (401)."
    connection.save()
    html = client_as(cast["viewer"]).get(reverse("home")).content.decode()
    card = html[html.index('id="card-demo"'):]
    card = card[:card.index("</article>")]
    assert 'data-figure="datasets"><strong>—</strong>' in card
    assert "Datasets unknown (Key refused: The portal refused the key (401).)" in card
