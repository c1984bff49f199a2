"""Activity page: filters, date range validation, CSV export, and the audit helper's redaction."""

import datetime as dt

import pytest
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.audit.services import audit_record, audit_remote_write

from ..conftest import CANARY_KEY


@pytest.fixture
def events(cast, connection, make_connection):
    other = make_connection("other", name="Other")
    audit_record(action="dataset.publish", actor=cast["operator"], connection=connection, target="da_one")
    audit_record(action="dataset.publish", actor=cast["admin"], connection=other, target="da_two",
                 outcome="failure", error="boom")
    audit_record(action="user.invite", actor=cast["admin"], connection=connection, target="x@example.org")
    return other


def rows(client, **params):
    html = client.get(reverse("audit:list"), params, headers={"HX-Request": "true"}).content.decode()
    return {t for t in ("da_one", "da_two", "x@example.org") if t in html}


def test_filters(client_as, cast, events):
    c = client_as(cast["superuser"])
    assert rows(c) == {"da_one", "da_two", "x@example.org"}
    assert rows(c, connection="demo") == {"da_one", "x@example.org"}
    assert rows(c, person="oscar") == {"da_one"}
    assert rows(c, action="dataset.") == {"da_one", "da_two"}
    assert rows(c, outcome="failure") == {"da_two"}
    today = dt.date.today().isoformat()
    assert rows(c, since=today, until=today) == {"da_one", "da_two", "x@example.org"}
    assert rows(c, until="2000-01-01") == set()


def test_reversed_date_range_gets_a_message(client_as, cast, events):
    html = client_as(cast["superuser"]).get(reverse("audit:list"), {"since": "2030-01-02", "until": "2030-01-01"}).content
    assert b"The end date is before the start date." in html


def test_csv_export_follows_filters(client_as, cast, events):
    response = client_as(cast["superuser"]).get(reverse("audit:export"), {"outcome": "failure"})
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0] == "time,person,connection,action,target,outcome,error,ip,job"
    assert len(lines) == 2 and "da_two" in lines[1] and "boom" in lines[1]


def test_remote_write_helper_records_failure_with_redacted_error(cast, connection):
    with pytest.raises(RuntimeError):
        with audit_remote_write(action="dataset.delete", actor=cast["admin"], connection=connection, target="da_x"):
            raise RuntimeError(f"portal said no to Authorization: apikey {CANARY_KEY}")
    event = AuditEvent.objects.get(action="dataset.delete")
    assert event.outcome == "failure" and CANARY_KEY not in event.error and "[redacted]" in event.error
    with audit_remote_write(action="dataset.publish", actor=cast["admin"], connection=connection, target="da_y"):
        pass
    assert AuditEvent.objects.get(action="dataset.publish").outcome == "success"
