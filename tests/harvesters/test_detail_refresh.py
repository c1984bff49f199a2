"""The harvester page's heading (status, Start/Abort, counts, last run) and the list rows follow the running job
(portaladmin.core.live): they used to keep showing "new · never run" and zeros next to a finished harvest, and a
Start button while a run was in progress."""

import json
import re

from django.urls import reverse

from portaladmin.jobs.models import Job, JobStatus

from .conftest import API, harvester_json
from .test_views import SLUG, portal, url  # noqa: F401  (fixture)

KEY = f"harvester:{SLUG}:ha_one"


def _changed(response) -> dict | None:
    return json.loads(response.get("HX-Trigger") or "{}").get("changed")


def _head(html: str) -> tuple[str, str]:
    head = re.search(r'<div id="harvester-head"([^>]*)>(.*?)<article id="job-panel"', html, re.S)
    assert head, "the heading is one swappable block before the job panel"
    return head.groups()


def test_heading_is_a_live_block_with_its_own_small_source(portal, client_as, cast):  # noqa: F811
    detail = reverse("harvesters:detail", kwargs={"conn": SLUG, "uid": "ha_one"})
    client = client_as(cast["operator"])
    attrs, inside = _head(client.get(detail).content.decode())
    assert f'data-live-key="{KEY}"' in attrs and f'data-live-src="{detail}?part=head"' in attrs
    assert "Start</button>" in inside and 'aria-label="Counts"' in inside and "Last started" in inside
    calls = len(portal.calls)
    part = client.get(detail, {"part": "head"}, headers={"HX-Request": "true"})
    body = part.content.decode()
    assert part.status_code == 200 and body.lstrip().startswith('<div id="harvester-head"')
    assert 'id="job-panel"' not in body and "Configuration" not in body
    assert len(portal.calls) == calls + 1  # the harvester only: no errors, no schedule read


def test_no_start_while_a_run_is_in_progress_and_the_heading_follows(portal, client_as, cast, no_enqueue):  # noqa: F811
    client = client_as(cast["operator"])
    started = client.post(url("start", uid="ha_one"), headers={"HX-Request": "true"})
    assert _changed(started)["keys"] == [KEY]  # the heading re-reads itself at once: Abort, not Start
    job = Job.objects.get()
    head = client.get(url("detail", uid="ha_one"), {"part": "head"}, headers={"HX-Request": "true"}).content.decode()
    assert "Abort</button>" in head and "Start</button>" not in head  # the portal still says idle: the job decides

    panel = client.get(url("detail", uid="ha_one")).content.decode()
    seen = re.search(r'job/\?was=active&amp;seen=(\w+)"', panel).group(1)
    same = client.get(url("job_status", uid="ha_one"), {"was": "active", "seen": seen}, headers={"HX-Request": "true"})
    assert same.status_code == 200 and _changed(same) is None  # nothing moved: nothing re-read

    item = job.items.get()
    item.remote_state, item.status = "processing", "waiting"
    item.details = {"harvested_datasets_count": 3, "published_datasets_count": 0, "resource_errors_count": 0}
    item.save()
    moved = client.get(url("job_status", uid="ha_one"), {"was": "active", "seen": seen}, headers={"HX-Request": "true"})
    assert _changed(moved)["keys"] == [KEY]
    new_seen = re.search(r'seen=(\w+)"', moved.content.decode()).group(1)
    assert new_seen != seen

    item.status, item.remote_state = "succeeded", "idle"
    item.save()
    job.status = JobStatus.SUCCEEDED
    job.save()
    portal.replace("GET", f"{API}/harvesters/ha_one/", json=harvester_json(harvested_datasets_count=9))
    done = client.get(url("job_status", uid="ha_one"), {"was": "active", "seen": new_seen},
                      headers={"HX-Request": "true"})
    assert done.status_code == 286 and _changed(done)["keys"] == [KEY] and "jobFinished" in done["HX-Trigger"]
    head = client.get(url("detail", uid="ha_one"), {"part": "head"}, headers={"HX-Request": "true"}).content.decode()
    assert "Start</button>" in head and "Abort</button>" not in head and "<strong>9</strong> harvested" in head


def test_list_rows_are_live_and_a_running_job_is_followed(portal, client_as, cast, no_enqueue):  # noqa: F811
    client = client_as(cast["operator"])
    html = client.get(url("list")).content.decode()
    assert f'<tr id="harvester-row-ha_one" data-live-key="{KEY}" data-live-src="{url("list")}">' in html
    assert "job-status-" not in html
    client.post(url("start", uid="ha_one"))
    job = Job.objects.get()
    html = client.get(url("list")).content.decode()
    # the job's poller is on the list: each time it moves it names this harvester, whose row re-reads itself
    assert f'id="job-status-{job.pk}"' in html and "job running" in html
    poll = client.get(reverse("jobs:status", kwargs={"job_id": job.pk}), {"seen": "5"},
                      headers={"HX-Request": "true"})
    assert _changed(poll)["keys"] == [KEY]
