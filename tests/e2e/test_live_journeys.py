"""Live screens (portaladmin.core.live): what a page shows follows the objects' latest state without a reload.
Bulk publish from the list: the selection clears and the rows change in place; a harvester run: the heading and
the list follow it (Abort while it runs, never Start; counts and last run when it ends)."""

import re

from playwright.sync_api import expect

from .conftest import assert_no_csp_errors, sync_catalogue, wait_job_page_finished

LYON = "/c/lyon/datasets/"
CHOSEN = ["lyon-00011", "lyon-00012", "lyon-00013"]  # healthy in the sandbox (not 00023/00034, which fail)


def _mark_page(page):
    """A marker that a reload would lose: the journey proves nothing navigated."""
    page.evaluate("window.__livePage = 'kept'")


def _same_page(page) -> bool:
    return page.evaluate("window.__livePage") == "kept"


def _row(page, dataset_id):
    return page.locator("#dataset-table tbody tr", has=page.locator("a", has_text=re.compile(f"^{dataset_id}$")))


def _bulk(page, action: str, expected: str):
    for dataset_id in CHOSEN:
        _row(page, dataset_id).locator("input[name=uid]").check()
    page.locator("#bulk-form").get_by_role("button", name=action, exact=True).click()  # confirm: accepted
    expect(page.locator("#bulk-result .job-status")).to_contain_text("of 3 done")
    # the selection clears as soon as the job is started
    expect(page.locator("#dataset-table input[name=uid]:checked")).to_have_count(0)
    expect(page.locator("input[data-select-all=uid]")).not_to_be_checked()
    for dataset_id in CHOSEN:  # each row follows the job (status, published) in place
        expect(_row(page, dataset_id).locator("td:nth-child(5) .badge")).to_have_text(expected, timeout=60_000)
        expect(_row(page, dataset_id).locator("td:nth-child(4) .badge")).to_have_class(re.compile(r"\bbadge-idle\b"))


def test_bulk_publish_rows_update_in_place_and_the_selection_clears(admin_page):
    page = admin_page
    listing = f"{LYON}?q=lyon-0001"
    page.goto(listing)
    if page.locator("#dataset-table tbody a").count() == 0:
        sync_catalogue(page, "lyon")
        page.goto(listing)
    expect(_row(page, CHOSEN[0])).to_have_count(1)
    _mark_page(page)
    _bulk(page, "Unpublish", "unpublished")
    _bulk(page, "Publish", "published")
    assert _same_page(page) and page.url.endswith(listing)
    # The other rows were not touched, and the page still works: the rows are live again for the next change.
    expect(page.locator("#dataset-table tbody tr[data-live-key]")).to_have_count(10)
    assert_no_csp_errors(page)


def test_harvester_run_list_and_heading_follow_the_job(admin_page):
    page = admin_page
    page.goto("/c/lyon/harvesters/")
    page.locator("#harvester-table").get_by_role("link", name="ODS catalogue 2").click()
    expect(page.locator("h1")).to_have_text("ODS catalogue 2")
    detail = page.url
    head = page.locator("#harvester-head")
    figures = head.locator("section.figures")
    before = " ".join(head.locator("p.small").inner_text().split())
    _mark_page(page)

    # The list, open in a second tab while the run goes on.
    listing = page.context.new_page()
    head.get_by_role("button", name="Start").click()
    # at once: Abort instead of Start, while the run is in progress
    expect(head.get_by_role("button", name="Abort")).to_be_visible()
    expect(head.get_by_role("button", name="Start")).to_have_count(0)
    listing.goto("/c/lyon/harvesters/")
    row = listing.locator("#harvester-table tbody tr", has=listing.locator("a", has_text="ODS catalogue 2"))
    # the sandbox's harvest takes several seconds: the list opens while it runs and shows it
    expect(row).to_contain_text("job running")
    listing.evaluate("window.__livePage = 'kept'")

    expect(page.locator("#job-panel .msg-success")).to_contain_text("Finished", timeout=60_000)
    harvested = page.locator("#job-panel [data-live=harvested]").inner_text()
    # the heading followed: Start is back, the counts and the last run are the run's
    expect(head.get_by_role("button", name="Start")).to_be_visible()
    expect(head.get_by_role("button", name="Abort")).to_have_count(0)
    expect(figures).to_contain_text(f"{harvested} harvested")
    expect(head.locator(".toolbar .badge-idle").first).to_have_text("idle")
    assert " ".join(head.locator("p.small").inner_text().split()) != before  # last started moved
    assert _same_page(page) and page.url == detail

    # and the list row too, without a reload
    expect(row).not_to_contain_text("job running", timeout=30_000)
    expect(row.locator("td:nth-child(6)")).to_have_text(harvested)
    assert listing.evaluate("window.__livePage") == "kept"
    assert_no_csp_errors(page)
    listing.close()


def test_a_publish_bigger_than_the_portal_budget_says_what_waits_then_ends_every_row(admin_page, app):
    """An admin lowers a portal's request budget, publishes 12 datasets there and watches the job: the page says
    how many are still waiting to be sent within that budget, and every row ends in its true state."""
    app.shell(
        "from django.contrib.auth import get_user_model; from portaladmin.portals.models import Connection; "
        "from portaladmin.sandbox.services import seed_portal; "
        "seed_portal('paced', datasets=12, users=1, groups=0, harvesters=0, pages=0, api_key='sbx-paced-key-0123456789',"
        " reset=True, seed=7, processing_seconds=(2.0, 4.0)); "
        "Connection.objects.filter(slug='paced').delete(); "
        f"c = Connection(slug='paced', name='Paced', base_url='{app.url}/sandbox/paced', "
        "created_by=get_user_model().objects.filter(is_superuser=True).first()); "
        "c.set_api_key('sbx-paced-key-0123456789'); c.save()")
    page = admin_page
    page.goto("/connections/paced/edit/")
    page.locator("summary", has_text="Advanced").click()
    page.locator("#id_request_budget").fill("2")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.locator("#messages")).to_contain_text(re.compile("saved|updated", re.I))

    page.goto("/c/paced/datasets/")
    if page.locator("#dataset-table tbody a").count() == 0:
        sync_catalogue(page, "paced")
        page.goto("/c/paced/datasets/")
    page.locator("input[data-select-all=uid]").check()
    page.locator("#bulk-form").get_by_role("button", name="Publish", exact=True).click()  # confirm: accepted
    page.locator("#bulk-result a", has_text=re.compile(r"Job #\d+")).click()
    # one send at once (half of 2), then one per tick: the page says how many wait, and the number goes down
    waiting = page.locator("#job-progress p").first
    expect(waiting).to_contain_text(re.compile(r"\d+ waiting to be sent \(the portal's request budget, shared"))
    first = int(re.search(r"(\d+) waiting to be sent", waiting.inner_text()).group(1))
    expect(waiting).not_to_contain_text(f"{first} waiting to be sent", timeout=30_000)
    counts = wait_job_page_finished(page, timeout_ms=180_000)
    assert counts["done"] == counts["total"] == 12
    assert counts["succeeded"] + counts["failed"] == 12 and counts["cancelled"] == 0
    expect(page.locator("#job-progress")).not_to_contain_text("waiting to be sent")
    assert_no_csp_errors(page)
