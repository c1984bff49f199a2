"""The overview's publish-duration and harvester-run charts, and a job page's items-by-state chart: numbers from
the jobs' own timings, embedded with json_script, repeated as tables, and "no data" said in words."""

import html
import json
import re
from datetime import timedelta

from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portaladmin.fleet.selectors import harvester_runs_chart, job_timeline_chart, publish_duration_chart
from portaladmin.fleet.selectors.charts import percentile
from portaladmin.jobs.models import Job, JobItem, JobStatus
from portaladmin.jobs.selectors import job_list

from .test_charts import embedded, series


def timed(job, seconds: list[float], *, finished_ago=timedelta(hours=1)):
    """Give the job's items (in order) a send time and an end `seconds` later."""
    end = timezone.now() - finished_ago
    for item, took in zip(job.items.order_by("id"), seconds, strict=True):
        JobItem.objects.filter(pk=item.pk).update(sent_at=end - timedelta(seconds=took),
                                                  started_at=end - timedelta(seconds=took), finished_at=end)


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 0.5) == 10 and percentile(values, 0.95) == 19 and percentile([7.0], 0.95) == 7
    assert percentile([], 0.5) == 0


def test_publish_duration_median_and_p95_per_connection(cast, connection, other, make_job):
    job = make_job([connection], status=JobStatus.SUCCEEDED, total=20)
    timed(job, [float(s) for s in range(1, 21)])
    failed = make_job([connection], status=JobStatus.FAILED, total=2, failed=2)  # failures are not durations
    timed(failed, [500.0, 500.0])
    old = make_job([connection], status=JobStatus.SUCCEEDED, total=1)
    timed(old, [900.0], finished_ago=timedelta(days=31))  # outside the 30 days
    unpublish = make_job([connection], kind="dataset.unpublish", status=JobStatus.SUCCEEDED, total=1)
    timed(unpublish, [700.0])
    chart = publish_duration_chart(jobs=Job.objects.all(), connections=[connection, other])
    assert chart["labels"] == [connection.name, other.name]
    assert series(chart) == {"median": [10.0, 0], "p95": [19.0, 0]}
    assert chart["samples"] == [20, 0] and chart["total"] == 20
    assert chart["rows"][0] == [connection.name, 10.0, 19.0, 20]


def test_publish_durations_of_jobs_the_person_cannot_see_are_left_out(cast, connection, other, make_job):
    hidden = make_job([connection, other], status=JobStatus.SUCCEEDED, total=2)
    timed(hidden, [30.0, 30.0])
    chart = publish_duration_chart(jobs=job_list(user=cast["viewer"]), connections=[connection])
    assert chart["total"] == 0


def test_harvester_runs_by_day_and_outcome(cast, connection, make_job):
    ok = make_job([connection], kind="harvester.start", status=JobStatus.SUCCEEDED, total=2)
    bad = make_job([connection], kind="harvester.start", status=JobStatus.FAILED, total=2, failed=2)
    items = list(bad.items.order_by("id"))
    JobItem.objects.filter(pk=items[0].pk).update(details={"has_error": True})
    now = timezone.now()
    JobItem.objects.filter(job__in=[ok, bad]).update(finished_at=now)
    JobItem.objects.filter(pk=items[1].pk).update(finished_at=now - timedelta(days=2))
    chart = harvester_runs_chart(jobs=job_list(user=cast["viewer"]), now=now)
    values = series(chart)
    assert (values["succeeded"][-1], values["with_errors"][-1], values["failed"][-1]) == (2, 1, 0)
    assert values["failed"][-3] == 1
    assert chart["total"] == 4 and chart["failed"] == 2 and len(chart["labels"]) == 30


def test_job_items_by_state_over_time(connection, make_job):
    job = make_job([connection], status=JobStatus.PARTIALLY_FAILED, total=4, failed=1)
    begin = timezone.now() - timedelta(minutes=10)
    Job.objects.filter(pk=job.pk).update(created_at=begin, finished_at=begin + timedelta(minutes=10))
    items = list(job.items.order_by("id"))  # the first failed, the others succeeded
    times = [(1, 3), (1, 5), (2, 9), (6, 10)]  # minutes after the start: sent, finished
    for item, (sent, done) in zip(items, times, strict=True):
        JobItem.objects.filter(pk=item.pk).update(started_at=begin + timedelta(minutes=sent),
                                                  finished_at=begin + timedelta(minutes=done))
    job.refresh_from_db()
    chart = job_timeline_chart(job=job, points=10)
    values = series(chart)
    # at +1 min: two sent; at +4 min: one failed, two in progress, one not sent; at the end: all final
    assert [values[k][0] for k in ("succeeded", "failed", "running", "pending")] == [0, 0, 2, 2]
    assert [values[k][3] for k in ("succeeded", "failed", "running", "pending")] == [0, 1, 2, 1]
    assert [values[k][-1] for k in ("succeeded", "failed", "running", "pending")] == [3, 1, 0, 0]
    assert chart["labels"][0] == "+1.0 min" and chart["labels"][-1] == "+10.0 min" and chart["total"] == 4
    assert all(sum(s["values"][i] for s in chart["series"]) == 4 for i in range(10))


