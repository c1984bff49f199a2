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


def _realtime_and_url_resources(app, dataset_id: str) -> tuple[str, str, str]:
    """A realtime resource and a URL resource (with a password and an apikey in its URL) on a lyon dataset."""
    out = app.shell(
        "from portaladmin.portals.models import Connection; from portaladmin.portals.client import client_for; "
        "from portaladmin.sandbox.models import SandboxDataset; "
        f"uid = SandboxDataset.objects.get(portal__name='lyon', dataset_id='{dataset_id}').uid; "
        "c = client_for(Connection.objects.get(slug='lyon')); "
        "rt = c.resource_create(uid, {'type': 'realtime', 'title': 'Sensors', 'datasource': {'type': 'http', "
        "'connection': {'type': 'http', 'url': 'https://push.example.org', 'auth': None}}}); "
        "web = c.resource_create(uid, {'type': 'csvfile', 'title': 'Levels from the city', 'params': {}, "
        "'datasource': {'type': 'http', 'relative_url': '/open/levels.csv?apikey=s3cr3tv4lue99&year=2026', "
        "'connection': {'type': 'http', 'url': 'https://bob:hunter2pass@data.example.org', 'auth': None}}}); "
        "print(uid, rt.uid, web.uid)")
    return tuple(out.split()[-3:])


def test_a_renewed_push_key_is_shown_once_and_a_reload_never_renews_again(admin_page, app):
    page = admin_page
    uid, rt_uid, web_uid = _realtime_and_url_resources(app, "lyon-00008")
    resource = f"{LYON}{uid}/resources/{rt_uid}/"
    page.goto(resource)
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.get_by_role("button", name="Renew the push key").click()  # the confirmation is accepted by the fixture
    expect(page).to_have_url(re.compile(rf"/resources/{rt_uid}/push-key/$"))  # a GET page: the key is in no URL
    key = page.get_by_label("Push key").input_value()
    assert re.fullmatch(r"[0-9a-f]{32}", key) and key not in page.url
    expect(page.locator("#push-key")).to_contain_text("shown only this once")
    assert len(posts) == 1

    page.reload()  # no "resend the form?" question, no second renewal: the page says the key was shown
    expect(page.locator("#push-key-gone")).to_contain_text("already shown")
    assert key not in page.content() and len(posts) == 1
    page.go_back()  # the resource page: the key hidden there too
    expect(page.locator("h1")).to_have_text("Sensors")
    assert key not in page.content()
    page.go_forward()
    expect(page.locator("#push-key-gone")).to_be_visible()
    assert key not in page.content()

    # renewing again from the "already shown" page gives a new key, once
    page.get_by_role("button", name="Renew the push key again").click()
    expect(page.get_by_label("Push key")).to_be_visible()
    assert page.get_by_label("Push key").input_value() not in ("", key)
    assert_no_csp_errors(page)


def test_a_url_resource_says_what_it_reads_with_its_secrets_masked(admin_page, app):
    page = admin_page
    uid, _rt_uid, web_uid = _realtime_and_url_resources(app, "lyon-00009")
    page.goto(f"{LYON}{uid}/resources/{web_uid}/")
    reads = page.locator("dt:has-text('Reads') + dd")
    expect(reads).to_have_text("https://••••••@data.example.org/open/levels.csv?apikey=••••••&year=2026")
    page.goto(f"{LYON}{uid}/resources/")
    expect(page.locator("#resources tbody tr", has_text="Levels from the city")).to_contain_text(
        "https://••••••@data.example.org/open/levels.csv")
    for secret in ("hunter2pass", "s3cr3tv4lue99"):
        assert secret not in page.content()
    assert_no_csp_errors(page)
