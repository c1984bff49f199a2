"""A new user's first steps, as found in a QA pass: the first catalogue sync happens by itself, filter bars
are one line of controls, pages load without console errors, and a harvester's heading follows its run."""

from playwright.sync_api import expect

from .conftest import login


def test_login_page_loads_without_any_console_error(page):
    page.goto("/login/")
    page.wait_for_load_state("networkidle")
    assert page.csp_errors == []  # no /favicon.ico 404 on every first visit
    login(page)
    page.wait_for_load_state("networkidle")
    assert page.csp_errors == []


def test_datasets_are_listed_without_pressing_refresh(admin_page):
    page = admin_page
    # devserver requests a first sync of never-synced connections once the web server answers.
    for _ in range(30):
        page.goto("/c/bretagne/datasets/")
        if page.locator("#dataset-table tbody a").count():
            break
        page.wait_for_timeout(1000)
    expect(page.locator("#dataset-table tbody a").first).to_be_visible()
    expect(page.locator("#sync-status")).not_to_contain_text("never synced")


def test_filter_bars_keep_their_controls_on_one_line(admin_page):
    page = admin_page
    for path, form in (("/c/lyon/datasets/", "form[role=search]"), ("/jobs/", "main form")):
        page.goto(path)
        controls = page.locator(f"{form} select, {form} button[type=submit]")
        assert controls.count() >= 3
        tops = {round(controls.nth(i).bounding_box()["y"] / 20) for i in range(controls.count())}
        assert len(tops) == 1, f"{path}: filter controls stacked on {len(tops)} lines"


def test_harvester_heading_follows_the_run(admin_page):
    page = admin_page
    page.goto("/c/lyon/harvesters/new/")
    page.fill("input[name=name]", "QA heading")
    page.fill("input[name=url]", "https://qa-heading.example.org")
    page.click("button:has-text('Create harvester')")
    expect(page.locator("#harvester-head")).to_contain_text("never")
    page.locator("#harvester-actions").get_by_role("button", name="Start").click()
    expect(page.locator("#job-panel")).to_contain_text("Finished", timeout=60_000)
    # The heading reloads by itself when the panel reports the end: no "never run", the harvested count shows.
    expect(page.locator("#harvester-head")).not_to_contain_text("Last started never", timeout=10_000)
    expect(page.locator("#harvester-head .figures strong").nth(1)).not_to_have_text("0")


def test_search_boxes_follow_paste_and_clear_not_only_keys(admin_page):
    page = admin_page
    # Clearing a search with the field's ✕ (or pasting) fires `input`, not `keyup`: the list must follow anyway.
    for path, box, table in (("/c/lyon/datasets/", "#ds-q", "#dataset-table"), ("/fleet/datasets/", "#id_q", "#board")):
        page.goto(path)
        rows = page.locator(f"{table} tbody tr")
        everything = rows.count()
        page.fill(box, "zzz-no-such-dataset")  # fill() fires input events only, like a paste
        expect(rows).not_to_have_count(everything)
        page.fill(box, "")
        expect(rows).to_have_count(everything)
        assert "q=zzz" not in page.url


def test_cron_preview_follows_a_pasted_expression(admin_page):
    page = admin_page
    page.goto("/c/lyon/datasets/?q=lyon-0000")  # a dataset no other journey publishes
    page.locator("#dataset-table tbody a").first.click()
    page.locator(".tabs a", has_text="Schedules").click()
    expect(page.locator("#id_cron")).to_be_visible()
    page.wait_for_load_state("networkidle")  # the tab's own swaps (and any catalogue refresh) are over
    page.fill("#id_cron", "0 5 * * *")
    expect(page.locator("#cron-preview")).to_contain_text("Next runs", timeout=15_000)
