"""Journey: bulk invite 20 people from a pasted list — paste, preview, confirm, per-row results on the job page."""

import re

from playwright.sync_api import expect

from .conftest import assert_no_csp_errors, wait_job_page_finished

EMAILS = [f"e2e.invitee{n:02d}@example.org" for n in range(1, 21)]


def test_bulk_invite_twenty_people_from_a_pasted_list(admin_page):
    page = admin_page
    page.goto("/c/lyon/users/")
    page.get_by_role("button", name="Invite users").click()
    expect(page.locator("h1")).to_have_text("Invite users")
    # Pasted as people do: blank lines and stray spaces included.
    page.get_by_label("Paste e-mails or CSV text").fill("\n".join(EMAILS[:10]) + "\n\n  " + "\n".join(EMAILS[10:]) + "\n")
    page.get_by_role("button", name="Check the list").click()

    expect(page.locator("h1")).to_have_text("Invite: check before sending")
    figures = page.locator(".figures")
    expect(figures).to_contain_text("20 to send")
    expect(figures).to_contain_text("0 rejected")
    preview = page.locator("table", has=page.locator("th", has_text="E-mail"))
    expect(preview.locator("tbody tr")).to_have_count(20)
    assert sorted(t.strip() for t in preview.locator("tbody td:nth-child(2)").all_inner_texts()) == EMAILS

    page.get_by_role("button", name="Send 20 rows").click()  # the confirmation prompt is accepted
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    counts = wait_job_page_finished(page, timeout_ms=90_000)
    assert counts["done"] == counts["total"] == 20
    assert counts["succeeded"] + counts["failed"] + counts["cancelled"] == 20
    assert counts["value"] == counts["max"] == "20"

    # Every row has its own result.
    items = page.locator("#job-progress tbody tr")
    expect(items).to_have_count(20)
    targets = [t.split()[0] for t in items.locator("td:nth-child(2)").all_inner_texts()]
    assert sorted(targets) == EMAILS
    statuses = [t.strip() for t in items.locator("td:nth-child(3)").all_inner_texts()]
    assert set(statuses) <= {"Succeeded", "Failed", "Cancelled"}
    assert statuses.count("Succeeded") == counts["succeeded"]
    assert counts["succeeded"] == 20, statuses  # fresh addresses on a healthy sandbox: all invited

    # The portal now lists them as invited.
    page.goto("/c/lyon/users/?search=e2e.invitee")
    expect(page.locator("#user-table")).to_contain_text(EMAILS[0])
    assert_no_csp_errors(page)
