"""A hostile portal echoes our Authorization header into every field of its answers: the key must appear in no
page, audit row, job row, log record or e-mail (finding: trace_id and error_code were kept as sent).

The key has characters that URL-encoding changes, so that the bare, `apikey KEY` and URL-encoded forms differ.
"""

from __future__ import annotations

import json
import logging
import pickle
import re
from urllib.parse import quote, quote_plus

import pytest
import responses
from django.core import mail
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.core.logging import redact, register_secret
from portaladmin.jobs import engine
from portaladmin.jobs.models import Job, JobItem
from portaladmin.portals.client import PortalClient, base, clear_client_cache
from portaladmin.portals.client.errors import PortalError

HOSTILE_KEY = "hostile-Key/9f+2e=7a&b3c4d5"
API = "https://evil.example.org/api/automation/v1.0"
FORMS = [HOSTILE_KEY, quote(HOSTILE_KEY, safe=""), quote_plus(HOSTILE_KEY),
         re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(HOSTILE_KEY, safe=""))]


def leaks(text) -> list[str]:
    text = text if isinstance(text, str) else json.dumps(text, default=str)
    return [form for form in FORMS if form in text]


def echo(status: int):
    """A portal that puts what it received in the Authorization header everywhere it can."""

    def answer(request):
        header = request.headers["Authorization"]  # "apikey KEY"
        key = header.split(" ", 1)[1]
        encoded = quote(key, safe="")
        body = {"error_code": encoded, "error_key": key, "message": f"Refused: {header}", "trace_id": key,
                "detail": {key: [f"bad {quote_plus(key)}"], encoded: {"nested " + key: [header]},
                           "field": [f"Authorization: {header}", encoded.lower()]}}
        return status, {"Content-Type": "application/json"}, json.dumps(body)

    return answer


@pytest.fixture
def hostile(settings, monkeypatch, make_connection):
    settings.PORTALS_ALLOW_PRIVATE_NETWORKS = True
    monkeypatch.setattr(base, "sleep", lambda s: None)
    clear_client_cache()
    conn = make_connection("evil", name="Evil", base_url="https://evil.example.org", api_key=HOSTILE_KEY)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield conn, mock
    clear_client_cache()


def everything_about(exc: PortalError) -> str:
    parts = [str(exc), repr(exc), repr(exc.args), json.dumps(exc.detail, default=str)]
    parts += [str(v) for v in vars(exc).values()]
    parts.append(repr(pickle.loads(pickle.dumps(exc))))  # noqa: S301 - our own bytes
    if isinstance(exc.detail, dict):
        parts += [str(k) for k in exc.detail]
    return "\n".join(parts)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 500])
def test_every_field_of_the_clients_exceptions_is_redacted(status, settings, monkeypatch, caplog):
    settings.PORTALS_ALLOW_PRIVATE_NETWORKS = True
    monkeypatch.setattr(base, "sleep", lambda s: None)
    caplog.set_level(logging.DEBUG)
    client = PortalClient(base_url="https://evil.example.org", api_key=HOSTILE_KEY, timeout=(2.0, 5.0))
    with responses.RequestsMock() as mock:
        mock.add_callback("GET", API + "/datasets/da_1/", callback=echo(status))
        with pytest.raises(PortalError) as caught:
            client.dataset_get("da_1")
    exc = caught.value
    assert exc.trace_id and exc.error_code and exc.detail  # kept, only the key is gone
    assert leaks(everything_about(exc)) == []
    assert leaks("\n".join(r.getMessage() for r in caplog.records)) == []


def test_answers_that_echo_the_key_are_redacted_before_they_are_returned(settings):
    settings.PORTALS_ALLOW_PRIVATE_NETWORKS = True
    client = PortalClient(base_url="https://evil.example.org", api_key=HOSTILE_KEY, timeout=(2.0, 5.0))
    with responses.RequestsMock() as mock:
        mock.add("POST", API + "/users/invite/", json={
            "0": {"status_code": "error", "error": {HOSTILE_KEY: [f"no {quote(HOSTILE_KEY, safe='')}"]}},
            "1": {"status_code": "error", "message": f"trace \\u {HOSTILE_KEY}"}})
        results = client.user_invite([{"email": "a@example.org"}, {"email": "b@example.org"}])
    assert [r.ok for r in results] == [False, False]
    assert leaks([r.message for r in results]) == [] and leaks([r.raw for r in results]) == []
    assert "[redacted]" in results[0].message


