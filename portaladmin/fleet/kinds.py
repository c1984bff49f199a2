"""The `user.offboard` job kind: remove one person from one portal (one item per portal).

First the person's API keys on that portal are revoked (API keys cannot be deleted, FACTS.md), then
DELETE /users/{username}/ — it answers 404 once the user is gone, so a repeat after an unknown outcome is safe
(idempotent: already revoked keys are skipped) and "not found" counts as done. The portal refuses to delete its last domain administrator;
the engine records that refusal (the portal's own message) on the item of that portal.
"""

from __future__ import annotations

from portaladmin.jobs.registry import JobKind, register
from portaladmin.portals.client.errors import PortalAuthError, PortalNotFound
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
        # The person's API keys first: they would keep working after the account is gone on some portals, and
        # revoking them is what matters even where the portal refuses to delete the account (last administrator).
        keys = _revoke_keys_of(client, item.target, item.connection)
        try:
            client.user_delete(item.target)
        except PortalNotFound:
            return {"message": f"No such user on this portal any more (already removed). {keys}".strip()}
        return {"message": f"Removed from this portal. {keys}".strip()}

    def describe(self, count: int) -> str:
        return f"Offboard a person from {count} portal{'s' if count != 1 else ''}"


def _revoke_keys_of(client, username: str, connection) -> str:
    """Revoke every not-yet-revoked API key owned by `username`, except the key this connection itself uses (that
    would cut portaladmin off the portal: said, to be replaced); say what was done or why it could not be."""
    try:
        owned = [key for key in client.apikey_iter() if (key.username or "") == username and not key.is_revoked]
        own_uid = connection.key_uid or ""
        if owned and not own_uid:
            found = client.apikey_search(connection.api_key)
            own_uid = found.uid if found is not None else ""
    except PortalAuthError:
        return "Their API keys could not be listed (the connection's key lacks edit_domain): check them on the portal."
    kept = [key for key in owned if key.uid == own_uid]
    for key in owned:
        if key.uid != own_uid:
            client.apikey_revoke(key.uid, reason=f"Offboarding of {username}")
    revoked = len(owned) - len(kept)
    text = f"{revoked} API key{'s' if revoked != 1 else ''} revoked." if revoked else "No API key of theirs to revoke."
    if kept:
        text += (" The key this connection uses is theirs and was left working: replace it (Connection → "
                 "Replace key), then revoke it.")
    return text
