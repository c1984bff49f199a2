"""The cross-portal board's Next / Previous links (keyset cursors, issue 23) in a browser."""

import re

from playwright.sync_api import expect

from .conftest import sync_catalogue


def test_next_and_previous_walk_the_board_and_keep_their_url(admin_page):
    page = admin_page
    # the board reads the catalogue snapshots: both portals', more than one page of 50
    assert sync_catalogue(page, "lyon") + sync_catalogue(page, "bretagne") > 50
    page.goto("/fleet/datasets/")
    rows = page.locator("#board tbody tr")
    first_row = rows.first.get_attribute("data-row")
    page.locator("#board nav").get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(r"after="))
    expect(rows.first).not_to_have_attribute("data-row", first_row)
    second_row = rows.first.get_attribute("data-row")
    second_url = page.url
    page.reload()  # the pushed URL shows the same rows on its own (a bookmark, a shared link)
    expect(rows.first).to_have_attribute("data-row", second_row)
    assert page.url == second_url
    page.locator("#board nav").get_by_role("link", name="← Previous").click()
    expect(rows.first).to_have_attribute("data-row", first_row)
    expect(page.locator("#board nav")).to_contain_text("Page 1")
