"""A person adds a resource to a `lyon` dataset: uploads a CSV separated by `;`, sees what the portal guessed and
the records before saving, changes a parameter and watches the preview follow, then saves and finds it."""

import re

from playwright.sync_api import expect

from .conftest import assert_no_csp_errors, sync_catalogue

LYON = "/c/lyon/datasets/"
CSV = "station;level;day\nLyon Pont Morand;3.2;2026-01-01\nGivors;2.9;2026-01-01\n"


def _open_dataset(page, dataset_id: str) -> str:
    page.goto(f"{LYON}?q={dataset_id}")
    link = page.locator("#dataset-table a", has_text=re.compile(f"^{dataset_id}$"))
    if link.count() == 0:
        sync_catalogue(page, "lyon")
        page.goto(f"{LYON}?q={dataset_id}")
    link.click()
    expect(page.locator("hgroup")).to_contain_text(dataset_id)
    return re.search(r"/datasets/(da_\w+)/", page.url).group(1)


def test_add_a_resource_with_preview_and_a_parameter_change(admin_page, tmp_path):
    page = admin_page
    uid = _open_dataset(page, "lyon-00006")
    page.locator("nav.tabs a", has_text="Resources").click()
    expect(page).to_have_url(re.compile(f"/datasets/{uid}/resources/$"))
    page.get_by_role("button", name="Add a resource").click()  # a link drawn as a button
    expect(page.locator("h1")).to_have_text("New resource")

    # Upload: the portal guesses CSV with ';' and shows the records — nothing saved yet.
    csv = tmp_path / "river-levels.csv"
    csv.write_text(CSV)
    upload = page.locator("article", has_text="Upload a file")
    upload.locator("input[type=file]").set_input_files(str(csv))
    upload.get_by_role("button", name="Upload, guess and preview").click()
    draft = page.locator("#draft")
    expect(draft.get_by_label("Separator")).to_have_value(";")
    expect(draft.get_by_label("Format (extractor)")).to_have_value("csvfile")
    preview = page.locator("#draft-preview table")
    expect(preview.locator("thead th")).to_have_count(3)
    expect(preview).to_contain_text("Lyon Pont Morand")

    # A wrong separator: the preview follows (one column), without pressing anything.
    draft.get_by_label("Separator").fill(",")
    draft.get_by_label("Separator").dispatch_event("change")
    expect(page.locator("#draft-preview table thead th")).to_have_count(1)
    # A separator the portal cannot use: its message sits under the field.
    page.locator("#draft").get_by_label("Separator").fill(";;")
    page.locator("#draft").get_by_label("Separator").dispatch_event("change")
    expect(page.locator("#draft")).to_contain_text("The separator must be a single character.")
    # Back to ';' and a title, then save.
    page.locator("#draft").get_by_label("Separator").fill(";")
    page.locator("#draft").get_by_label("Separator").dispatch_event("change")
    expect(page.locator("#draft-preview table thead th")).to_have_count(3)
    page.locator("#draft").get_by_label("Title").fill("River levels")
    page.get_by_role("button", name="Save the resource").click()

    # The resource page: saved with the chosen separator, file downloadable; the list shows it.
    expect(page.locator("h1")).to_have_text("River levels")
    expect(page.locator("#messages")).to_contain_text("Resource River levels saved.")
    expect(page.locator("dl")).to_contain_text("separator = ;")
    expect(page.get_by_role("link", name="Download")).to_be_visible()
    expect(page.locator("#resource-preview")).to_contain_text("Givors")
    page.get_by_role("link", name=re.compile("Resources of")).click()
    row = page.locator("#resources tbody tr", has_text="River levels")
    expect(row).to_contain_text("CSV File")
    expect(row).to_contain_text("Uploaded file")
    assert_no_csp_errors(page)
