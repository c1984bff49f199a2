"""A secret shown once, on the page a POST redirects to (Post/Redirect/Get).

The POST that makes the secret (a renewed push key …) keeps it here and redirects; the GET page takes it: the
first display pops it, so a reload, the back button or a second tab finds nothing and says so. It is never put
in a URL, a message or a log. It waits in the session (stored in the database) encrypted with the key-encryption
keys, never in clear, and for at most ONCE_TTL seconds: a secret nobody came to read does not linger.
"""

from __future__ import annotations

import time

from django.http import HttpRequest

from portaladmin.core.crypto import KeyDecryptionError, decrypt_secret, encrypt_secret

SESSION_KEY = "_shown_once"
ONCE_TTL = 300  # seconds between the POST and its GET: a redirect takes milliseconds, a slow network a few seconds


def once_keep(request: HttpRequest, *, slot: str, secret: str) -> None:
    """Keep `secret` for one display under `slot` (name it after what it is for: `push_key:<dataset>:<resource>`)."""
    now = time.time()
    pending = {k: v for k, v in request.session.get(SESSION_KEY, {}).items() if now - v.get("at", 0) < ONCE_TTL}
    pending[slot] = {"token": encrypt_secret(secret), "at": now}
    request.session[SESSION_KEY] = pending


def once_take(request: HttpRequest, *, slot: str) -> str | None:
    """The secret kept under `slot`, removed as it is read; None when it was already shown, expired or never kept."""
    pending = dict(request.session.get(SESSION_KEY, {}))
    entry = pending.pop(slot, None)
    if entry is None:
        return None
    request.session[SESSION_KEY] = pending
    if time.time() - entry.get("at", 0) >= ONCE_TTL:
        return None
    try:
        return decrypt_secret(entry["token"])
    except (KeyDecryptionError, KeyError, TypeError):
        return None
