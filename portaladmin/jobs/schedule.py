"""When to read an item's remote state next, and which due items to read first: pure rules, no clock of their own.

The poller cannot read every item every tick (a portal gets `request_budget` requests per tick), so it spends
reads where they find an end soonest (issue 23):

- **Someone is watching** the job (its page or progress fragment polled in the last JOBS_WATCH_SECONDS): read
  its items every tick, and before the others.
- **Learned end**: a dataset's own past publishes say how long it takes (`expected_seconds`); reads are sparse
  before that expected end, dense in a window around it, and back to the general rule after it. Without a past of
  its own, the items of the same job that already finished predict it when they agree (`expected_from_peers`).
- **General rule** (no history): the gap between reads is at most JOBS_POLL_LAG_SHARE (10 %) of the processing
  time so far, minus one tick: the end is seen within 10 % of the time it took, never an hour-long blind spot.
- **Order when reads are short**: aborts of a cancelled job first (they stop work), then watched jobs, then items
  the cheap dataset list says changed (a hint, never proof: success still needs a status read, truth.py), then
  the item most overdue against its expected end, then the longest-due. The oldest item is not served first
  just because it is the oldest.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

# Ranks of due items; lower is read first.
RANK_CANCEL, RANK_WATCHED, RANK_HINTED, RANK_OTHER = 0, 1, 2, 3

WINDOW_SHARE = 0.10  # the dense window spans the expected end ± 10 % (+ a couple of seconds)
WINDOW_PAD = 2.0
DENSE_SHARE = 0.02  # inside the window, one read per 2 % of the expected duration (at least the first delay)
HISTORY = 5  # past durations considered per dataset


@dataclass(frozen=True)
class Knobs:
    first: float = 2.0  # shortest gap between reads of an unwatched item
    tick: float = 2.0  # the poll tick: a read falls due up to one tick late
    cap: float = 60.0  # longest gap for the general rule
    lag_share: float = 0.10  # the gap is at most this share of the processing time so far
    watched: float = 3.0  # gap while someone watches: every other 2-s tick, the end shows within ~4 s
    slow_after: float = 3600.0  # hours-long processing: a read every few minutes is plenty

    @classmethod
    def from_settings(cls) -> Knobs:
        return cls(first=float(getattr(settings, "JOBS_POLL_FIRST_DELAY", 2.0)),
                   tick=float(getattr(settings, "JOBS_POLL_INTERVAL", 2.0)),
                   cap=float(settings.JOBS_POLL_BACKOFF_CAP),
                   lag_share=float(getattr(settings, "JOBS_POLL_LAG_SHARE", 0.10)),
                   watched=float(getattr(settings, "JOBS_WATCHED_POLL_SECONDS", 3.0)),
                   slow_after=float(getattr(settings, "JOBS_POLL_SLOW_AFTER", 3600.0)))


def expected_seconds(durations: Iterable[float]) -> float | None:
    """The expected processing time from a dataset's past ones (most recent first): the median of the last few."""
    recent = [d for d in durations if d is not None and d > 0][:HISTORY]
    return statistics.median(recent) if recent else None


PEERS_MIN = 5  # finished items of the same job on the same portal before they predict the others
PEERS_SPREAD = 0.2  # ... and only when they took about the same time: (p90 - p10) / median at most this


def expected_from_peers(durations: Iterable[float]) -> float | None:
    """No history of its own: the items of the same job that already finished predict an item's time only when
    they agree (a bulk publish of similar datasets); a wide spread predicts nothing, and the general rule stays."""
    known = sorted(d for d in durations if d is not None and d > 0)
    if len(known) < PEERS_MIN:
        return None
    middle = statistics.median(known)
    low, high = known[int(0.1 * (len(known) - 1))], known[int(round(0.9 * (len(known) - 1)))]
    return middle if middle > 0 and (high - low) / middle <= PEERS_SPREAD else None


