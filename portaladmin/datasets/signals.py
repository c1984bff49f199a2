"""Hooks for other apps, dependency-free.

status_changes: sent by the status scan after each batch with `connection`, `changes` (one dict per row whose
status the batch saw change: uid, dataset_id, title, previous, status, since, message, at) and `pass_done`
(True when no row of the connection is left due: the scan pass is over). Re-checks that find the same status
are not changes. Receivers run in the worker after the rows are written; an exception in one is logged, never
raised (the notify app turns error / limit_reached entries into grouped events).
"""

import logging

from django.dispatch import Signal

logger = logging.getLogger(__name__)

status_changes = Signal()


def on_status_changes(*, connection, changes: list[dict], pass_done: bool) -> None:
    for receiver, result in status_changes.send_robust(sender=None, connection=connection, changes=changes,
                                                       pass_done=pass_done):
        if isinstance(result, Exception):
            logger.warning("status_changes receiver %s failed: %s", receiver, result)
