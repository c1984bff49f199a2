"""Bad input never gives a 500: every URL pattern (GET and POST) receives forged values in every parameter
and form field name the project knows, and the bulk-list parsers receive broken CSV. Each must answer with a
message (a form error, a 400/404) instead of a server error (finding: _csv.Error, OverflowError).

Against the sandbox portal over real HTTP, so that views reach their parsers with real remote data.
"""

from __future__ import annotations

import inspect
import re
import uuid

import pytest
from django import forms
from django.urls import URLPattern, URLResolver, get_resolver

import portaladmin

HUGE = "9" * 40  # OverflowError in SQLite / int64 conversions
VALUES = [HUGE, "-" + HUGE, "1e400", 'x"y\x00{[', "nan"]
PARAM_NAMES = {"page", "offset", "limit", "per_page", "id", "pk", "job_id", "connection", "conn", "selection",
               "select", "account", "rows", "items", "was", "since", "until", "q", "search", "sort", "status",
               "outcome", "action", "person", "delimiter", "published", "restricted", "refresh", "tab", "kind",
               "form-TOTAL_FORMS", "lang-TOTAL_FORMS", "lang-INITIAL_FORMS", "value", "text"}


def _form_field_names() -> set[str]:
    """The field names of every Form class of the project (what its views parse)."""
    import importlib
    import pkgutil

    names: set[str] = set()
    for info in pkgutil.walk_packages(portaladmin.__path__, "portaladmin."):
        if not info.name.endswith(".forms") or ".sandbox" in info.name:
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, forms.BaseForm) and hasattr(obj, "base_fields"):
                names |= set(obj.base_fields)
    return names


def _patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _fill(route: str, slug: str, draft: str, number: str) -> str:
    def value(match):
        converter, name = match.group(1) or "str", match.group(2)
        if name == "conn":
            return slug
        return {"int": number, "uuid": draft, "slug": "x"}.get(converter, "x")

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


@pytest.fixture
def fuzz_client(sandbox_connection, make_user, client, no_enqueue):
    conn = sandbox_connection("fuzz", slug="fuzz", datasets=3)
    root = make_user("root", superuser=True)
    client.force_login(root)
    client.raise_request_exception = False  # a 500 is recorded as a response, not raised
    return client, conn


def test_no_url_answers_500_to_forged_parameters(fuzz_client):
    client, conn = fuzz_client
    names = sorted(PARAM_NAMES | _form_field_names())
    routes = [r for r in _patterns() if not r.startswith(("sandbox", "admin", "logout", "login"))]
    failures = []
    for route in routes:
        for number in ("1", HUGE) if "<int:" in route else ("1",):
            url = _fill(route, conn.slug, str(uuid.uuid4()), number)
            for value in VALUES if number == "1" else VALUES[:1]:
                data = {name: value for name in names}
                for method in ("get", "post"):
                    response = getattr(client, method)(url, data)
                    if response.status_code >= 500:
                        failures.append((method, url, value[:12], response.status_code))
    assert failures == [], "\n".join(map(str, failures))


BROKEN_CSV = {
    "unclosed quote": 'email,first_name\na@example.org,"Ann\nb@example.org,Ben\n',
    "cell over 128 KiB": "email,first_name\na@example.org," + "x" * 140_000 + "\n",
    "unclosed quote over 128 KiB": 'email,first_name\na@example.org,"' + "x\n" * 70_000,
    "bare carriage returns": 'email\r"a@example.org\r\n',
    "stray quotes": 'email,first_name\n"a"@example.org,An"n\n',
}


@pytest.mark.parametrize("name", BROKEN_CSV)
def test_broken_invite_lists_get_a_message(fuzz_client, name):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    client, conn = fuzz_client
    text = BROKEN_CSV[name]
    invite = reverse("people:invite", kwargs={"conn": conn.slug})
    answers = [client.post(invite, {"text": text}),
               client.post(invite, {"file": SimpleUploadedFile("people.csv", text.encode(), "text/csv")}),
               client.post(invite, {"file": SimpleUploadedFile("people.csv", b"\xff\xfe\x00e\x00m", "text/csv")})]
    for response in answers:
        assert response.status_code in (200, 302, 400), response.status_code
        if response.status_code == 302:  # a preview: every row is there, flagged when it is suspicious
            page = client.get(response["Location"]).content.decode()
            assert "a@example.org" in page
        else:
            assert 'aria-invalid="true"' in response.content.decode() or "error" in response.content.decode()


@pytest.mark.parametrize("text, message", [
    ("[" * 100_000, "nested too deeply"), ("1" * 5000, "Not valid JSON"), ('{"a": ', "Not valid JSON"),
    ("[1, 2", "Not valid JSON")])
def test_json_fields_answer_with_a_form_error(text, message):
    from portaladmin.datasets.forms import ProcessorForm
    from portaladmin.people.forms import ProvisionForm

    form = ProcessorForm({"type": "replace", "args": text})
    assert not form.is_valid() and message in form.errors["args"][0]
    form = ProvisionForm({"email": "a@example.org", "identity_provider": "saml",
                          "identity_provider_attributes": text})
    assert not form.is_valid() and message in form.errors["identity_provider_attributes"][0]
