"""A refused request (403) is one log line with its reason, not a traceback, and is printed once."""

import logging

from portaladmin.core.logging import ClientErrorOneLineFilter


def test_forbidden_is_one_line_without_traceback(client_as, cast, connection, caplog):
    caplog.set_level(logging.INFO)
    # given: a viewer pressing an operator's button
    response = client_as(cast["viewer"]).post(f"/c/{connection.slug}/datasets/scan/")
    # then: one django.request record, with the path and the reason, and no traceback
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.WARNING
    assert f"/c/{connection.slug}/datasets/scan/" in record.getMessage()
    assert "operator role" in record.getMessage()
    assert record.exc_info is None and not record.exc_text
    assert "Traceback" not in caplog.text


def test_django_logger_has_no_console_of_its_own():
    """Django's default console handler on "django" also propagated to ours: each record printed twice."""
    handlers = logging.getLogger("django").handlers
    assert not [h for h in handlers if isinstance(h, logging.StreamHandler)]
    assert logging.getLogger("django").propagate


def test_server_errors_keep_their_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s",
                                   ("/x/",), sys.exc_info())
    record.status_code = 500
    assert ClientErrorOneLineFilter().filter(record)
    assert record.exc_info is not None
