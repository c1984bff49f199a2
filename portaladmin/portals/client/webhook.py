"""POST a notification to a webhook URL: the one place outside the portal client that sends HTTP, reusing its
transport (explicit timeout, private-network guard with address pinning, no redirects followed).

The receiver verifies `X-Portaladmin-Signature: v1=<hex>` = HMAC-SHA256(secret, "<timestamp>.<body>") with
the timestamp from `X-Portaladmin-Timestamp` (Unix seconds), as Stripe and Slack sign theirs.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

import requests

from .errors import PortalBlockedAddress
from .transport import PinnedAdapter, TimeoutRequiredSession, setting

SIGNATURE_HEADER = "X-Portaladmin-Signature"
TIMESTAMP_HEADER = "X-Portaladmin-Timestamp"


@dataclass(frozen=True)
class WebhookAnswer:
    ok: bool
    status_code: int | None
    error: str  # empty when ok
    permanent: bool = False  # retrying cannot help (blocked address, 4xx other than 408/429)


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def webhook_post(url: str, body: bytes, *, secret: str, timeout: float = 10.0, now: float | None = None,
                 allow_private: bool | None = None) -> WebhookAnswer:
    allow = setting("PORTALS_ALLOW_PRIVATE_NETWORKS") if allow_private is None else allow_private
    timestamp = int(now if now is not None else time.time())
    session = TimeoutRequiredSession()
    adapter = PinnedAdapter(allow_private=lambda: allow, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    headers = {"Content-Type": "application/json", "User-Agent": setting("PORTALS_USER_AGENT"),
               TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: webhook_signature(secret, timestamp, body)}
    try:
        response = session.post(url, data=body, headers=headers, timeout=(min(timeout, 5.0), timeout),
                                allow_redirects=False)
    except PortalBlockedAddress as exc:  # raised by the guard at connect time: nothing was sent
        return WebhookAnswer(False, None, f"Refused: {exc}"[:300], permanent=True)
    except requests.RequestException as exc:
        return WebhookAnswer(False, None, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        session.close()
    code = response.status_code
    if 200 <= code < 300:
        return WebhookAnswer(True, code, "")
    permanent = 400 <= code < 500 and code not in (408, 425, 429)
    return WebhookAnswer(False, code, f"The receiver answered {code}: {response.text[:200]}", permanent=permanent)
