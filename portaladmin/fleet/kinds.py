"""The `user.offboard` job kind: remove one person from one portal (one item per portal).

DELETE /users/{username}/ answers 404 once the user is gone, so a repeat after an unknown outcome is safe
(idempotent) and "not found" counts as done. The portal refuses to delete its last domain administrator;
the engine records that refusal (the portal's own message) on the item of that portal.
"""

from __future__ import annotations

from portaladmin.jobs.registry import JobKind, register
from portaladmin.portals.client.errors import PortalNotFound
from portaladmin.portals.models import Role

OFFBOARD_KIND = "user.offboard"


@register
class UserOffboard(JobKind):
    name = OFFBOARD_KIND
    label = "Offboard"
    needed_role = Role.ADMIN
    idempotent = True
    target_noun = "account"

    def perform(self, client, item):
        try:
            client.user_delete(item.target)
        except PortalNotFound:
            return {"message": "No such user on this portal any more (already removed)."}
        return {"message": "Removed from this portal."}

    def describe(self, count: int) -> str:
        return f"Offboard a person from {count} portal{'s' if count != 1 else ''}"
