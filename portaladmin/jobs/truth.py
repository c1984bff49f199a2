"""The engine's decision rules, as pure functions: when does a read of the portal prove an item done?

Kept apart from engine.py (which does the database and HTTP work) so that they can be tested over random
sequences of portal answers. Three rules (DESIGN.md decision 9, FACTS.md "Dataset status"):

1. Success only when the kind's postcondition holds in a terminal view (publish: idle AND is_published).
2. A terminal view counts only when it is known to be newer than our order: a busy state was seen since the
   send, or the portal's `since` is later than the portal's own clock at send time. That clock is the `Date`
   header of the portal's answer to the write (whole seconds), never ours: the portal's clock may be minutes
   off, its `since` may be truncated to the second, and the request takes time to arrive. A view that cannot be
   told apart from the state before the order is "not yet", never "done".
3. After a crash (the answer to the write was lost) ask the portal, and compare its `since` with our send time
   converted to the portal's clock through the `Date` of that very read, with margins; what cannot be decided
   either way is "unknown", never "sent".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

ONE_SECOND = timedelta(seconds=1)

WAIT, SUCCEEDED, FAILED = "wait", "succeeded", "failed"


def clock_skew() -> timedelta:
    """How far the portal's clock may be from ours when no `Date` header tells (JOBS_PORTAL_CLOCK_SKEW)."""
    return timedelta(seconds=float(getattr(settings, "JOBS_PORTAL_CLOCK_SKEW", 300.0)))


def time_margin() -> timedelta:
    """Extra margin for comparing portal timestamps (JOBS_PORTAL_TIME_MARGIN): network jitter, proxies."""
    return timedelta(seconds=float(getattr(settings, "JOBS_PORTAL_TIME_MARGIN", 1.0)))


def _whole(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def portal_reference(*, answer_date: datetime | None, answered_at: datetime) -> tuple[datetime, bool]:
    """The portal-clock instant after which a `since` is certainly newer than the order, and whether it comes
    from the portal itself. With the write's `Date` header D (the portal's clock when it answered, truncated to
    the second) the order was applied before D + 1 s; without it, our own clock plus the tolerated skew."""
    if answer_date is not None:
        return _whole(answer_date) + ONE_SECOND, True
    return answered_at + clock_skew() + time_margin(), False


def is_fresh(*, since: datetime | None, reference: datetime | None, seen_busy: bool, race_safe: bool,
             since_is_order_time: bool = False, round_trip: float = 0.0) -> bool:
    """Is a terminal view known to be newer than the order?

    `since_is_order_time`: the kind's `since` is the moment the portal took the order itself (a harvester's
    last_started_at), so it may be up to one round trip (and a truncated second) before the reference.
    """
    if seen_busy or not race_safe:
        return True
    if since is None or reference is None:
        return False
    if since_is_order_time:
        return since >= reference - ONE_SECOND - ONE_SECOND - timedelta(seconds=round_trip) - time_margin()
    return since >= reference


@dataclass(frozen=True)
class Decision:
    outcome: str  # WAIT, SUCCEEDED or FAILED
    message: str = ""


def decide(kind, item, view, *, fresh: bool) -> Decision:
    """What one read means for an item the portal is working on (the engine records it)."""
    if not view.terminal:
        return Decision(WAIT, view.message or "")
    if not fresh:
        return Decision(WAIT, "Sent; the portal still shows the state it had before the order.")
    if kind.postcondition(item, view):
        return Decision(SUCCEEDED, view.message or _done_text(view))
    return Decision(FAILED, kind.failure_message(item, view))


def _done_text(view) -> str:
    published = view.facts.get("is_published")
    if view.state == "idle" and published is not None:
        return "Done: the dataset is published." if published else "Done: the dataset is unpublished."
    state = {"idle": "it ready", "success": "success", "succeeded": "success"}.get(view.state, view.state)
    return f"Done: the portal reports {state}."


SENT, NOT_SENT, UNKNOWN = "sent", "not_sent", "unknown"


def sent_position(*, since: datetime | None, sent_at: datetime, now: datetime, answer_date: datetime | None,
                  round_trip: float) -> str:
    """After a crash: was a terminal state with this `since` entered after our send (SENT), before it
    (NOT_SENT: the order never arrived, or the state would have changed), or can't we tell (UNKNOWN)?

    `answer_date` is the `Date` of the read that returned `since`, received at `now` (our clock) after
    `round_trip` seconds: the portal's clock was in [D, D + 1 s) at some instant of [now - rtt, now], so our
    `sent_at` was, on its clock, in (sent_at + D - now, sent_at + D + 1 s - now + rtt).
    """
    if since is None:
        return UNKNOWN
    margin = time_margin()
    if answer_date is not None:
        offset = _whole(answer_date) - now
        low = sent_at + offset - margin
        high = sent_at + offset + ONE_SECOND + timedelta(seconds=round_trip) + margin
    else:
        low = sent_at - clock_skew() - margin
        high = sent_at + clock_skew() + margin
    if since >= high:
        return SENT
    if since < low:
        return NOT_SENT
    return UNKNOWN
