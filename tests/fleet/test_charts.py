"""The overview's charts: datasets by status per connection and jobs per day by outcome, the numbers embedded
with json_script (no inline script) and repeated as tables for screen readers."""

import json
import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from portaladmin.fleet.selectors import dataset_status_chart, jobs_per_day_chart
from portaladmin.jobs.models import Job, JobStatus
from portaladmin.jobs.selectors import job_list


def series(chart: dict) -> dict[str, list[int]]:
    return {s["key"]: s["values"] for s in chart["series"]}


def test_datasets_are_counted_by_status_group_per_connection(connection, other, make_snapshots):
    make_snapshots(connection, 3, status="idle")
    make_snapshots(connection, 2, status="processing", start=10)
    make_snapshots(connection, 1, status="queued", start=20)
    make_snapshots(other, 4, status="error")
    make_snapshots(other, 1, status="unknown", start=10)
    chart = dataset_status_chart(connections=[connection, other])
    assert chart["labels"] == [connection.name, other.name]
    assert series(chart) == {"idle": [3, 0], "busy": [3, 0], "error": [0, 4], "limit_reached": [0, 0],
                             "unknown": [0, 1]}
    assert chart["total"] == 11
    assert chart["rows"][1] == [other.name, 0, 0, 4, 0, 1]


def test_a_connection_without_snapshots_is_an_empty_column(connection):
    chart = dataset_status_chart(connections=[connection])
    assert chart["total"] == 0 and chart["labels"] == [connection.name]
    assert all(values == [0] for values in series(chart).values())


def test_jobs_per_day_cover_thirty_days_and_split_failures(cast, connection, make_job):
    now = timezone.now()
    make_job([connection], status=JobStatus.SUCCEEDED)
    make_job([connection], status=JobStatus.FAILED)
    make_job([connection], status=JobStatus.PARTIALLY_FAILED)
    make_job([connection], status=JobStatus.RUNNING)
    three_days_ago = make_job([connection], status=JobStatus.SUCCEEDED)
    too_old = make_job([connection], status=JobStatus.FAILED)
    Job.objects.filter(pk=three_days_ago.pk).update(created_at=now - timedelta(days=3))
    Job.objects.filter(pk=too_old.pk).update(created_at=now - timedelta(days=30))
    chart = jobs_per_day_chart(jobs=job_list(user=cast["viewer"]), now=now)
    assert len(chart["labels"]) == len(chart["dates"]) == 30
    assert chart["dates"][-1] == timezone.localdate(now).isoformat()
    values = series(chart)
    assert (values["succeeded"][-1], values["failed"][-1], values["other"][-1]) == (1, 2, 1)
    assert values["succeeded"][-4] == 1
    assert chart["total"] == 5 and chart["failed"] == 2  # the 30-day-old job is outside the window


def test_jobs_on_a_connection_the_person_cannot_see_are_not_counted(cast, connection, other, make_job):
    make_job([other], status=JobStatus.FAILED)
    make_job([connection, other], status=JobStatus.FAILED)  # a job is seen only with all its connections
    make_job([connection], status=JobStatus.SUCCEEDED)
    assert jobs_per_day_chart(jobs=job_list(user=cast["viewer"]))["total"] == 1


def embedded(html: str, script_id: str) -> dict:
    match = re.search(rf'<script id="{script_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"{script_id} missing"
    return json.loads(match.group(1))


def test_the_overview_embeds_the_numbers_and_repeats_them_as_tables(cast, connection, make_snapshots, make_job,
                                                                    client_as):
    make_snapshots(connection, 2, status="error")
    make_job([connection], status=JobStatus.FAILED)
    html = client_as(cast["viewer"]).get(reverse("home")).content.decode()
    assert embedded(html, "chart-datasets-data")["total"] == 2
    assert embedded(html, "chart-jobs-data")["failed"] == 1
    assert 'data-chart="chart-datasets-data"' in html and 'data-chart="chart-jobs-data"' in html
    assert "vendor/chart.umd.min.js" in html
    assert "<caption>Datasets by status, per connection</caption>" in html
    assert re.search(rf'<th scope="row">{connection.name}</th><td>0</td><td>0</td><td>2</td>', html)
    assert "1 job, 1 failed" in html
    assert not re.search(r"<script(?![^>]*\b(nonce|type=\"application/json\"))", html)  # no inline script


def test_without_data_the_charts_say_so_and_draw_nothing(cast, connection, client_as):
    html = client_as(cast["viewer"]).get(reverse("home")).content.decode()
    assert "No datasets in the catalogue snapshots yet." in html and "No jobs in the last 30 days." in html
    assert "data-chart=" not in html


def test_the_polled_part_leaves_the_charts_out(cast, connection, client_as):
    response = client_as(cast["viewer"]).get(reverse("home"), headers={"HX-Request": "true"})
    assert 'id="overview"' in response.content.decode()
    assert "chart-" not in response.content.decode()


def test_a_person_without_connections_gets_no_charts(cast, client_as):
    html = client_as(cast["outsider"]).get(reverse("home")).content.decode()
    assert 'id="charts"' not in html and "chart.umd" not in html
