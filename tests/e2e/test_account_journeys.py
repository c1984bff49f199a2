"""Journeys: a person changes their own password; a superuser unlocks a locked-out member from the Team page."""

import re

from playwright.sync_api import expect

from .conftest import assert_no_csp_errors, login, make_member


def test_change_my_password_from_the_navigation(page, app):
    make_member(app, "pwchanger", "first-Password-123", "lyon", "viewer")
    login(page, "pwchanger", "first-Password-123")
    page.click("#my-account")
    expect(page.locator("h1")).to_have_text("My account")
    expect(page.locator("#password-change h2")).to_have_text("Change my password")
    page.select_option("select[name=time_zone]", "Europe/Paris")
    page.click("button:has-text('Save my time zone')")
    expect(page.locator("#messages")).to_contain_text("Times are now shown in Europe/Paris.")
    expect(page.locator("select[name=time_zone]")).to_have_value("Europe/Paris")
    page.fill("input[name=old_password]", "first-Password-123")
    page.fill("input[name=new_password1]", "second-Password-456")
    page.fill("input[name=new_password2]", "second-Password-456")
    page.click("button:has-text('Change my password')")
    expect(page.locator("#messages")).to_contain_text("Your password was changed.")
    page.goto("/connections/lyon/")  # still logged in
    expect(page.locator("body")).to_contain_text("Lyon Open Data")
    assert_no_csp_errors(page)

    page.click("button:has-text('Log out')")
    login(page, "pwchanger", "second-Password-456")
    expect(page.locator("#my-account")).to_have_text("pwchanger")


def test_superuser_unlocks_a_locked_out_member_from_the_team_page(browser, page, app):
    make_member(app, "forgetful", "right-Password-123", "lyon", "viewer")
    # the member mistypes their password until locked out
    for _ in range(5):
        page.goto("/login/")
        page.fill("input[name=username]", "forgetful")
        page.fill("input[name=password]", "wrong-password")
        page.click("button[type=submit]")
    expect(page.locator("#locked-out")).to_contain_text("Try again in 15 minutes")
    expect(page.locator("body")).not_to_contain_text("PT15M")

    # a superuser, in another browser, sees the lock on the Team page and lifts it
    admin = browser.new_context(base_url=app.url).new_page()
    admin.csp_errors = []
    admin.on("console", lambda msg: admin.csp_errors.append(msg.text) if msg.type == "error" else None)
    login(admin, "admin")
    admin.click("nav >> text=Team")
    row = admin.locator("#team tr", has_text="forgetful")
    expect(row).to_contain_text("locked out")
    row.get_by_role("button", name="Unlock").click()
    expect(admin.locator("#messages")).to_contain_text("forgetful can log in again.")
    expect(admin.locator("#team tr", has_text="forgetful")).not_to_contain_text("locked out")
    admin.goto("/activity/")
    expect(admin.locator("body")).to_contain_text("team.user_unlocked")
    assert_no_csp_errors(admin)
    admin.context.close()

    # the member gets in with the right password
    login(page, "forgetful", "right-Password-123")
    expect(page).not_to_have_url(re.compile(r"/login/"))
