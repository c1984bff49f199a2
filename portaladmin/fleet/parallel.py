"""Bounded fan-out of remote reads over several connections (people look-up, harvester refresh).

At most FLEET_MAX_WORKERS threads; every call has the connection's own client timeouts, and the whole fan-out
waits at most `timeout` seconds per connection batch: a slow portal becomes an error on its own row, never a
hung page. The worker threads only speak HTTP (clients are built beforehand in the calling thread), so they
never touch the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from portaladmin.core.logging import redact
from portaladmin.portals.client import client_for
from portaladmin.portals.client.errors import PortalAuthError, PortalError, PortalTimeout, PortalUnavailable
from portaladmin.portals.models import Connection

logger = logging.getLogger(__name__)


def max_workers() -> int:
    return int(getattr(settings, "FLEET_MAX_WORKERS", 4))


def call_timeout() -> float:
    return float(getattr(settings, "FLEET_CALL_TIMEOUT", 15.0))


@dataclass
class Outcome:
    connection: Connection
    value: Any = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def error_text(exc: BaseException) -> str:
    if isinstance(exc, PortalAuthError):
        prefix = "The portal refused the connection's key"
    elif isinstance(exc, PortalTimeout):
        prefix = "The portal did not answer in time"
    elif isinstance(exc, PortalUnavailable):
        prefix = "The portal is unavailable"
    elif isinstance(exc, PortalError):
        prefix = "The portal answered with an error"
    else:
        prefix = "Unexpected error"
    return redact(f"{prefix}: {exc}")[:500]


def fan_out(connections: list[Connection], call: Callable[[Any], Any], *,
            timeout: float | None = None) -> list[Outcome]:
    """Run call(client) for every connection in parallel (bounded); one Outcome per connection, in order."""
    if not connections:
        return []
    timeout = call_timeout() if timeout is None else timeout
    outcomes = [Outcome(connection=c) for c in connections]
    clients = {}
    for outcome in outcomes:
        try:
            clients[outcome.connection.pk] = client_for(outcome.connection)
        except Exception as exc:  # noqa: BLE001 - e.g. a key that cannot be decrypted
            outcome.error = error_text(exc)
    pool = ThreadPoolExecutor(max_workers=min(max_workers(), len(connections)), thread_name_prefix="fleet")
    futures = {}
    try:
        for outcome in outcomes:
            if not outcome.error:
                futures[pool.submit(call, clients[outcome.connection.pk])] = outcome
        # Each batch of max_workers calls gets `timeout`: the total wait is bounded.
        rounds = -(-len(futures) // max(1, max_workers()))
        done, _pending = wait(futures, timeout=timeout * max(1, rounds))
        for future, outcome in futures.items():
            if future not in done:
                future.cancel()
                outcome.error = f"The portal did not answer within {timeout:.0f} s."
                continue
            try:
                outcome.value = future.result(timeout=0)
            except FutureTimeout:
                outcome.error = f"The portal did not answer within {timeout:.0f} s."
            except Exception as exc:  # noqa: BLE001 - reported on that connection's row
                if not isinstance(exc, PortalError):
                    logger.warning("fleet fan-out on %s failed: %s", outcome.connection.slug, redact(str(exc)))
                outcome.error = error_text(exc)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return outcomes
