"""Journey: the connection switcher keeps the page — users of Lyon → users of Bretagne; one user → the users list."""

import re

from playwright.sync_api import expect

from .conftest import assert_no_csp_errors


def _switch_to(page, name: str) -> None:
    page.locator("details.dropdown summary").first.click()
    page.locator("details.dropdown").first.get_by_role("link", name=name).click()


def test_switching_connection_keeps_the_page(admin_page):
    page = admin_page
    page.goto("/c/lyon/users/")
    _switch_to(page, "Bretagne Open Data (sandbox)")
    expect(page).to_have_url(re.compile(r"/c/bretagne/users/$"))
    expect(page.locator("#user-table")).to_be_visible()

    # An object page (one user) does not exist on the other portal: its list does.
    page.locator("#user-table tbody a").first.click()
    expect(page).to_have_url(re.compile(r"/c/bretagne/users/[^/]+/$"))
    _switch_to(page, "Lyon Open Data (sandbox)")
    expect(page).to_have_url(re.compile(r"/c/lyon/users/$"))

    page.goto("/c/lyon/harvesters/")
    _switch_to(page, "Bretagne Open Data (sandbox)")
    expect(page).to_have_url(re.compile(r"/c/bretagne/harvesters/$"))
    assert_no_csp_errors(page)
