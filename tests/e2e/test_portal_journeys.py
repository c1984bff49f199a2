"""Journeys: run a harvester to its end; create a code editor page and a studio page, publish the studio page;
the overview shows both portals with their figures."""

import re
import uuid

from playwright.sync_api import expect

from .conftest import assert_no_csp_errors, sync_catalogue, table_count


def test_start_a_harvester_and_see_it_finish_with_its_counts(admin_page):
    page = admin_page
    page.goto("/c/lyon/harvesters/")
    # The seeded lyon harvesters: the last one fails by design; the first one is healthy.
    page.locator("#harvester-table").get_by_role("link", name="CKAN catalogue 1").click()
    expect(page.locator("h1")).to_have_text("CKAN catalogue 1")
    page.locator("#harvester-actions").get_by_role("button", name="Start").click()

    panel = page.locator("#job-panel")
    expect(panel).to_contain_text("Latest job")
    expect(panel.locator(".msg-success")).to_contain_text("Finished", timeout=60_000)
    expect(panel.locator("[data-outcome]")).to_have_attribute("data-outcome", "ok")
    expect(panel.locator("header .badge")).to_have_text("Succeeded")
    harvested = panel.locator("[data-live=harvested]").inner_text()
    published = panel.locator("[data-live=published]").inner_text()
    errors = panel.locator("[data-live=resource_errors]").inner_text()
    assert harvested.isdigit() and int(harvested) > 0
    assert published.isdigit() and errors == "0"
    expect(page.locator("#toasts")).to_contain_text("succeeded")

    # Reloaded, the harvester's own counts agree with what the run reported.
    page.reload()
    counts = page.locator("section.figures")
    expect(counts).to_contain_text(f"{harvested} harvested")
    expect(counts).to_contain_text("no critical error")
    expect(page.locator("h1 ~ .badge-idle, .toolbar .badge-idle").first).to_have_text("idle")
    assert_no_csp_errors(page)


def test_create_code_editor_page_and_studio_page_then_publish_the_studio_page(admin_page):
    page = admin_page
    suffix = uuid.uuid4().hex[:6]

    # A code editor page is live as soon as it exists.
    page.goto("/c/lyon/pages/code/")
    page.get_by_role("button", name="New code editor page").click()
    page.locator("input[name=slug]").fill(f"e2e-code-{suffix}")
    page.locator("input[name=tags]").fill("e2e, test")
    page.locator("input[name=lang-0-title]").fill("E2E code page")
    page.locator("textarea[name=lang-0-html]").fill("<h2>Hello from the e2e suite</h2>")
    page.get_by_role("button", name="Create page").click()
    expect(page).to_have_url(re.compile(f"/c/lyon/pages/code/e2e-code-{suffix}/$"))
    expect(page.locator("h1")).to_have_text("E2E code page")
    expect(page.locator(".toolbar .badge-published")).to_have_text("published")
    expect(page.locator("pre").first).to_contain_text("Hello from the e2e suite")

    # A studio page starts as a draft; Publish makes it published.
    page.goto("/c/lyon/pages/")
    page.get_by_role("button", name="New studio page").click()
    page.locator("input[name=slug]").fill(f"e2e-studio-{suffix}")
    page.locator("input[name=public]").check()
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page).to_have_url(re.compile(r"/c/lyon/pages/studio/[^/]+/$"))
    expect(page.locator("h1")).to_have_text(f"e2e-studio-{suffix}")
    expect(page.locator(".toolbar .badge-unpublished")).to_have_text("draft")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Studio page published.")
    expect(page.locator(".toolbar .badge-published")).to_have_text("published")
    expect(page.get_by_role("button", name="Unpublish")).to_be_visible()
    page.reload()
    expect(page.locator(".toolbar .badge-published")).to_have_text("published")

    # Both are listed.
    page.goto("/c/lyon/pages/")
    row = page.locator("#studio-table tr", has_text=f"e2e-studio-{suffix}")
    expect(row.locator(".badge")).to_have_text("published")
    page.goto("/c/lyon/pages/code/")
    expect(page.locator("#code-table")).to_contain_text(f"e2e-code-{suffix}")
    assert_no_csp_errors(page)


def _figure(card, name: str) -> int:
    return int(card.locator(f"[data-figure={name}] strong").inner_text())


def test_overview_shows_both_portals_with_their_figures(admin_page):
    page = admin_page
    expected = {}
    for slug in ("lyon", "bretagne"):
        total = sync_catalogue(page, slug)
        page.goto(f"/c/{slug}/datasets/?published=yes")
        expected[slug] = (total, table_count(page))

    page.goto("/")
    expect(page.locator("h1")).to_have_text("Overview")
    for slug, name in (("lyon", "Lyon Open Data (sandbox)"), ("bretagne", "Bretagne Open Data (sandbox)")):
        card = page.locator(f"#card-{slug}")
        expect(card.locator("header")).to_contain_text(name)
        expect(card.locator("footer")).to_contain_text("Catalogue synced")
        total, published = expected[slug]
        assert _figure(card, "datasets") == total
        assert _figure(card, "published") == published
        assert _figure(card, "unpublished") == total - published
        for name_ in ("in-error", "processing", "limit-reached", "harvesters-with-errors"):
            assert _figure(card, name_) >= 0

    # A figure leads to the matching list.
    page.locator("#card-bretagne [data-figure=published]").click()
    expect(page).to_have_url(re.compile(r"/c/bretagne/datasets/\?published=yes"))
    assert table_count(page) == expected["bretagne"][1]
    assert_no_csp_errors(page)
