"""Notifications, end to end: an administrator creates a webhook rule for failures on Lyon, bulk publishes 20
datasets (the sandbox fails two of them), and the receiver gets exactly one signed message with the job page's
counts; the rule's delivery log shows it. The receiver is a real HTTP server started here."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.notify.receiver import Receiver

from .conftest import assert_no_csp_errors, sync_catalogue, wait_job_page_finished

LYON = "/c/lyon/datasets/"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _wait_for(condition, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def test_webhook_rule_hears_one_signed_message_with_the_true_counts(admin_page, receiver):
    page = admin_page
    page.goto("/notifications/")
    page.get_by_role("button", name="New rule").click()
    page.fill("input[name=name]", "Lyon failures to ops")
    page.check("#rule-events input[value='job.failed']")
    page.check("#rule-events input[value='job.partially_failed']")
    lyon = page.locator("#rule-connections label", has_text="Lyon")
    lyon_name = lyon.inner_text().strip()  # "Lyon Open Data (sandbox)"
    lyon.locator("input").check()
    page.select_option("select[name=channel]", "webhook")
    page.fill("input[name=webhook_url]", receiver.url)
    page.check("input[name=slack_text]")
    page.get_by_role("button", name="Create rule").click()
    expect(page.locator("h1")).to_have_text("Lyon failures to ops")
    page.locator("summary", has_text="Show").click()
    secret = page.locator("#rule-secret").inner_text().strip()
    assert len(secret) >= 32
    rule_url = page.url

    page.goto(f"{LYON}?q=lyon-000&sort=-dataset_id")
    if page.locator("#dataset-table tbody a").count() == 0:
        sync_catalogue(page, "lyon")
        page.goto(f"{LYON}?q=lyon-000&sort=-dataset_id")
    boxes = page.locator("#dataset-table tbody input[type=checkbox][name=uid]")
    expect(boxes.first).to_be_visible()
    for i in range(20):
        boxes.nth(i).check()
    page.locator("#bulk-form").get_by_role("button", name="Publish", exact=True).click()
    page.locator("#bulk-result a", has_text=re.compile(r"Job #\d+")).click()
    job_id = int(re.search(r"/jobs/(\d+)/", page.url).group(1))
    counts = wait_job_page_finished(page, timeout_ms=120_000)
    assert counts["failed"] >= 2 and counts["status"] == "Partially failed"  # lyon-00023 and lyon-00034

    _wait_for(lambda: receiver.requests)
    time.sleep(3)  # a duplicate would arrive within the next tick
    [body] = receiver.verified(secret)
    assert len(receiver.requests) == 1
    assert body["event"] == "job.partially_failed" and body["connection"] == "lyon"
    assert body["object"]["id"] == job_id and body["link"].endswith(f"/jobs/{job_id}/")
    assert body["counts"] == {"total": 20, "succeeded": counts["succeeded"], "failed": counts["failed"],
                              "cancelled": counts["cancelled"], "in_progress": 0}
    expected = (f"Partially failed · Publish 20 datasets on {lyon_name}: {counts['failed']} failed, "
                f"{counts['succeeded']} succeeded")
    assert body["subject"] == expected and body["text"].startswith(expected)

    page.goto(rule_url)
    log = page.locator("#delivery-log tbody tr")
    expect(log).to_have_count(1)
    expect(log.first).to_contain_text(expected)
    expect(log.first).to_contain_text("Sent")
    expect(log.first.locator("td:nth-child(4)")).to_have_text("200")

    page.get_by_role("button", name="Send a test event").click()
    # The POST redirects back here; reloading before that navigation ends detaches the page.
    expect(page.get_by_text("Test event queued")).to_be_visible()
    _wait_for(lambda: len(receiver.requests) == 2)
    assert receiver.verified(secret)[1]["event"] == "test"
    page.reload()
    expect(page.locator("#delivery-log tbody tr").first).to_contain_text("Sent")
    assert_no_csp_errors(page)


def test_a_dataset_becoming_late_is_one_signed_message(admin_page, app, receiver):
    """A rule for "dataset late" on Lyon; a daily dataset whose data is three days old is told once, signed."""
    page = admin_page
    page.goto("/notifications/")
    page.get_by_role("button", name="New rule").click()
    page.fill("input[name=name]", "Late Lyon data")
    page.check("#rule-events input[value='dataset.late']")
    page.locator("#rule-connections label", has_text="Lyon").locator("input").check()
    page.select_option("select[name=channel]", "webhook")
    page.fill("input[name=webhook_url]", receiver.url)
    page.get_by_role("button", name="Create rule").click()
    expect(page.locator("h1")).to_have_text("Late Lyon data")
    page.locator("summary", has_text="Show").click()
    secret = page.locator("#rule-secret").inner_text().strip()
    rule_url = page.url

    # On the portal: lyon-00007 is published daily, and its data was last modified three days ago.
    app.shell(
        "from datetime import timedelta; from django.utils import timezone; "
        "from portaladmin.portals.models import Connection; from portaladmin.portals.client import client_for; "
        "c = client_for(Connection.objects.get(slug='lyon')); "
        "d = next(d for d in c.dataset_iter() if d.dataset_id == 'lyon-00007'); "
        "c.metadata_update(d.uid, 'dcat', 'accrualperiodicity', "
        "value='http://publications.europa.eu/resource/authority/frequency/DAILY'); "
        "c.metadata_update(d.uid, 'default', 'modified', value=(timezone.now() - timedelta(days=3)).isoformat())")
    sync_catalogue(page, "lyon")  # the sync reads the frequency; freshness makes the dataset late
    page.goto(f"{LYON}?q=lyon-00007&freshness=late")
    expect(page.locator("#dataset-table tbody .badge-late")).to_have_count(1)

    _wait_for(lambda: receiver.requests, seconds=90)  # the notify tick (every 30 s) finds it
    [body] = receiver.verified(secret)
    assert body["event"] == "dataset.late" and body["outcome"] == "late" and body["connection"] == "lyon"
    assert [d["dataset_id"] for d in body["object"]["datasets"]] == ["lyon-00007"]
    assert body["subject"].startswith("lyon-00007 on ") and " is late: data last modified " in body["subject"]
    time.sleep(35)  # the next tick finds it late still: nothing more is sent
    assert len(receiver.requests) == 1
    page.goto(rule_url)
    log = page.locator("#delivery-log tbody tr")
    expect(log).to_have_count(1)
    expect(log.first).to_contain_text("lyon-00007")
    expect(log.first).to_contain_text("Sent")
    assert_no_csp_errors(page)
