"""Every main page on a 390 px phone (no sideways page scroll, every menu entry reachable through the collapsible
navigation) and under axe-core (vendored from npm in static/vendor) with zero serious or critical violations."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import ROOT, login, make_member, sync_catalogue

AXE = ROOT / "static" / "vendor" / "axe.min.js"
PHONE = {"width": 390, "height": 844}

PAGES = [
    "/", "/connections/", "/connections/lyon/", "/connections/lyon/members/", "/connections/lyon/apikeys/", "/connections/lyon/datasources/", "/fleet/datasets/",
    "/fleet/harvesters/", "/fleet/people/", "/jobs/", "/activity/", "/notifications/", "/notifications/new/",
    "/team/", "/sandbox/", "/account/password/",
    "/c/lyon/datasets/", "/c/lyon/datasets/new/", "/c/lyon/datasets/feedback/", "/c/lyon/datasets/templates/", "/c/lyon/datasets/images/", "/c/lyon/users/", "/c/lyon/users/invite/", "/c/lyon/groups/",
    "/c/lyon/harvesters/", "/c/lyon/harvesters/new/", "/c/lyon/pages/", "/c/lyon/pages/code/",
]
# Detail pages, found by following the first link of their list.
DETAILS = [
    ("/c/lyon/datasets/", "#dataset-table tbody a[href*='/datasets/']"),
    ("/c/lyon/users/", "main table tbody a[href*='/users/']"),
    ("/c/lyon/groups/", "main table tbody a[href*='/groups/']"),
    ("/team/", "main table tbody a[href^='/team/']"),
    ("/jobs/", "main table tbody a[href^='/jobs/']"),
]


def all_pages(page) -> list[str]:
    pages = list(PAGES)
    for path, link in DETAILS:
        page.goto(path)
        links = page.locator(link)
        if links.count():
            pages.append(links.first.get_attribute("href"))
    return pages


@pytest.fixture
def phone(browser, app, page):
    """A logged-in admin on a 390 px wide phone screen (the `page` fixture keeps the screenshot of the end)."""
    page.set_viewport_size(PHONE)
    login(page)
    return page


def page_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_every_main_page_fits_a_phone_without_sideways_scroll(phone):
    page = phone
    too_wide = {}
    for path in all_pages(page):
        response = page.goto(path)
        assert response.ok, f"{path}: {response.status}"
        page.wait_for_load_state("networkidle")
        extra = page_overflow(page)
        if extra > 0:
            too_wide[path] = extra
    assert not too_wide, f"pages wider than 390 px (extra px): {too_wide}"


def test_the_phone_menu_opens_with_the_keyboard_and_reaches_every_entry(phone):
    page = phone
    page.goto("/c/lyon/datasets/")
    toggle = page.locator("#nav-toggle")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    menu = page.locator("#main-menu nav.topnav")
    expect(menu.get_by_role("link", name="Jobs", exact=True)).to_be_hidden()
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    for name in ("Overview", "Connections", "All datasets", "Jobs", "Activity", "Notifications", "Team", "Sandbox"):
        link = menu.get_by_role("link", name=name, exact=True)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], f"{name} is off-screen: {box}"
    # The connection's own menu is in the same drawer.
    expect(page.locator("#main-menu nav.subnav").get_by_role("link", name="Users")).to_be_visible()
    assert page_overflow(page) <= 0
    page.keyboard.press("Escape")  # closes and gives the focus back to the button
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    expect(menu.get_by_role("link", name="Jobs", exact=True)).to_be_hidden()
    toggle.click()
    menu.get_by_role("link", name="Team", exact=True).click()
    expect(page).to_have_url(re.compile(r"/team/$"))
    expect(page.locator("#nav-toggle")).to_have_attribute("aria-expanded", "false")


def test_wide_tables_scroll_inside_their_own_box_on_a_phone(phone):
    page = phone
    page.goto("/c/lyon/datasets/")
    table = page.locator("#dataset-table table").first
    expect(table).to_be_visible()
    box = table.evaluate("t => { const b = t.closest('.table-scroll'); return b && "
                        "{scroll: b.scrollWidth, client: b.clientWidth, overflow: getComputedStyle(b).overflowX}; }")
    assert box, "the dataset table is not inside a .table-scroll box"
    assert box["overflow"] == "auto"
    assert box["client"] <= PHONE["width"]
    assert page_overflow(page) <= 0


def test_filter_bars_stack_one_control_a_line_on_a_phone(phone):
    page = phone
    for path, form in (("/c/lyon/datasets/", "form[role=search]"), ("/jobs/", "main form"), ("/activity/", "main form"),
                       ("/fleet/datasets/", "main form")):
        page.goto(path)
        controls = page.locator(f"{form} input:visible, {form} select:visible, {form} button[type=submit]:visible")
        assert controls.count() >= 3, path
        boxes = [controls.nth(i).bounding_box() for i in range(controls.count())]
        for box in boxes:
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{path}: a control is cut: {box}"
        tops = [round(b["y"]) for b in boxes]
        assert tops == sorted(tops) and len(set(tops)) == len(tops), f"{path}: controls share a line: {tops}"


def test_the_desktop_menu_needs_no_toggle(admin_page):
    page = admin_page
    page.goto("/")
    expect(page.locator("#nav-toggle")).to_be_hidden()
    expect(page.locator("#main-menu nav.topnav").get_by_role("link", name="Jobs", exact=True)).to_be_visible()


def run_axe(page) -> list[dict]:
    """axe-core's serious and critical violations on the current page.

    The strict CSP refuses an inline <script> without the page's nonce, so the vendored file cannot go in
    through add_script_tag (it would be blocked, like any injected script); DevTools evaluation is not
    subject to the page's CSP, so the source is evaluated there."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + n.failureSummary.split('\\n')[1])}));
    }""")
    return result


@pytest.mark.parametrize("width", [1400, PHONE["width"]])
def test_axe_finds_no_serious_violation_on_any_main_page(admin_page, width):
    page = admin_page
    page.set_viewport_size({"width": width, "height": 1000})
    found = {}
    for path in ["/login/", *all_pages(page)]:
        if path == "/login/":
            page.context.clear_cookies()
        page.goto(path)
        page.wait_for_load_state("networkidle")
        violations = run_axe(page)
        if violations:
            found[path] = violations
        if path == "/login/":
            login(page)
    assert not found, "\n".join(f"{p}: {v}" for p, v in found.items())


def test_axe_is_not_blocked_by_the_csp_and_does_report(admin_page):
    """The check itself works: on a page with a known fault (an unlabelled input added here), axe reports it."""
    page = admin_page
    page.goto("/jobs/")
    page.evaluate("document.querySelector('main').appendChild(Object.assign(document.createElement('input'), "
                  "{type: 'text', id: 'axe-probe'}))")
    ids = {v["id"] for v in run_axe(page)}
    assert "label" in ids, ids


def test_job_progress_is_said_in_one_stable_live_region(admin_page):
    page = admin_page
    # An already published dataset: publishing it again changes no count another journey reads.
    page.goto("/c/bretagne/datasets/?published=yes")
    if page.locator("#dataset-table tbody a[href*='/datasets/da_']").count() == 0:
        sync_catalogue(page, "bretagne")
        page.goto("/c/bretagne/datasets/?published=yes")
    page.locator("#dataset-table tbody a[href*='/datasets/da_']").first.click()
    live = page.locator("#live-status")
    expect(live).to_have_attribute("role", "status")
    expect(live).to_be_empty()
    live.evaluate("el => { window.liveRegionAtLoad = el; }")
    page.locator("#overview").get_by_role("button", name="Publish", exact=True).click()
    # Said at once when the action answers, then again when the state changes, up to the end.
    expect(live).to_contain_text(re.compile(r"^Job #\d+ "))
    expect(live).to_have_text(re.compile(r"^Job #\d+ succeeded: 1 of 1 done\.$"), timeout=60_000)
    assert page.evaluate("document.getElementById('live-status') === window.liveRegionAtLoad")
    expect(page.locator("#toasts [role=status]")).to_contain_text("succeeded")


def test_overview_charts_draw_from_the_embedded_numbers(admin_page, app):
    page = admin_page
    # A job of today, so that the jobs chart has a bar whatever ran before (notified: no rule fires for it).
    app.shell(
        "from django.utils import timezone; from django.contrib.auth import get_user_model; "
        "from portaladmin.jobs.models import Job, JobStatus; from portaladmin.portals.models import Connection; "
        "c = Connection.objects.get(slug='lyon'); now = timezone.now(); "
        "j = Job.objects.create(kind='dataset.publish', title='chart probe', status=JobStatus.SUCCEEDED, total=1, "
        "started_by=get_user_model().objects.get(username='admin'), connection=c, finished_at=now, notified_at=now); "
        "j.connections.set([c])")
    page.goto("/")
    for chart, stacks in (("#chart-datasets", 5), ("#chart-jobs", 3)):
        canvas = page.locator(f"{chart} canvas")
        expect(canvas).to_have_attribute("data-drawn", "true")
        drawn = canvas.evaluate("c => { const ch = Chart.getChart(c); return {stacks: ch.data.datasets.length, "
                                "bars: ch.getDatasetMeta(0).data.length, width: c.width, height: c.height}; }")
        assert drawn["stacks"] == stacks and drawn["bars"] >= 1 and drawn["width"] > 100 and drawn["height"] > 100
        # The numbers drawn are the numbers in the table screen readers read.
        numbers = canvas.evaluate("c => Chart.getChart(c).data.datasets.map(d => d.data)")
        rows = page.locator(f"{chart} table tbody tr")
        for i in range(rows.count()):
            cells = [int(t) for t in rows.nth(i).locator("td").all_inner_texts()]
            assert cells == [values[i] for values in numbers]
    labels = page.locator("#chart-datasets canvas").evaluate("c => Chart.getChart(c).data.labels")
    assert "Lyon Open Data (sandbox)" in labels
    expect(page.get_by_role("table", name="Datasets by status, per connection")).to_have_count(1)
    expect(page.locator("#chart-jobs figcaption")).to_contain_text(re.compile(r"last 30 days: \d+ jobs?, \d+ failed"))
    assert page.csp_errors == []
    page.set_viewport_size(PHONE)  # charts fit a phone too
    page.wait_for_timeout(300)
    assert page_overflow(page) <= 0


def test_overview_charts_without_data_say_so(page, app):
    app.shell(
        "from portaladmin.portals.models import Connection; "
        "c = Connection(slug='chartless', name='Chartless portal', base_url='http://127.0.0.1:9'); "
        "c.set_api_key('chartless-key-0123456789'); c.save()")
    try:
        make_member(app, "chartless", "chartless-Password-1", "chartless", "viewer")
        login(page, "chartless", "chartless-Password-1")
        page.goto("/")
        expect(page.locator("#chart-datasets [data-empty]")).to_have_text("No datasets in the catalogue snapshots yet.")
        expect(page.locator("#chart-jobs [data-empty]")).to_have_text("No jobs in the last 30 days.")
        expect(page.locator("#charts canvas")).to_have_count(0)
        expect(page.locator("#chart-jobs figcaption")).to_contain_text("0 jobs, 0 failed")
        row = page.locator("#chart-datasets table tbody tr")
        expect(row.locator("th")).to_have_text("Chartless portal")
        assert row.locator("td").all_inner_texts() == ["0"] * 5
        assert page.csp_errors == []
        assert not run_axe(page)
    finally:
        app.shell("from django.contrib.auth import get_user_model; from portaladmin.portals.models import Connection; "
                  "Connection.objects.filter(slug='chartless').delete(); "
                  "get_user_model().objects.filter(username='chartless').delete()")
