"""Journeys on metadata: an administrator defines a custom template (a refusal lands on its row, then it is
saved, edited and deleted); an HTML field's preview drops what must not run; an operator edits every dataset
matching the list's filters at once (preview → apply), then publishes the changed metadata in the same go."""

import json
import re

from playwright.sync_api import expect

from .conftest import assert_no_csp_errors, sync_catalogue, wait_job_page_finished

LYON = "/c/lyon/datasets/"


def test_create_edit_and_delete_a_custom_metadata_template(admin_page, app):
    page = admin_page
    page.goto(f"{LYON}templates/")
    page.get_by_role("button", name="New template").click()
    expect(page.locator("h1")).to_have_text("New metadata template")
    page.locator("#id_name").fill("e2e_ops")
    page.locator("#id_title").fill("Operations")
    page.locator("#id_type").select_option("admin")
    # an enumeration without its values: refused on that row, what was typed stays
    page.get_by_label("Field 1 name", exact=True).fill("tier")
    page.get_by_label("Field 1 type", exact=True).select_option("enum")
    page.get_by_label("Field 2 name", exact=True).fill("owner")
    page.get_by_role("button", name="Create the template").click()
    row = page.locator('#template-fields tr[data-field-row="0"]')
    expect(row.locator(".errorlist")).to_contain_text("List the allowed values")
    expect(page.get_by_label("Field 2 name", exact=True)).to_have_value("owner")
    page.get_by_label("Field 1 allowed values", exact=True).fill("gold\nsilver")
    page.get_by_role("button", name="Create the template").click()
    article = page.locator("#template-e2e_ops")
    expect(article).to_contain_text("Operations")
    expect(article.locator("tbody tr")).to_have_count(2)
    expect(article).to_contain_text("2 values")

    # edit: a third allowed value and a new field through "More rows"
    article.get_by_role("link", name="Edit").click()
    expect(page.locator("#id_name")).to_be_disabled()
    page.get_by_label("Field 1 allowed values", exact=True).fill("gold\nsilver\nbronze")
    page.get_by_role("button", name="More rows").click()
    expect(page.get_by_label("Field 8 name", exact=True)).to_be_visible()  # the form came back with 3 more rows
    page.get_by_label("Field 3 name", exact=True).fill("reviewed")
    page.get_by_label("Field 3 type", exact=True).select_option("boolean")
    page.get_by_role("button", name="Save the template").click()
    article = page.locator("#template-e2e_ops")
    expect(article.locator("tbody tr")).to_have_count(3)
    expect(article).to_contain_text("3 values")
    stored = app.shell("import json; from portaladmin.sandbox.models import SandboxObject; print(json.dumps("
                       "[f['name'] for f in SandboxObject.objects.get(portal__name='lyon', kind='template', "
                       "key='e2e_ops').data['schema']]))")
    assert json.loads(stored.strip().splitlines()[-1]) == ["tier", "owner", "reviewed"]

    # built-ins offer no edit; the custom one goes
    expect(page.locator("#template-default").get_by_role("link", name="Edit")).to_have_count(0)
    article.get_by_role("button", name="Delete").click()  # confirm: accepted
    expect(page.locator("#template-e2e_ops")).to_have_count(0)
    expect(page.locator("#messages")).to_contain_text("Template e2e_ops deleted.")
    assert_no_csp_errors(page)


def test_the_html_preview_shows_the_text_without_what_would_run(admin_page):
    page = admin_page
    page.goto(f"{LYON}?sort=dataset_id")
    if page.locator("#dataset-table tbody a").count() == 0:
        sync_catalogue(page, "lyon")
        page.goto(f"{LYON}?sort=dataset_id")
    page.locator("#dataset-table tbody a").first.click()
    page.get_by_role("link", name="Metadata").click()
    source = page.get_by_label("default.description", exact=True)
    source.fill('<p onclick="document.title=\'owned\'">Counted <strong>daily</strong></p>'
                '<img src="https://x.invalid/i.png" onerror="document.title=\'owned\'">'
                '<script>document.title="owned"</script><a href="javascript:document.title=\'owned\'">go</a>')
    preview = page.locator("#pv-default-description")
    expect(preview.locator("strong")).to_have_text("daily")
    html = preview.inner_html()
    assert "onclick" not in html and "onerror" not in html and "<script" not in html and "javascript:" not in html
    preview.locator("p").click()
    preview.locator("a").click()
    assert page.title() != "owned"
    assert_no_csp_errors(page)


def test_edit_metadata_of_every_dataset_matching_the_filter_then_publish_it(admin_page, app):
    page = admin_page
    page.goto(f"{LYON}?q=lyon-0001&sort=dataset_id")
    if page.locator("#dataset-table tbody a").count() == 0:
        sync_catalogue(page, "lyon")
        page.goto(f"{LYON}?q=lyon-0001&sort=dataset_id")
    every = page.get_by_label(re.compile(r"All \d+ datasets? matching the filter"))
    box_label = page.locator("label", has_text=re.compile(r"All \d+ datasets? matching the filter"))
    count = int(re.search(r"All (\d+) dataset", box_label.inner_text()).group(1))
    assert count > 1
    every.check()  # no row was checked: every dataset the filter matches
    page.locator("#bulk-form").get_by_role("button", name="Edit metadata…").click()
    expect(page.locator("h1")).to_have_text(f"Edit metadata of {count} datasets")
    page.get_by_label("Field").select_option("default:publisher")
    page.get_by_label("Operation").select_option("set")
    page.get_by_label("Value").fill("E2E open data team")
    page.get_by_label(re.compile("Then publish the metadata")).check()
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#bulk-preview")).to_contain_text(f"{count} would change")
    page.get_by_role("button", name=re.compile(f"^Apply to {count}")).click()
    expect(page.locator("h1")).to_contain_text(re.compile(r"Job #\d+"))
    counts = wait_job_page_finished(page, timeout_ms=120_000)
    assert counts["status"] == "Succeeded" and counts["succeeded"] == count
    # the publish step is its own job, linked from this one
    page.reload()
    step = page.locator("#publish-step")
    expect(step).to_contain_text(re.compile(r"job #\d+|No dataset this job changed is published"))
    if step.get_by_role("link").count():
        step.get_by_role("link").click()
        counts = wait_job_page_finished(page, timeout_ms=120_000)
        assert counts["status"] == "Succeeded"
    publishers = app.shell("import json; from portaladmin.sandbox.models import SandboxDataset; print(json.dumps("
                           "sorted({d.data['metadata']['default'].get('publisher', {}).get('value') for d in "
                           "SandboxDataset.objects.filter(portal__name='lyon', dataset_id__contains='lyon-0001')})))")
    assert json.loads(publishers.strip().splitlines()[-1]) == ["E2E open data team"]
    assert_no_csp_errors(page)
