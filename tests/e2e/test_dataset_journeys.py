"""Journeys on the catalogue of `lyon`: browse and filter, edit a metadata field, publish one dataset and watch
it, bulk publish 20 from the list, and what a viewer may (not) do."""

import json
import re

from playwright.sync_api import expect

from .conftest import (
    assert_no_csp_errors,
    login,
    make_member,
    sync_catalogue,
    table_count,
    wait_job_page_finished,
)

LYON = "/c/lyon/datasets/"


def _rows(page):
    return page.locator("#dataset-table tbody tr")


def _column(page, index: int) -> list[str]:
    return [t.strip() for t in _rows(page).locator(f"td:nth-child({index})").all_inner_texts()]


def test_browse_search_filter_and_sort_datasets(admin_page):
    page = admin_page
    total = sync_catalogue(page, "lyon")
    assert total >= 40  # 40 seeded datasets (+ the ones the seeded harvesters attached)
    expect(_rows(page)).to_have_count(min(total, 50))

    # Search as one types: the table swaps and the address bar shows the canonical query.
    page.locator("#ds-q").press_sequentially("metropolitan")
    expect(page).to_have_url(re.compile(r"/c/lyon/datasets/\?q=metropolitan$"))
    matching = table_count(page)
    assert 0 < matching < total
    for title in _column(page, 3):
        assert "metropolitan" in title.lower()

    # A filter: published only.
    page.locator("select[name=published]").select_option("yes")
    expect(page).to_have_url(re.compile(r"\?q=metropolitan&published=yes$"))
    published = table_count(page)
    assert 0 < published < matching
    expect(_rows(page)).to_have_count(published)
    assert set(_column(page, 5)) == {"published"}

    # Sort by title (ascending, then descending): the filters stay, the rows are in order.
    page.locator("#dataset-table th a", has_text="Title").click()
    expect(page).to_have_url(re.compile(r"\?q=metropolitan&published=yes&sort=title$"))
    expect(page.locator("#dataset-table th a", has_text="Title")).to_have_text(re.compile("↑"))
    titles = [t.splitlines()[0] for t in _column(page, 3)]
    assert titles == sorted(titles) and len(titles) == published
    page.locator("#dataset-table th a", has_text="Title").click()
    expect(page).to_have_url(re.compile(r"&sort=-title$"))
    expect(page.locator("#dataset-table th a", has_text="Title")).to_have_text(re.compile("↓"))
    titles = [t.splitlines()[0] for t in _column(page, 3)]
    assert titles == sorted(titles, reverse=True) and len(titles) == published
    assert set(_column(page, 5)) == {"published"}

    # The pushed URL is shareable: loading it afresh shows the same rows.
    page.reload()
    expect(page.locator("#ds-q")).to_have_value("metropolitan")
    expect(page.locator("select[name=published]")).to_have_value("yes")
    assert [t.splitlines()[0] for t in _column(page, 3)] == titles
    assert_no_csp_errors(page)


def _open_dataset(page, dataset_id: str) -> str:
    page.goto(f"{LYON}?q={dataset_id}")
    link = page.locator("#dataset-table a", has_text=re.compile(f"^{dataset_id}$"))
    if link.count() == 0:
        sync_catalogue(page, "lyon")
        page.goto(f"{LYON}?q={dataset_id}")
    link.click()
    expect(page.locator("hgroup")).to_contain_text(dataset_id)
    return re.search(r"/datasets/(da_\w+)/", page.url).group(1)


