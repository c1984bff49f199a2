"""Every CSV export of the project goes through core.csvout: no cell can start a spreadsheet formula.

One test per export (activity, users pass-through, invite rows, batch-add rows, harvester errors), each fed the
OWASP list of dangerous cell starts, plus the writer's own rules (numbers we generate, streaming, re-parsing).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import responses
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.audit.services import audit_record
from portaladmin.core.csvout import csv_reparse, csv_text, safe_cell
from portaladmin.people.models import DraftKind, RowsDraft
from portaladmin.portals.client import clear_client_cache

API = "https://data.example.org/api/automation/v1.0"
HOSTILE = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(1)", "\tX", "\rX", "=1+2;cmd|' /C calc'!A0"]


def cells(body: str | bytes, delimiter: str = ",") -> list[str]:
    text = body.decode() if isinstance(body, bytes) else body
    return [cell for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) for cell in row]


def assert_neutralised(body, delimiter=","):
    found = cells(body, delimiter)
    for payload in HOSTILE:
        assert payload not in found, f"{payload!r} written as is"
        assert "'" + payload in found, f"{payload!r} missing (or not neutralised): {found}"
    for cell in found:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


@pytest.fixture
def api():
    clear_client_cache()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
    clear_client_cache()


# --- the writer ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", HOSTILE)
def test_text_starting_a_formula_gets_a_quote(payload):
    assert safe_cell(payload) == "'" + payload


def test_numbers_we_generate_stay_numbers_but_numeric_text_does_not():
    assert [safe_cell(v) for v in (-3, 2.5, Decimal("-1.5"), 0)] == [-3, 2.5, Decimal("-1.5"), 0]
    assert safe_cell("-3") == "'-3"  # text: may come from anywhere, never trusted
    assert safe_cell(None) == "" and safe_cell(True) == "True" and safe_cell("a=b") == "a=b"
    assert cells(csv_text([[-3, "-3", "plain"]])) == ["-3", "'-3", "plain"]


def test_reparse_reads_chunks_cut_anywhere():
    source = 'name,note\r\n"Zoé","line one\nline two, with comma"\r\n=evil,"x"""\r\n'.encode()
    chunks = [source[i:i + 3] for i in range(0, len(source), 3)]  # cuts inside é and inside quotes
    assert list(csv_reparse(chunks)) == [["name", "note"], ["Zoé", "line one\nline two, with comma"],
                                         ["=evil", 'x"']]
    assert list(csv_reparse([b"\xef\xbb\xbfa;b\n1;2"], delimiter=";")) == [["a", "b"], ["1", "2"]]


# --- each export -----------------------------------------------------------------------------------------

def test_activity_export(client_as, cast, connection):
    for payload in HOSTILE:  # a failed log-in records the typed user name as is
        audit_record(action="login.failed", target=payload, error=payload, extra={"username": payload})
    AuditEvent.objects.filter(action="login.failed").update(connection_name="=cmd()")
    response = client_as(cast["superuser"]).get(reverse("audit:export"))
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert_neutralised(body)
    assert "'=cmd()" in cells(body)


def test_users_export_rewrites_the_portals_csv(client_as, cast, connection, api):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")  # the portal's own CSV: cells as they are
    writer.writerows([["username", "email", "note"], *([f"u{i}", f"u{i}@example.org", p] for i, p in enumerate(HOSTILE))])
    api.get(API + "/users/export/", body=out.getvalue().encode(), content_type="text/csv")
    response = client_as(cast["viewer"]).get(reverse("people:users_export", kwargs={"conn": connection.slug}),
                                             {"delimiter": ";"})
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content)
    assert_neutralised(body, ";")
    assert cells(body, ";")[:6] == ["username", "email", "note", "u0", "u0@example.org", "'" + HOSTILE[0]]


def _draft(kind, actor, connection, **extra):
    draft = RowsDraft.objects.create(
        kind=kind, created_by=actor, connection=connection, **extra,
        rows=[{"line": i + 1, "target": p, "label": p, "payload": {}} for i, p in enumerate(HOSTILE)],
        rejected=[{"line": 100 + i, "value": p, "errors": [p]} for i, p in enumerate(HOSTILE)])
    draft.connections.set([connection])
    return draft


def test_invite_rows_download(client_as, cast, connection):
    draft = _draft(DraftKind.INVITE, cast["operator"], connection)
    response = client_as(cast["operator"]).get(
        reverse("people:invite_rows", kwargs={"conn": connection.slug, "draft_id": draft.pk}))
    assert_neutralised(response.content)
    assert cells(response.content)[4:8] == ["1", "'" + HOSTILE[0], "to send", "'" + HOSTILE[0]]


def test_batch_add_rows_download(client_as, cast, connection):
    draft = _draft(DraftKind.BATCH_ADD, cast["operator"], connection, group_uid="gis")
    response = client_as(cast["operator"]).get(reverse(
        "people:batch_rows", kwargs={"conn": connection.slug, "group_uid": "gis", "draft_id": draft.pk}))
    assert_neutralised(response.content)


def test_harvester_errors_download(client_as, cast, connection, api):
    api.get(API + "/harvesters/ha_one/errors/", json={
        "harvester": HOSTILE[0], "resources": {p: p for p in HOSTILE}})
    response = client_as(cast["viewer"]).get(reverse("harvesters:errors_csv",
                                                     kwargs={"conn": connection.slug, "uid": "ha_one"}))
    assert response["Content-Disposition"] == 'attachment; filename="harvester-ha_one-errors.csv"'
    assert_neutralised(response.content)


def test_no_csv_is_written_outside_the_one_writer():
    """A new export that formats CSV itself (or answers text/csv by hand) fails here: use core.csvout."""
    from pathlib import Path

    import portaladmin

    root = Path(portaladmin.__file__).parent
    allowed = {root / "core" / "csvout.py"}
    offenders = []
    for path in root.rglob("*.py"):
        if path in allowed or "sandbox" in path.parts:  # the sandbox imitates the portal's own (unsafe) export
            continue
        text = path.read_text()
        if "csv.writer" in text or "csv.DictWriter" in text or "text/csv" in text:
            offenders.append(str(path.relative_to(root)))
    assert offenders == []
