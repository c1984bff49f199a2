"""Compare a dataset of `lyon` with `bretagne`, promote it (dry run first), watch the job, compare again: empty."""

import re

from playwright.sync_api import expect

from .conftest import assert_no_csp_errors, wait_job_page_finished


def test_compare_promote_watch_then_no_differences(admin_page, app):
    page = admin_page
    uid = app.shell("from portaladmin.sandbox.models import SandboxDataset; "
                    "print(SandboxDataset.objects.get(portal__name='lyon', dataset_id='lyon-00002').uid)").split()[-1]
    page.goto(f"{app.url}/c/lyon/datasets/{uid}/")
    # next to Unpublish / Delete: which pages (on every portal) reference this dataset — loaded after the page
    expect(page.locator("#dataset-dependents")).to_contain_text("No studio or code editor page you can see")
    # … in its own place: the tabs and the overview are still there around it (QA: it replaced the whole tab panel)
    expect(page.locator("nav.tabs a", has_text="Metadata")).to_be_visible()
    expect(page.locator("#tab-panel h3", has_text="Processing status")).to_be_visible()
    page.locator("#compare-link").click()
    expect(page).to_have_url(re.compile(rf"/c/lyon/promote/{uid}/$"))

    page.locator("select[name=to]").select_option("bretagne")
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("#compare-summary")).to_contain_text("does not exist on")
    expect(page.locator('details.diff-part[data-part="resources"]')).to_have_attribute("open", "")

    page.locator("input[name=publish]").check()
    page.get_by_role("button", name=re.compile("Dry run")).click()
    expect(page.locator("#dry-run-total")).to_contain_text("would be sent")
    expect(page.locator("section[data-part=dataset] li").first).to_contain_text("POST /datasets/ — create dataset "
                                                                                  "lyon-00002")
    page.locator("#promote-start").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    counts = wait_job_page_finished(page)
    assert counts["failed"] == 0 and counts["succeeded"] == counts["total"] >= 5, counts  # the differing parts + publish

    page.goto(f"{app.url}/c/lyon/promote/{uid}/?to=bretagne")
    expect(page.locator("#no-differences")).to_be_visible()
    expect(page.locator("details.diff-part[open]")).to_have_count(0)
    assert_no_csp_errors(page)


def test_promote_screens_fit_a_phone_and_pass_axe(admin_page, app):
    from .test_phone_and_a11y_journeys import PHONE, page_overflow, run_axe

    page = admin_page
    uid = app.shell("from portaladmin.sandbox.models import SandboxDataset; "
                    "print(SandboxDataset.objects.get(portal__name='lyon', dataset_id='lyon-00003').uid)").split()[-1]
    paths = [f"/c/lyon/promote/{uid}/?to=bretagne",
             f"/c/lyon/promote/{uid}/dry-run/?to=bretagne&dataset_id=lyon-00003&parts=dataset&parts=resources",
             "/c/lyon/promote/drift/?to=bretagne&show=all", "/c/lyon/promote/pages/code/home/?to=bretagne"]
    for width in (1400, PHONE["width"]):
        page.set_viewport_size({"width": width, "height": 844})
        for path in paths:
            response = page.goto(app.url + path)
            assert response.ok, f"{path}: {response.status}"
            page.wait_for_load_state("networkidle")
            assert run_axe(page) == [], path
            if width == PHONE["width"]:
                assert page_overflow(page) <= 0, path


def test_page_promote_is_a_job_then_no_differences(admin_page, app):
    page = admin_page
    app.shell("from portaladmin.sandbox.models import SandboxObject; "
              "o = SandboxObject.objects.get(portal__name='lyon', kind='code_page', key='home'); "
              "o.data['description'] = 'Changed on Lyon for the journey'; o.save()")
    page.goto(f"{app.url}/c/lyon/promote/pages/code/home/?to=bretagne")
    expect(page.locator('tr[data-key="description"]')).to_contain_text("Changed on Lyon for the journey")
    expect(page.locator("#page-dry-run")).to_contain_text("PUT /code_editor_pages/home/ — update")
    page.locator("#page-promote").click()  # the confirmation is accepted by the fixture
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    counts = wait_job_page_finished(page)
    assert counts["failed"] == 0 and counts["succeeded"] == counts["total"] == 2, counts  # page + access rules
    page.goto(f"{app.url}/c/lyon/promote/pages/code/home/?to=bretagne")
    expect(page.locator("#no-differences")).to_be_visible()
    assert_no_csp_errors(page)


def test_unpublish_and_delete_confirmations_carry_the_dependency_check(admin_page, app):
    page = admin_page
    uid = app.shell("from portaladmin.sandbox.models import SandboxDataset; "
                    "print(SandboxDataset.objects.get(portal__name='lyon', dataset_id='lyon-00004').uid)").split()[-1]
    page.goto(f"{app.url}/c/lyon/datasets/{uid}/")
    expect(page.locator("#dataset-dependents")).to_contain_text("No studio or code editor page you can see")
    # once the check has answered, the confirmations themselves say so (no more "still checking")
    expect(page.locator("#unpublish-form")).to_have_attribute("hx-confirm", re.compile(r"^Unpublish this dataset\?"))
    page.get_by_text("Delete this dataset").click()
    expect(page.locator("#delete-dependents")).to_contain_text("No studio or code editor page you can see references it")
    assert_no_csp_errors(page)


def test_page_dry_run_per_target_then_promote_to_both(admin_page, app):
    key = "e2e-third-key-" + "3" * 12
    app.manage("sandbox_seed", "third", "--datasets", "1", "--users", "3", "--harvesters", "0", "--pages", "1",
               "--api-key", key, "--reset")
    app.shell("from portaladmin.portals.models import Connection; "
              "c = Connection.objects.filter(slug='third').first() or Connection(slug='third', name='Third portal'); "
              f"c.base_url = '{app.url}/sandbox/third'; c.set_api_key('{key}'); c.save(); "
              "from portaladmin.portals.client import client_for; "
              "client_for(Connection.objects.get(slug='lyon')).code_page_create({'slug': 'e2e-news', "
              "'title': {'en': 'News'}, 'description': 'Only on Lyon', "
              "'content': {'html': {'en': '<p>News</p>'}, 'css': {'en': ''}}})")
    page = admin_page
    page.goto(f"{app.url}/c/lyon/promote/pages/code/e2e-news/?to=bretagne")
    expect(page.locator('.dry-run-target[data-target="bretagne"]')).to_contain_text("POST /code_editor_pages/ — create e2e-news")
    expect(page.locator('.dry-run-target[data-target="third"]')).to_have_count(0)
    page.get_by_role("checkbox", name="Third portal").check()
    page.get_by_role("button", name="Dry run for these portals").click()
    third = page.locator('.dry-run-target[data-target="third"]')
    expect(third).to_contain_text("POST /code_editor_pages/ — create e2e-news")
    expect(third).to_contain_text("not there yet")
    expect(page.get_by_role("checkbox", name="Third portal")).to_be_checked()
    page.get_by_role("button", name="Promote to 2 portals").click()  # the confirmation is accepted by the fixture
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    counts = wait_job_page_finished(page)
    assert counts["failed"] == 0 and counts["succeeded"] == counts["total"] == 4, counts  # page + access, × 2
    page.goto(f"{app.url}/c/lyon/promote/pages/code/e2e-news/?to=bretagne&also=third")
    expect(page.locator("#nothing-to-promote")).to_contain_text("Bretagne")
    expect(page.locator("#nothing-to-promote")).to_contain_text("Third portal")
    assert_no_csp_errors(page)