def past_duration(*, sent_at: datetime | None, finished_at: datetime | None, portal_sent_at: datetime | None,
                  remote_since: datetime | None) -> float | None:
    """How long one past order took. On the portal's clock when it told us both ends (its `Date` when it took
    the order, the `since` of the final state): our finished_at includes our own detection lag."""
    if portal_sent_at and remote_since and remote_since >= portal_sent_at:
        return (remote_since - portal_sent_at).total_seconds()
    if sent_at and finished_at and finished_at >= sent_at:
        return (finished_at - sent_at).total_seconds()
    return None


def general_delay(elapsed: float, k: Knobs) -> float:
    """No history: a gap of at most lag_share of the time so far (minus the tick's own lateness)."""
    delay = min(k.cap, max(k.first, k.lag_share * elapsed - k.tick))
    if elapsed > k.slow_after:
        delay = max(delay, min(k.cap * 5, elapsed / 20))
    return delay


def window(expected: float) -> tuple[float, float]:
    """Seconds after the send between which the end is expected."""
    return (max(0.0, expected * (1 - WINDOW_SHARE) - WINDOW_PAD), expected * (1 + WINDOW_SHARE) + WINDOW_PAD)


def next_delay(*, elapsed: float, expected: float | None = None, watched: bool = False,
               knobs: Knobs | None = None) -> float:
    """Seconds from now until the next status read of an item sent `elapsed` seconds ago."""
    k = knobs or Knobs()
    delay = _unwatched_delay(elapsed, expected, k)
    return min(delay, k.watched) if watched else delay


def _unwatched_delay(elapsed: float, expected: float | None, k: Knobs) -> float:
    base = general_delay(elapsed, k)
    if not expected:
        return base
    low, high = window(expected)
    if elapsed < low:
        # Before the window: sparser than the general rule (the gap grows by half the time so far, at most half the
        # distance to the window), so an end far earlier than expected is still seen within half the time so far;
        # and land on the window's start.
        ahead = low - elapsed
        return max(min(ahead, max(base, min(ahead / 2, 0.5 * elapsed))), min(k.first, ahead), 0.5)
    if elapsed <= high:
        return max(k.first, DENSE_SHARE * expected)
    return base


def rank(*, cancelling: bool, watched: bool, hinted: bool) -> int:
    if cancelling:
        return RANK_CANCEL
    if watched:
        return RANK_WATCHED
    if hinted:
        return RANK_HINTED
    return RANK_OTHER


def sort_key(*, now: datetime, cancelling: bool, watched: bool, hinted: bool, expected_end: datetime | None,
             next_poll_at: datetime, item_id: int) -> tuple:
    """The order in which due items are read (the tick applies the same order in SQL: engine.poll_order)."""
    return (rank(cancelling=cancelling, watched=watched, hinted=hinted), expected_end or next_poll_at, item_id)


# --- which part of the portal's dataset list a hint reads -----------------------------------------------------
LIST_PAGE = 1000  # the list's largest page
LIST_DRIFT = 50  # a window starts this far before the first place it must cover: the list moved since the sync


def list_windows(positions: Iterable[int | None], *, size: int = LIST_PAGE, drift: int = LIST_DRIFT) -> list[int]:
    """The offsets of few `size`-long windows of the portal's dataset list that hold every given place (a
    dataset's list_position at the last sync) with `drift` to spare on both sides, so a dataset still shows when
    up to `drift` datasets were added or removed before it since the sync. None (a dataset the sync has not
    placed, e.g. created since) counts as 0: the first page, all that was read before places were kept; such a
    dataset is read on its own schedule when it is not there."""
    windows: list[int] = []
    end = -1
    for place in sorted({p if p is not None else 0 for p in positions}):
        if place < end - drift:
            continue
        start = max(0, place - drift)
        windows.append(start)
        end = start + size
    return windows


def next_window(windows: list[int], last: int | None) -> int:
    """The window a hint reads after the one at `last`: the next one further down the list, back to the first after
    the last one. A sweep down the list, so each window holding a waiting dataset is read once per sweep even as
    the windows move while datasets end (only the first 1,000 were ever read before places were kept)."""
    if not windows:
        return 0
    return next((start for start in windows if last is not None and start > last), windows[0])