def test_a_list_item_with_a_comma_is_saved_as_one_item_and_the_portal_keeps_it(admin_page, app):
    page = admin_page
    uid = _open_dataset(page, "lyon-00003")  # a published dataset
    page.locator("nav.tabs a", has_text="Metadata").click()
    expect(page).to_have_url(re.compile(f"/datasets/{uid}/metadata/$"))
    default = page.locator("#template-default")
    items = default.get_by_label("default.keyword item")
    expect(items.first).to_be_visible()  # the tab is swapped in by htmx: count only once it is there
    before = [items.nth(i).input_value() for i in range(items.count())]
    assert before  # seeded keywords

    # Add an item containing commas, move it up one place, save: only that field is sent.
    default.locator("#mf-default-keyword").get_by_role("button", name="Add an item").click()
    expect(items).to_have_count(len(before) + 1)
    items.last.fill("Lyon, Rhône-Alpes, France")
    default.locator("#mf-default-keyword [data-list-item]").last.get_by_role("button", name="Move up").click()
    default.get_by_role("button", name=re.compile("^Save")).click()
    expect(page.locator("#messages")).to_contain_text("Standard metadata: saved Keywords.")
    expected = [*before[:-1], "Lyon, Rhône-Alpes, France", before[-1]]

    # The portal holds one item with its commas (read from the sandbox portal's own store) …
    stored = app.shell("import json; from portaladmin.sandbox.models import SandboxDataset; "
                       f"print(json.dumps(SandboxDataset.objects.get(uid={uid!r}).data['metadata']['default']"
                       "['keyword']['value']))")
    assert json.loads(stored.strip().splitlines()[-1]) == expected
    # … the page read back from the portal shows the same items, and offers to publish the metadata.
    page.reload()
    items = page.locator("#template-default").get_by_label("default.keyword item")
    assert [items.nth(i).input_value() for i in range(items.count())] == expected
    page.get_by_role("button", name=re.compile("^Save")).first.click()  # a second save: nothing changed
    expect(page.locator("#messages")).to_contain_text("Nothing changed")
    assert_no_csp_errors(page)


def test_publish_metadata_is_offered_after_a_change_on_a_published_dataset(admin_page):
    page = admin_page
    uid = _open_dataset(page, "lyon-00004")  # published (n % 4 != 1)
    page.goto(f"{LYON}{uid}/metadata/")
    page.get_by_label("default.publisher", exact=True).fill("Offer test office")
    page.locator("#template-default").get_by_role("button", name=re.compile("^Save")).click()
    offer = page.locator("#publish-offer")
    expect(offer).to_be_visible()
    offer.get_by_role("button", name="Publish metadata").click()
    expect(offer.locator("a", has_text=re.compile(r"Job #\d+"))).to_be_visible()


def test_edit_a_metadata_field_then_publish_and_watch_it(admin_page):
    page = admin_page
    uid = _open_dataset(page, "lyon-00002")

    # Metadata tab: change the publisher, save, reload: the portal kept it.
    page.locator("nav.tabs a", has_text="Metadata").click()
    expect(page).to_have_url(re.compile(f"/datasets/{uid}/metadata/$"))
    publisher = page.get_by_label("default.publisher", exact=True)
    publisher.fill("E2E Data Office")
    page.locator("#template-default").get_by_role("button", name=re.compile("^Save")).click()
    expect(page.locator("#messages")).to_contain_text("Standard metadata: saved Publisher.")
    page.reload()
    expect(page.get_by_label("default.publisher", exact=True)).to_have_value("E2E Data Office")

    # Overview tab: publish; the job's progress shows inline while the worker and the poller do the work.
    page.locator("nav.tabs a", has_text="Overview").click()
    expect(page.locator("#overview")).to_contain_text("E2E Data Office")
    page.locator("#overview").get_by_role("button", name="Publish", exact=True).click()
    job_link = page.locator("#action-result a", has_text=re.compile(r"Job #\d+"))
    expect(job_link).to_be_visible()
    expect(page.locator("#action-result progress")).to_have_attribute("max", "1")
    job_url = job_link.get_attribute("href")
    # When the job ends: a toast with the outcome, and the overview reloads with the dataset published.
    expect(page.locator("#toasts")).to_contain_text(re.compile(r"succeeded \(1 succeeded of 1\)"), timeout=60_000)
    status = page.locator("#overview h3:has-text('Processing status') + p")
    expect(status.locator(".badge-idle")).to_have_text("idle")
    expect(status.locator(".badge-published")).to_have_text("published")

    # The job page: the bar at its end, the item succeeded, the portal state idle.
    page.goto(job_url)
    counts = wait_job_page_finished(page)
    assert counts == {**counts, "done": 1, "total": 1, "succeeded": 1, "failed": 0, "status": "Succeeded"}
    assert counts["value"] == counts["max"] == "1"
    item = page.locator("#job-progress tbody tr")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("lyon-00002")
    expect(item.locator("td:nth-child(3) .badge")).to_have_text("Succeeded")
    expect(item.locator("td:nth-child(4) .badge")).to_have_text("idle")

    # And the dataset page, reloaded afresh, says published too.
    page.goto(f"{LYON}{uid}/")
    expect(page.locator("hgroup .badge-published")).to_have_text("published")
    assert_no_csp_errors(page)


