"""Journeys on a dataset's parts (issue #18): a processor added from the catalogue shows its new field in the
schema; a field edited in the schema view; a visitor's feedback read and archived; an alternative export
uploaded, downloaded and deleted. Each new page also passes axe-core (no serious or critical violation)."""

import re

from playwright.sync_api import expect

from .conftest import assert_no_csp_errors
from .test_phone_and_a11y_journeys import run_axe


def _dataset_with(app, kind: str) -> str:
    """The uid of a seeded lyon dataset that has a `kind` part (processor, feedback)."""
    out = app.shell(
        "from portaladmin.sandbox.models import SandboxObject; "
        f"print(SandboxObject.objects.filter(portal__name='lyon', kind={kind!r}).order_by('id').first().parent)")
    return out.strip().splitlines()[-1]


def test_processor_from_the_catalogue_shows_its_new_field(admin_page, app):
    page = admin_page
    uid = _dataset_with(app, "processor")
    page.goto(f"/c/lyon/datasets/{uid}/processing/")
    page.get_by_role("link", name="Add a processor from the catalogue").first.click()
    expect(page.locator("#catalogue")).to_be_visible()
    page.locator('#catalogue a[data-type="concat"]').click()
    expect(page).to_have_url(re.compile(r"/processors/new/\?type=concat$"))

    # The form comes from the type's parameter definitions: the default is filled in, required ones are marked.
    expect(page.get_by_label("Separator")).to_have_value(" ")
    assert not run_axe(page)
    page.get_by_label("Label").fill("Year and region")
    page.get_by_label("Fields to join *").fill("year, region")
    page.get_by_label("Separator").fill(" / ")
    page.get_by_label("New field *").fill("Year Region")  # not a field name: refused before sending
    page.get_by_role("button", name="Append processor").click()
    expect(page.locator(".errorlist")).to_contain_text("lowercase")
    page.get_by_label("New field *").fill("year_region")
    page.get_by_role("button", name="Append processor").click()

    expect(page).to_have_url(re.compile(rf"/datasets/{uid}/schema/$"))
    expect(page.locator("#messages")).to_contain_text("Processor Year and region appended.")
    expect(page.locator('#schema tr[data-field="year_region"]')).to_be_visible()
    expect(page.locator("#records-preview")).to_contain_text("2020 / Region 1")  # the sandbox file: sandbox/handlers/resource_content.py
    expect(page.locator("#processors tbody tr").last).to_contain_text("Year and region")

    # Move it up one step: it is no longer last.
    page.locator("#processors tbody tr").last.get_by_role("button", name="Move Year and region up").click()
    expect(page.locator("#messages")).to_contain_text("Processor moved.")
    expect(page.locator("#processors tbody tr").first).to_contain_text("Year and region")
    assert not run_axe(page)
    assert_no_csp_errors(page)


def test_schema_edit_renames_and_types_a_field(admin_page, app):
    page = admin_page
    uid = _dataset_with(app, "processor")
    page.goto(f"/c/lyon/datasets/{uid}/schema/")
    page.locator('#schema tr[data-field="population"]').get_by_role("link", name="Edit").click()
    page.get_by_label("Technical name *").fill("inhabitants")
    page.get_by_label("Label *").fill("Inhabitants")
    page.get_by_label("Type *").select_option("double")
    page.get_by_label("Description").fill("People living there on 1 January")
    page.get_by_label("sortable").check()
    assert not run_axe(page)
    page.get_by_role("button", name="Save field").click()

    expect(page).to_have_url(re.compile(rf"/datasets/{uid}/schema/$"))
    expect(page.locator("#messages")).to_contain_text("Field population: saved rename, type, description, annotate.")
    row = page.locator('#schema tr[data-field="inhabitants"]')
    expect(row).to_contain_text("Inhabitants")
    expect(row).to_contain_text("double")
    expect(row).to_contain_text("sortable")
    expect(row).to_contain_text("People living there on 1 January")
    assert_no_csp_errors(page)


def test_feedback_read_and_archive(admin_page, app):
    page = admin_page
    uid = _dataset_with(app, "feedback")
    page.goto(f"/c/lyon/datasets/{uid}/")
    page.get_by_role("link", name="Feedback").first.click()
    expect(page).to_have_url(re.compile(rf"/datasets/{uid}/feedback/$"))
    row = page.locator("tr[data-feedback]").first
    row.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text("Feedback from admin")
    expect(page.locator("dl")).to_contain_text("The value for 2021 looks wrong.")
    page.get_by_role("button", name="Archive").click()
    expect(page.locator("#messages")).to_contain_text("Feedback archived.")
    expect(page.locator("tbody")).to_contain_text("No open feedback.")
    page.get_by_role("link", name="Archived").click()
    expect(page.locator("tr[data-feedback]")).to_have_count(1)
    assert not run_axe(page)
    assert_no_csp_errors(page)


def test_alternative_export_upload_download_delete(admin_page, app, tmp_path):
    page = admin_page
    uid = _dataset_with(app, "processor")
    page.goto(f"/c/lyon/datasets/{uid}/")
    page.get_by_role("link", name="Alternative exports").first.click()
    expect(page.locator("tbody")).to_contain_text("No alternative export.")
    assert not run_axe(page)
    data = tmp_path / "full.csv"
    data.write_bytes(b"year,region\n" + b"2020,North\n" * 1000)
    page.get_by_label("Title *").fill("Full history")
    page.get_by_label("Description").fill("Every year since 1990")
    page.get_by_label("File *").set_input_files(str(data))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#messages")).to_contain_text("full.csv added as an alternative export.")
    row = page.locator("tr[data-export]")
    expect(row).to_contain_text("Full history")
    with page.expect_download() as download:
        row.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename == "full.csv"
    assert open(download.value.path(), "rb").read() == data.read_bytes()
    row.get_by_role("button", name="Delete").click()
    expect(page.locator("#messages")).to_contain_text("Alternative export deleted.")
    expect(page.locator("tr[data-export]")).to_have_count(0)
