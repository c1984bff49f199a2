"""Hooks for other apps, dependency-free.

connection_health_changed: sent with `connection`, `before`, `after` (Health values), `message` and `at` when a
recorded health differs from the previous one (the Test button, catalogue syncs, pollers). Sent after commit;
an exception in a receiver is logged, never raised.
"""

import logging

from django.dispatch import Signal

logger = logging.getLogger(__name__)

connection_health_changed = Signal()


def on_connection_health_changed(connection, *, before: str, after: str, message: str, at) -> None:
    for receiver, result in connection_health_changed.send_robust(
            sender=type(connection), connection=connection, before=before, after=after, message=message, at=at):
        if isinstance(result, Exception):
            logger.warning("connection_health_changed receiver %s failed: %s", receiver, result)