def test_bulk_publish_twenty_datasets_from_the_list(admin_page):
    page = admin_page
    page.goto(f"{LYON}?q=lyon-000&sort=-dataset_id")
    if page.locator("#dataset-table tbody a").count() == 0:
        sync_catalogue(page, "lyon")
        page.goto(f"{LYON}?q=lyon-000&sort=-dataset_id")
    boxes = page.locator("#dataset-table tbody input[type=checkbox][name=uid]")
    expect(boxes.first).to_be_visible()
    assert boxes.count() >= 20
    chosen = _column(page, 2)[:20]
    assert chosen[0] == "lyon-00040" and chosen[-1] == "lyon-00021"
    for i in range(20):
        boxes.nth(i).check()
    page.locator("#bulk-form").get_by_role("button", name="Publish", exact=True).click()  # confirm: accepted

    result = page.locator("#bulk-result .job-status")
    expect(result).to_contain_text("of 20 done")
    page.locator("#bulk-result a", has_text=re.compile(r"Job #\d+")).click()
    expect(page.locator("h1")).to_contain_text(re.compile(r"Job #\d+"))

    counts = wait_job_page_finished(page, timeout_ms=120_000)
    assert counts["done"] == counts["total"] == 20
    assert counts["succeeded"] + counts["failed"] + counts["cancelled"] == 20
    assert counts["value"] == counts["max"] == "20"
    assert counts["status"] in ("Succeeded", "Partially failed", "Failed")
    assert (counts["status"] == "Succeeded") == (counts["failed"] == 0)

    items = page.locator("#job-progress tbody tr")
    expect(items).to_have_count(20)
    labels = [t.split()[0] for t in items.locator("td:nth-child(2)").all_inner_texts()]
    assert sorted(labels) == sorted(chosen)
    statuses = [t.strip() for t in items.locator("td:nth-child(3)").all_inner_texts()]
    assert statuses.count("Succeeded") == counts["succeeded"]
    assert statuses.count("Failed") == counts["failed"]
    # The sandbox fails lyon-00034 (error) and lyon-00023 (limit_reached) on every publish.
    failed = {label for label, status in zip(labels, statuses, strict=True) if status == "Failed"}
    assert {"lyon-00023", "lyon-00034"} <= failed
    assert_no_csp_errors(page)


