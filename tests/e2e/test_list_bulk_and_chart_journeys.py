"""Journeys on the dataset list's bulk actions and the new charts:
- on a phone: filter, tick "All N matching", Delete… → a confirmation naming how many and which portal (no
  sideways scroll, no axe violation) → the job deletes exactly those → the list no longer has them;
- "Publish metadata" of all datasets matching a filter is one job of exactly those;
- "Export these N as CSV" downloads the filtered list;
- the overview's publish-duration and harvester-run charts draw their numbers (and the table holds the same);
  a job page draws its items by state over time."""

import csv
import io
import re

from playwright.sync_api import expect

from .conftest import assert_no_csp_errors, sync_catalogue, table_count, wait_job_page_finished
from .test_phone_and_a11y_journeys import PHONE, page_overflow, run_axe

LYON = "/c/lyon/datasets/"
LYON_NAME = "Lyon Open Data (sandbox)"


def _create_datasets(app, ids: list[str]) -> None:
    app.shell(
        "from django.contrib.auth import get_user_model; from portaladmin.portals.models import Connection; "
        "from portaladmin.datasets.services import dataset_create; "
        "c = Connection.objects.get(slug='lyon'); a = get_user_model().objects.get(username='admin'); "
        f"[dataset_create(connection=c, actor=a, dataset_id=i, title='To delete ' + i, language='en') for i in {ids!r}]")