def test_redact_knows_registered_keys_in_every_form():
    register_secret(HOSTILE_KEY)
    for form in FORMS:
        assert redact(f"x{form}y") == "x[redacted]y"
    register_secret("short")  # too short to be a key: ordinary words stay
    assert redact("a short text") == "a short text"


def test_pages_audit_jobs_logs_and_mail_never_show_the_key(hostile, cast, client_as, caplog, no_enqueue,
                                                           django_capture_on_commit_callbacks, settings):
    conn, portal = hostile
    settings.JOBS_NOTIFY_ON_FAILURE = True
    caplog.set_level(logging.DEBUG)
    from portaladmin.portals.models import Membership, Role

    Membership.objects.create(user=cast["operator"], connection=conn, role=Role.ADMIN)
    for method, path, status in [("GET", "/users/", 500), ("POST", "/groups/", 400),
                                 ("POST", "/datasets/da_1/publish/", 400), ("GET", "/datasets/da_1/status/", 400),
                                 ("GET", "/datasets/da_1/", 403)]:
        portal.add_callback(method, API + path, callback=echo(status))
    c = client_as(cast["operator"])
    pages = [c.get(reverse("people:users", kwargs={"conn": conn.slug})),
             c.post(reverse("people:group_create", kwargs={"conn": conn.slug}), {"title": "GIS"}),
             c.get(reverse("datasets:detail", kwargs={"conn": conn.slug, "uid": "da_1"}))]

    from portaladmin.jobs.services import job_create

    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(kind="dataset.publish", actor=cast["operator"], targets={conn: ["da_1"]})
    with django_capture_on_commit_callbacks(execute=True):
        engine.items_process(list(job.items.values_list("pk", flat=True)))
    job.refresh_from_db()
    assert job.failed_count == 1, job.status
    pages += [c.get(reverse("jobs:detail", kwargs={"job_id": job.pk})), c.get(reverse("audit:list"))]
    export = c.get(reverse("audit:export"))

    # the portal was really called and really hostile: the pages show its (redacted) words
    assert all(p.status_code < 500 for p in pages), [p.status_code for p in pages]
    assert "[redacted]" in pages[0].content.decode() and "[redacted]" in pages[1].content.decode()
    for page in pages:
        assert leaks(page.content.decode()) == [], page.request["PATH_INFO"]
    assert leaks(b"".join(export.streaming_content).decode()) == []
    audit = list(AuditEvent.objects.values())
    assert any(e["outcome"] == "failure" for e in audit)
    assert leaks(audit) == []
    assert leaks(list(Job.objects.values())) == [] and leaks(list(JobItem.objects.values())) == []
    assert mail.outbox, "the job failed: its owner is told"
    assert leaks([(m.subject, m.body) for m in mail.outbox]) == []
    records = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    assert records and leaks(records) == []


@pytest.mark.parametrize("escaped", [False, True])
def test_a_key_in_an_answer_is_redacted_whether_or_not_the_body_escapes_it(settings, escaped):
    """_decode looks at a body without backslashes as it came, and at any other one re-encoded: a key hidden
    behind \\u escapes is found either way."""
    settings.PORTALS_ALLOW_PRIVATE_NETWORKS = True
    client = PortalClient(base_url="https://evil.example.org", api_key=HOSTILE_KEY, timeout=(2.0, 5.0))
    key = "".join(f"\\u{ord(ch):04x}" for ch in HOSTILE_KEY) if escaped else HOSTILE_KEY
    body = '{"0": {"status_code": "error", "message": "echo ' + key + '"}}'
    with responses.RequestsMock() as mock:
        mock.add("POST", API + "/users/invite/", body=body, content_type="application/json")
        [result] = client.user_invite([{"email": "a@example.org"}])
    assert ("\\" in body) is escaped
    assert leaks([result.message]) == [] and "[redacted]" in result.message


@pytest.mark.parametrize("text", ["x Authorization: y", "API_KEY=1", "api-Key", "ApiKey x", "the apikey", "nothing",
                                  "API key", "é Authorization", "é nothing", "\u212aey api\u212aey"])
def test_the_quick_trigger_check_agrees_with_the_pattern(text):
    from portaladmin.core.logging import _TRIGGER, _has_trigger

    assert _has_trigger(text) == bool(_TRIGGER.search(text))
