"""audit_record: the one helper every service calls for every change and every remote write."""

import logging

from portaladmin.audit.models import AuditEvent, Outcome
from portaladmin.core.clientip import client_ip
from portaladmin.core.db import bulk_insert_values
from portaladmin.core.logging import redact

logger = logging.getLogger(__name__)


def audit_record(*, action: str, actor=None, connection=None, target: str = "", outcome: str = Outcome.SUCCESS,
                 error: str | Exception = "", request=None, ip: str | None = None, job_id: int | None = None,
                 extra: dict | None = None) -> AuditEvent:
    """Append one event. Errors are redacted (no keys) and shortened; never pass secrets in extra."""
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    error_text = redact(str(error))[:1000] if error else ""
    event = AuditEvent.objects.create(
        actor=actor,
        actor_name=getattr(actor, "username", "") or (extra or {}).get("username", ""),
        connection=connection,
        connection_name=getattr(connection, "name", ""),
        action=action,
        target=str(target)[:255],
        outcome=outcome if not error_text or outcome != Outcome.SUCCESS else Outcome.FAILURE,
        error=error_text,
        ip=ip or client_ip(request),
        job_id=job_id,
        extra=extra or {},
    )
    logger.info("audit %s %s %s %s", event.action, event.target, event.outcome, event.actor_name)
    return event


def audit_record_many(events: list[dict]) -> int:
    """Several events in one INSERT (e.g. the rows of one bulk request); each dict takes audit_record's arguments
    (action, actor, connection, target, outcome, error, job_id, extra). Errors are redacted the same way.
    Returns how many were written (rows are inserted as values, without building model instances)."""
    rows = []
    for ev in events:
        actor, connection, extra = ev.get("actor"), ev.get("connection"), ev.get("extra") or {}
        error = ev.get("error") or ""
        error_text = redact(str(error))[:1000] if error else ""
        outcome = ev.get("outcome", Outcome.SUCCESS)
        rows.append(dict(
            actor_id=getattr(actor, "pk", None), actor_name=getattr(actor, "username", "") or extra.get("username", ""),
            connection_id=getattr(connection, "pk", None), connection_name=getattr(connection, "name", ""),
            action=ev["action"], target=str(ev.get("target", ""))[:255],
            outcome=outcome if not error_text or outcome != Outcome.SUCCESS else Outcome.FAILURE,
            error=error_text, ip=ev.get("ip"), job_id=ev.get("job_id"), extra=extra))
    bulk_insert_values(AuditEvent, rows)
    if rows:
        logger.info("audit %s × %d", rows[0]["action"], len(rows))
    return len(rows)


def audit_remote_write(*, action: str, actor, connection, target: str = "", request=None, job_id=None,
                       extra: dict | None = None):
    """Context manager for a remote write: records success, or failure with the redacted error, then re-raises."""
    return _RemoteWrite(action=action, actor=actor, connection=connection, target=target, request=request,
                        job_id=job_id, extra=extra)


class _RemoteWrite:
    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None:
            audit_record(**self.kwargs)
        else:
            audit_record(outcome=Outcome.FAILURE, error=exc, **self.kwargs)
        return False