def test_the_overview_draws_the_new_charts_or_says_there_is_nothing(cast, connection, make_job, client_as):
    client = client_as(cast["viewer"])
    html = client.get(reverse("home")).content.decode()
    assert "No publish measured in the last 30 days." in html and "No harvester run in the last 30 days." in html
    job = make_job([connection], status=JobStatus.SUCCEEDED, total=3)
    timed(job, [4.0, 8.0, 60.0])
    make_job([connection], kind="harvester.start", status=JobStatus.SUCCEEDED, total=1)
    JobItem.objects.filter(job__kind="harvester.start").update(finished_at=timezone.now())
    html = client.get(reverse("home")).content.decode()
    assert embedded(html, "chart-durations-data")["rows"][0] == [connection.name, 8.0, 60.0, 3]
    assert embedded(html, "chart-harvests-data")["total"] == 1
    assert 'data-chart="chart-durations-data" data-stacked="none"' in html
    assert "<th scope=\"col\">Publishes measured</th>" in html


def test_the_job_page_embeds_its_timeline_outside_the_polled_part(cast, connection, make_job, client_as):
    job = make_job([connection], status=JobStatus.RUNNING, total=3)
    client = client_as(cast["viewer"])
    html = client.get(job.get_absolute_url()).content.decode()
    assert embedded(html, "chart-job-items-data")["total"] == 3
    assert 'data-chart="chart-job-items-data"' in html and "vendor/chart.umd.min.js" in html
    assert 'data-chart-live="job-timeline-data"' in html and "<caption>Items by state over time" in html
    assert html.count('id="job-timeline-data"') == 1 and "hx-swap-oob" not in html.split('id="job-timeline"')[1]


def _oob(polled: str, element_id: str) -> str:
    start = polled.index(f'id="{element_id}"')
    return polled[polled.rindex("<", 0, start):polled.index(">", start) + 1]


def test_a_running_jobs_chart_rides_on_the_progress_poll_out_of_band(cast, connection, make_job, client_as):
    job = make_job([connection], status=JobStatus.RUNNING, total=2)
    client = client_as(cast["viewer"])
    first = client.get(job.get_absolute_url(), headers={"HX-Request": "true"}).content.decode()
    assert first.lstrip().startswith('<section id="job-progress"') and "<html" not in first
    data = _oob(first, "job-timeline-data")
    assert 'hx-swap-oob="true"' in data and 'data-chart-json="{&quot;labels&quot;: [' in data
    assert 'hx-swap-oob="true"' in _oob(first, "job-timeline-table") and "it follows the job" in first
    numbers = json.loads(html.unescape(re.search(r'data-chart-json="([^"]*)"', first).group(1)))
    assert numbers["total"] == 2 and [s["values"][-1] for s in numbers["series"]][-1] == 2  # both not sent yet

    # an item is sent and succeeds: the next poll's numbers show it, with no write to the database
    item = job.items.order_by("id").first()
    JobItem.objects.filter(pk=item.pk).update(status="succeeded", started_at=timezone.now(),
                                              finished_at=timezone.now())
    with CaptureQueriesContext(db) as queries:
        polled = client.get(job.get_absolute_url(), headers={"HX-Request": "true"}).content.decode()
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(
        ("INSERT", "UPDATE", "DELETE")) and "django_session" not in q["sql"]]
    assert writes == []
    numbers = json.loads(html.unescape(re.search(r'data-chart-json="([^"]*)"', polled).group(1)))
    assert {s["key"]: s["values"][-1] for s in numbers["series"]}["succeeded"] == 1

    # the job ends: the last poll (286, polling stops) carries the final numbers and says "its end"
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, finished_at=timezone.now())
    last = client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
    final = last.content.decode()
    assert last.status_code == 286 and 'id="job-timeline-data" hx-swap-oob="true"' in final
    assert final.split('id="job-timeline-end" hx-swap-oob="true">', 1)[1].startswith("its end")




def test_the_moments_of_a_short_job_are_told_apart(connection, make_job):
    """A 21-s job has a moment every 0.875 s: labels in whole seconds would repeat ("+3 s", "+3 s")."""
    job = make_job([connection], status=JobStatus.SUCCEEDED, total=1)
    begin = timezone.now() - timedelta(seconds=21)
    Job.objects.filter(pk=job.pk).update(created_at=begin, finished_at=begin + timedelta(seconds=21))
    job.refresh_from_db()
    labels = job_timeline_chart(job=job)["labels"]
    assert len(set(labels)) == len(labels) and labels[0] == "+0.9 s" and labels[-1] == "+21.0 s"