def test_viewer_sees_no_dataset_actions_and_is_refused_when_posting(page, app):
    make_member(app, "dsviewer", "viewer-Pass-456", "lyon", "viewer")
    login(page, "dsviewer", "viewer-Pass-456")
    page.goto(LYON)
    if page.locator("#dataset-table tbody a").count() == 0:
        sync_catalogue(page, "lyon")  # any member may refresh the catalogue (a read)
    expect(page.locator("#dataset-table tbody a").first).to_be_visible()
    expect(page.locator("#bulk-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)
    expect(page.get_by_role("button", name="Unpublish")).to_have_count(0)
    expect(page.locator("input[type=checkbox][name=uid]")).to_have_count(0)
    expect(page.locator("a", has_text="New dataset")).to_have_count(0)

    page.locator("#dataset-table tbody a", has_text="lyon-00003").click()
    expect(page.locator("hgroup")).to_contain_text("lyon-00003")
    uid = re.search(r"/datasets/(da_\w+)/", page.url).group(1)
    expect(page.locator("#overview")).to_contain_text("Processing status")
    for name in ("Publish", "Unpublish", "Publish metadata", "Abort", "Copy", "Delete"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(page.locator("#overview form")).to_have_count(0)
    page.locator("nav.tabs a", has_text="Metadata").click()
    expect(page.locator("#metadata")).to_be_visible()
    expect(page.locator("#metadata form")).to_have_count(0)
    expect(page.get_by_role("button", name="Save")).to_have_count(0)

    # Posting anyway, with a valid CSRF token taken from the page: refused.
    status = page.evaluate("""async (url) => {
        const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'];
        const r = await fetch(url, {method: 'POST', headers: {'X-CSRFToken': token}});
        return r.status; }""", f"{LYON}{uid}/action/publish/")
    assert status == 403
    status = page.evaluate("""async (args) => {
        const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'];
        const r = await fetch(args[0], {method: 'POST', headers: {'X-CSRFToken': token},
                              body: new URLSearchParams({action: 'publish', uid: args[1]})});
        return r.status; }""", [f"{LYON}bulk/", uid])
    assert status == 403
    assert_no_csp_errors(page)


def _lyon_timings(app, minimum: float, maximum: float) -> None:
    """The sandbox portal's processing time (set_faults keeps the other fault settings as they are)."""
    app.shell("from portaladmin.sandbox.services import set_faults; "
              f"set_faults('lyon', processing_seconds_min={minimum}, processing_seconds_max={maximum})")


def test_cancel_a_publish_the_portal_never_finishes_ends_every_row_at_once(admin_page, app):
    page = admin_page
    _lyon_timings(app, 3600, 3600)  # the portal will be processing for an hour
    try:
        page.goto(f"{LYON}?q=lyon-0001&sort=dataset_id")
        if page.locator("#dataset-table tbody a").count() == 0:
            sync_catalogue(page, "lyon")
            page.goto(f"{LYON}?q=lyon-0001&sort=dataset_id")
        boxes = page.locator("#dataset-table tbody input[type=checkbox][name=uid]")
        expect(boxes.first).to_be_visible()
        for i in range(3):
            boxes.nth(i).check()
        page.locator("#bulk-form").get_by_role("button", name="Publish", exact=True).click()
        page.locator("#bulk-result a", has_text=re.compile(r"Job #\d+")).click()
        expect(page.locator("h1")).to_contain_text(re.compile(r"Job #\d+"))
        items = page.locator("#job-progress tbody tr")
        expect(items).to_have_count(3)
        # wait until the portal is processing every row (an abort is accepted only then), then cancel
        expect(page.locator("#job-progress tbody tr", has_text="processing")).to_have_count(3, timeout=60_000)
        page.get_by_role("button", name="Cancel").click()
        # the page says the cancel is under way (and, while items are being stopped, how many are left)
        expect(page.locator("#cancel-progress")).to_contain_text("Cancel requested")
        counts = wait_job_page_finished(page, timeout_ms=20_000)  # a few poll ticks, not the 12-hour deadline
        assert counts["status"] == "Cancelled" and counts["cancelled"] == 3 and counts["succeeded"] == 0
        messages = items.all_inner_texts()
        assert all("abort was sent" in text and "may still finish" in text for text in messages), messages
        assert_no_csp_errors(page)
    finally:
        _lyon_timings(app, 1, 3)


def _job_count(app) -> int:
    out = app.shell("from portaladmin.jobs.models import Job; print('JOBS', Job.objects.count())")
    return int(out.split("JOBS")[-1].split()[0])


def test_a_double_click_on_publish_starts_one_job(admin_page, app):
    page = admin_page
    page.goto(f"{LYON}?q=lyon-0002&sort=dataset_id")
    if page.locator("#dataset-table tbody a").count() == 0:
        sync_catalogue(page, "lyon")
        page.goto(f"{LYON}?q=lyon-0002&sort=dataset_id")
    boxes = page.locator("#dataset-table tbody input[type=checkbox][name=uid]")
    expect(boxes.first).to_be_visible()
    boxes.nth(0).check()
    boxes.nth(1).check()
    before = _job_count(app)
    page.locator("#bulk-form").get_by_role("button", name="Publish", exact=True).dblclick()
    expect(page.locator("#bulk-result a", has_text=re.compile(r"Job #\d+"))).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert _job_count(app) == before + 1
    # the same form sent again as it is (a re-sent request, a click the button's disabling missed): same job
    page.evaluate("(() => { const f = document.getElementById('bulk-form');"
                  " f.requestSubmit([...f.querySelectorAll('button')].find(b => b.textContent.trim() === 'Publish')); })()")
    page.wait_for_load_state("networkidle")
    assert _job_count(app) == before + 1
    # a changed selection is a new action: a new token, a new job
    boxes.nth(2).check()
    page.locator("#bulk-form").get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert _job_count(app) == before + 2
    assert_no_csp_errors(page)


def test_bulk_metadata_preview_apply_then_undo(admin_page, app):
    page = admin_page
    page.goto(f"{LYON}?q=lyon-0003&sort=dataset_id")
    if page.locator("#dataset-table tbody a").count() == 0:
        sync_catalogue(page, "lyon")
        page.goto(f"{LYON}?q=lyon-0003&sort=dataset_id")
    boxes = page.locator("#dataset-table tbody input[type=checkbox][name=uid]")
    expect(boxes.first).to_be_visible()
    chosen = _column(page, 2)[:3]
    uids = [boxes.nth(i).get_attribute("value") for i in range(3)]
    for i in range(3):
        boxes.nth(i).check()
    page.locator("#bulk-form").get_by_role("button", name="Edit metadata…").click()
    expect(page.locator("h1")).to_have_text("Edit metadata of 3 datasets")

    # Preview: old → new per dataset, nothing written yet.
    page.get_by_label("Field").select_option("default:keyword")
    page.get_by_label("Operation").select_option("add")
    page.get_by_label("Value").fill("E2E, bulk")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#bulk-preview")
    expect(preview).to_contain_text("3 would change")
    expect(preview.locator("tbody tr")).to_have_count(3)
    assert sorted(t.strip() for t in preview.locator("tbody td:nth-child(1)").all_inner_texts()) == sorted(chosen)

    def keywords() -> dict:
        out = app.shell("import json; from portaladmin.sandbox.models import SandboxDataset; print(json.dumps("
                        f"{{d.uid: d.data['metadata']['default'].get('keyword', {{}}).get('value') for d in "
                        f"SandboxDataset.objects.filter(uid__in={uids!r})}}))")
        return json.loads(out.strip().splitlines()[-1])

    before = keywords()
    assert all("E2E, bulk" not in (v or []) for v in before.values())

    # Apply: one job; each dataset then holds the item once, with its comma.
    page.get_by_role("button", name=re.compile("^Apply to 3")).click()
    expect(page.locator("h1")).to_contain_text(re.compile(r"Job #\d+"))
    counts = wait_job_page_finished(page, timeout_ms=120_000)
    assert counts["status"] == "Succeeded" and counts["succeeded"] == 3
    after = keywords()
    assert all(after[uid] == [*(before[uid] or []), "E2E, bulk"] for uid in uids)

    # Undo: a new job restores exactly what was there before.
    page.get_by_role("button", name="Undo this change").click()  # confirm: accepted
    expect(page.locator("h1")).to_contain_text(re.compile(r"Job #\d+"))
    counts = wait_job_page_finished(page, timeout_ms=120_000)
    assert counts["status"] == "Succeeded" and counts["succeeded"] == 3
    assert keywords() == before
    assert_no_csp_errors(page)
