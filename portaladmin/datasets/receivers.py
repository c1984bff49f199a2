"""Keeps the snapshot status of busy datasets fresh from the jobs engine (portaladmin.jobs.signals)."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def on_item_remote_state(sender, item, **kwargs) -> None:
    """A dataset job item's remote state changed: copy it onto the snapshot row (no remote call)."""
    from portaladmin.datasets.services import snapshot_apply_status

    kind = getattr(getattr(item, "job", None), "kind", "") or ""
    if not kind.startswith("dataset.") or not item.remote_state:
        return
    details = item.details if isinstance(item.details, dict) else {}
    published = details.get("is_published")
    snapshot_apply_status(connection=item.connection_id, uid=item.target, status=item.remote_state,
                          since=item.remote_since, message=item.message or "",
                          is_published=published if isinstance(published, bool) else None)
