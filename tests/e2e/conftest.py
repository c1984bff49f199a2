"""Browser journeys against the running app: `manage.py devserver` (web + real Celery worker + beat)
on a temporary SQLite file, the sandbox portals seeded by demo_setup, Debian's Chromium driven by
Playwright through its executable path (no browser download).

Broker: the embedded filesystem broker, or Redis (database 9, or E2E_REDIS_DB) when REDIS_URL is set.
Screenshots of each journey's end go to var/e2e/; a failing journey also saves the page HTML.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "e2e"
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "").strip()
CHROMIUM = CHROMIUM_PATH or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-quic", "--disable-sync"]
DEMO_PASSWORD = "e2e-Password-123"

try:
    import playwright.sync_api  # noqa: F401

    HAVE_PLAYWRIGHT = True
except ImportError:  # pragma: no cover
    HAVE_PLAYWRIGHT = False

SKIP_REASON = None
if CHROMIUM_PATH and not (os.path.isfile(CHROMIUM_PATH) and os.access(CHROMIUM_PATH, os.X_OK)):
    SKIP_REASON = f"CHROMIUM_PATH={CHROMIUM_PATH} is not an executable file: browser journeys skipped"
elif not CHROMIUM:
    SKIP_REASON = "Chromium not found (apt-get install -y chromium): browser journeys skipped"
elif not HAVE_PLAYWRIGHT:
    SKIP_REASON = "playwright (Python) not installed: browser journeys skipped"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            if SKIP_REASON:
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(var_dir: Path, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "REDIS_URL")}
    env.update({
        "DEBUG": "True", "PORTALADMIN_VAR_DIR": str(var_dir), "PORTALADMIN_SELF_URL": f"http://127.0.0.1:{port}",
        "PORTALADMIN_DEMO_USER": "admin", "PORTALADMIN_DEMO_PASSWORD": DEMO_PASSWORD, "JOBS_POLL_INTERVAL": "1",
        "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING",
    })
    if os.environ.get("REDIS_URL"):
        # its own database (flushed below); E2E_REDIS_DB keeps two runs on one Redis apart
        db = os.environ.get("E2E_REDIS_DB", "9")
        env["REDIS_URL"] = re.sub(r"/\d+$", "", os.environ["REDIS_URL"].rstrip("/")) + f"/{db}"
    return env


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("e2e-var")
    port = _free_port()
    env = _env(var_dir, port)
    if "REDIS_URL" in env:
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()

    def manage(*args, check=True):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=check,
                              capture_output=True, text=True, timeout=300)

    manage("migrate", "--noinput")
    manage("demo_setup", "--small")
    log = open(var_dir / "devserver.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen([sys.executable, "manage.py", "devserver", "--port", str(port), "--concurrency", "2"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz/", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("devserver did not start:\n" + (var_dir / "devserver.log").read_text()[-4000:])
        time.sleep(0.5)

    def shell(code: str) -> str:
        return manage("shell", "-c", code).stdout

    yield SimpleNamespace(url=url, manage=manage, shell=shell, env=env, var_dir=var_dir)
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app, request):
    context = browser.new_context(base_url=app.url, viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(20_000)
    pg = context.new_page()
    errors = []
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.csp_errors = errors
    pg.on("dialog", lambda dialog: dialog.accept())  # data-confirm / hx-confirm prompts: the person says yes
    yield pg
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    try:
        pg.screenshot(path=str(SHOTS / f"{name}{'-FAILED' if failed else ''}.png"), full_page=True)
        if failed:
            (SHOTS / f"{name}-FAILED.html").write_text(pg.content())
    finally:
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


def login(page, username="admin", password=DEMO_PASSWORD):
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/login/).*$"))


@pytest.fixture
def admin_page(page):
    login(page)
    return page


def assert_no_csp_errors(page):
    violations = [e for e in page.csp_errors if "Content Security Policy" in e]
    assert not violations, violations


def make_member(app, username: str, password: str, slug: str, role: str) -> None:
    """A local user with `role` on connection `slug` (idempotent)."""
    app.shell(
        "from django.contrib.auth import get_user_model; from portaladmin.portals.models import *; "
        f"u, _ = get_user_model().objects.get_or_create(username={username!r}); u.set_password({password!r}); u.save(); "
        f"Membership.objects.update_or_create(user=u, connection=Connection.objects.get(slug={slug!r}), "
        f"defaults={{'role': {role!r}}})"
    )


DATASET_COUNT = re.compile(r"(\d+) datasets?\b")


def sync_catalogue(page, slug: str) -> int:
    """Open the datasets list of `slug`, press Refresh, wait for the table to reload; returns the dataset count."""
    from playwright.sync_api import expect

    page.goto(f"/c/{slug}/datasets/")
    first_sync = page.locator("#dataset-table tbody a").count() == 0
    with page.expect_response(lambda r: r.url.endswith(f"/c/{slug}/datasets/refresh/") and r.ok) as answer:
        page.get_by_role("button", name="Refresh").click()
    # The status fragment polls while the sync runs; when it ends, the table reloads (catalogueSynced).
    running = "badge-running" in answer.value.text()
    if running:
        expect(page.locator("#sync-status .badge-running")).to_have_count(1)
    expect(page.locator("#sync-status .badge-running")).to_have_count(0, timeout=30_000)
    expect(page.locator("#sync-status")).to_contain_text(re.compile(r"synced (just now|.* ago)"))
    expect(page.locator("#sync-status")).not_to_contain_text("last sync failed")
    if first_sync and running:  # rows appear in place, without navigating
        expect(page.locator("#dataset-table tbody a").first).to_be_visible(timeout=30_000)
    else:  # the rows were there already: read the fresh count from a fresh page
        page.goto(f"/c/{slug}/datasets/")
    return table_count(page)


def table_count(page) -> int:
    match = DATASET_COUNT.search(page.locator("#dataset-table").inner_text())
    assert match, page.locator("#dataset-table").inner_text()[-300:]
    return int(match.group(1))


JOB_COUNTS = re.compile(r"(\d+) of (\d+)\s+done\s+· (\d+) succeeded · (\d+) failed · (\d+) cancelled")


def wait_job_page_finished(page, timeout_ms: int = 90_000) -> dict:
    """On /jobs/<id>/: wait until the polled progress section stops (job ended); return its counts."""
    from playwright.sync_api import expect

    progress = page.locator("#job-progress")
    expect(progress).not_to_have_attribute("hx-trigger", re.compile("every"), timeout=timeout_ms)
    text = " ".join(progress.locator("p").first.inner_text().split())
    match = JOB_COUNTS.search(text)
    assert match, text
    done, total, succeeded, failed, cancelled = map(int, match.groups())
    badge = progress.locator("p .badge").first.inner_text().strip()
    return {"done": done, "total": total, "succeeded": succeeded, "failed": failed, "cancelled": cancelled,
            "status": badge, "value": progress.locator("progress").get_attribute("value"),
            "max": progress.locator("progress").get_attribute("max")}