def test_delete_all_matching_the_filter_on_a_phone(admin_page, app):
    page = admin_page
    ids = ["e2e-doomed-1", "e2e-doomed-2", "e2e-doomed-3"]
    _create_datasets(app, ids)
    page.set_viewport_size(PHONE)
    page.goto(f"{LYON}?q=e2e-doomed")
    if page.locator("#dataset-table tbody a").count() < 3:
        sync_catalogue(page, "lyon")
        page.goto(f"{LYON}?q=e2e-doomed")
    expect(page.locator("#dataset-table tbody a")).to_have_count(3)
    assert page_overflow(page) <= 0
    dialogs = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    page.get_by_label(re.compile(r"All 3 datasets matching the filter")).check()
    page.locator("#bulk-form").get_by_role("button", name="Delete…").click()

    confirm = page.locator("#bulk-result")
    expect(confirm.get_by_role("heading")).to_have_text(f"Delete 3 datasets on {LYON_NAME}?")
    expect(confirm).to_contain_text("cannot be undone")
    for dataset_id in ids:
        expect(confirm.locator("li", has_text=dataset_id)).to_have_count(1)
    assert dialogs == []  # the page asks, not a browser dialog on top of it
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right
        > window.innerWidth + 1).slice(-5).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 40))""")
    assert page_overflow(page) <= 0, wide
    assert not run_axe(page)

    confirm.get_by_role("button", name=f"Delete 3 datasets on {LYON_NAME}").click()
    page.locator("#bulk-result a", has_text=re.compile(r"Job #\d+")).click()
    expect(page.locator("h1")).to_contain_text("Delete 3 datasets")
    counts = wait_job_page_finished(page)
    assert counts["status"] == "Succeeded" and counts["succeeded"] == 3
    page.goto(f"{LYON}?q=e2e-doomed")
    expect(page.locator("#dataset-table tbody")).to_contain_text("No dataset matches.")
    assert page_overflow(page) <= 0
    assert_no_csp_errors(page)


def test_publish_metadata_of_all_matching_is_one_job_of_exactly_those(admin_page):
    page = admin_page
    page.goto(f"{LYON}?q=lyon-0002")
    if page.locator("#dataset-table tbody a").count() == 0:
        sync_catalogue(page, "lyon")
        page.goto(f"{LYON}?q=lyon-0002")
    matching = table_count(page)
    assert 1 < matching < 50
    labels = sorted(t.strip() for t in page.locator("#dataset-table tbody td:nth-child(2)").all_inner_texts())
    questions = []
    page.on("dialog", lambda d: questions.append(d.message))  # the fixture's handler accepts it
    page.get_by_label(re.compile(rf"All {matching} datasets? matching")).check()
    page.locator("#bulk-form").get_by_role("button", name="Publish metadata").click()  # confirm: accepted
    # the question names the action, how many and where
    expect(page.locator("#bulk-result a", has_text=re.compile(r"Job #\d+"))).to_be_visible()
    assert questions == [f"Publish metadata of {matching} datasets on {LYON_NAME} (every dataset matching the filter)?"]
    page.locator("#bulk-result a", has_text=re.compile(r"Job #\d+")).click()
    expect(page.locator("h1")).to_contain_text(f"Publish metadata of {matching} datasets")
    counts = wait_job_page_finished(page, timeout_ms=120_000)
    assert counts["total"] == matching
    items = page.locator("#job-progress tbody tr td:nth-child(2)").all_inner_texts()
    assert sorted(t.split()[0] for t in items) == labels
    # the job page draws its items by state over time; read again when the job ended, it ends with every item
    # in its final state (the chart's last column = the job's counts)
    expect(page.locator("#job-timeline")).not_to_have_attribute("hx-trigger", re.compile("jobFinished"))
    canvas = page.locator("#chart-job-items canvas")
    expect(canvas).to_have_attribute("data-drawn", "true")
    drawn = canvas.evaluate("c => Object.fromEntries(Chart.getChart(c).data.datasets.map(d => [d.label, d.data]))")
    assert all(sum(values[i] for values in drawn.values()) == matching for i in range(len(drawn["Succeeded"])))
    assert (drawn["Succeeded"][-1], drawn["Failed"][-1]) == (counts["succeeded"], counts["failed"])
    assert_no_csp_errors(page)


def test_export_the_filtered_list_as_csv(admin_page):
    page = admin_page
    page.goto(f"{LYON}?q=lyon-0001&sort=-dataset_id")
    if page.locator("#dataset-table tbody a").count() == 0:
        sync_catalogue(page, "lyon")
        page.goto(f"{LYON}?q=lyon-0001&sort=-dataset_id")
    shown = [t.strip() for t in page.locator("#dataset-table tbody td:nth-child(2)").all_inner_texts()]
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"Export these \d+ as CSV")).click()
    assert re.match(r"datasets-lyon-\d{8}-\d{4}\.csv$", download.value.suggested_filename)
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert rows[0][:3] == ["dataset_id", "uid", "title"]
    assert [r[0] for r in rows[1:]] == shown  # same filter, same order


def test_overview_draws_publish_durations_and_harvester_runs(admin_page, app):
    page = admin_page
    # Timings the jobs recorded: 10 publishes of 2..20 s on Lyon, and one harvester run with errors.
    app.shell(
        "from datetime import timedelta; from django.utils import timezone; from django.contrib.auth import "
        "get_user_model; from portaladmin.jobs.models import Job, JobItem, JobStatus; "
        "from portaladmin.portals.models import Connection; c = Connection.objects.get(slug='lyon'); "
        "now = timezone.now(); a = get_user_model().objects.get(username='admin'); "
        "j = Job.objects.create(kind='dataset.publish', title='duration probe', status=JobStatus.SUCCEEDED, total=10, "
        "started_by=a, connection=c, finished_at=now, notified_at=now); j.connections.set([c]); "
        "[JobItem.objects.create(job=j, connection=c, target=f'da_probe_{i}', status='succeeded', "
        "sent_at=now - timedelta(seconds=2 * (i + 1)), started_at=now - timedelta(seconds=2 * (i + 1)), "
        "finished_at=now) for i in range(10)]; "
        "h = Job.objects.create(kind='harvester.start', title='harvest probe', status=JobStatus.FAILED, total=1, "
        "started_by=a, connection=c, finished_at=now, notified_at=now); h.connections.set([c]); "
        "JobItem.objects.create(job=h, connection=c, target='ha_probe', status='failed', finished_at=now, "
        "details={'has_error': True})")
    page.goto("/")
    canvas = page.locator("#chart-durations canvas")
    expect(canvas).to_have_attribute("data-drawn", "true")
    drawn = canvas.evaluate("c => { const ch = Chart.getChart(c); return {series: ch.data.datasets.map(d => d.label), "
                            "stacked: ch.options.scales.x.stacked, labels: ch.data.labels, "
                            "data: ch.data.datasets.map(d => d.data)}; }")
    assert drawn["series"] == ["Median", "95th percentile"] and drawn["stacked"] is False
    lyon = drawn["labels"].index(LYON_NAME)
    row = page.locator("#chart-durations table tbody tr", has=page.locator("th", has_text=LYON_NAME))
    cells = row.locator("td").all_inner_texts()
    assert [float(cells[0]), float(cells[1])] == [drawn["data"][0][lyon], drawn["data"][1][lyon]]
    assert int(cells[2]) >= 10 and drawn["data"][1][lyon] >= drawn["data"][0][lyon] > 0
    harvests = page.locator("#chart-harvests canvas")
    expect(harvests).to_have_attribute("data-drawn", "true")
    with_errors = harvests.evaluate("c => Chart.getChart(c).data.datasets.find(d => d.label === 'Ran with errors')"
                                    ".data.at(-1)")
    assert with_errors >= 1
    expect(page.locator("#chart-harvests figcaption")).to_contain_text(re.compile(r"\d+ runs?, \d+ with errors"))
    assert_no_csp_errors(page)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    assert page_overflow(page) <= 0


def test_the_job_chart_follows_a_running_job(admin_page, app):
    """A person watches a publish job whose datasets take 4, 8, 12 and 16 s on the portal: the chart moves as
    items end (carried by the progress poll, with no request of its own), and ends with every item succeeded."""
    key = "e2e-slowpub-key-" + "5" * 12
    app.manage("sandbox_seed", "slowpub", "--datasets", "4", "--users", "2", "--harvesters", "0", "--pages", "0",
               "--api-key", key, "--reset")
    job_id = app.shell(
        "from django.contrib.auth import get_user_model; from portaladmin.portals.models import Connection; "
        "from portaladmin.sandbox.models import SandboxDataset; "
        "from portaladmin.sandbox.services import set_dataset_behaviour; "
        "from portaladmin.jobs.services import dataset_action_start; "
        "c = Connection.objects.filter(slug='slowpub').first() or Connection(slug='slowpub', name='Slow portal'); "
        f"c.base_url = '{app.url}/sandbox/slowpub'; c.set_api_key('{key}'); c.save(); "
        "rows = list(SandboxDataset.objects.filter(portal__name='slowpub').order_by('dataset_id')); "
        "[set_dataset_behaviour('slowpub', d.uid, fate='ok', processing_seconds=4 + 4 * i) for i, d in enumerate(rows)]; "
        "job = dataset_action_start(actor=get_user_model().objects.get(username='admin'), action='publish', "
        "targets={c: [{'target': d.uid, 'label': d.dataset_id} for d in rows]}); print(job.pk)").split()[-1]
    page = admin_page
    own_requests = []
    page.on("request", lambda r: own_requests.append(r.url) if "part=timeline" in r.url else None)
    page.goto(f"/jobs/{job_id}/")
    expect(page.locator("#job-timeline-end")).to_contain_text("it follows the job")
    canvas = page.locator("#chart-job-items canvas")
    expect(canvas).to_have_attribute("data-drawn", "true")
    # what the chart shows at each update: the number succeeded at its last moment
    canvas.evaluate("""c => { window.seenSucceeded = [];
        new MutationObserver(() => { const chart = Chart.getChart(c);
            const ok = chart.data.datasets.find(d => d.label === 'Succeeded').data;
            window.seenSucceeded.push(ok[ok.length - 1]); }).observe(c, {attributes: true,
            attributeFilter: ['data-chart-shown']}); }""")
    counts = wait_job_page_finished(page)
    assert counts["succeeded"] == counts["total"] == 4, counts
    expect(page.locator("#job-timeline-end")).to_have_text("its end")
    seen = page.evaluate("window.seenSucceeded")
    assert any(0 < n < 4 for n in seen), seen  # it moved while the job ran …
    assert seen[-1] == 4  # … and ends with the job's own count
    assert own_requests == []
    assert_no_csp_errors(page)
