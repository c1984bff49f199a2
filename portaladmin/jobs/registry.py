"""The registry of job kinds: what one item's action is, how to read its remote state, when it is done.

A kind is a small class registered under a name ("dataset.publish"). The engine (portaladmin.jobs.engine)
does everything else: claiming, leases, attempts, audit, permissions, polling, backoff, deadlines.
See portaladmin/jobs/README.md for how to write one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from django.urls import NoReverseMatch, reverse
from django.utils.dateparse import parse_datetime

from portaladmin.portals.models import Role


@dataclass
class RemoteView:
    """What one read of the portal says about one item, in the engine's terms.

    A view carries facts, never a verdict: whether the item succeeded is the kind's `postcondition(view)`,
    applied by the engine alone, and only to a terminal view known to be newer than the send.
    """

    state: str  # the remote state name, shown in the UI (e.g. "processing")
    terminal: bool  # the portal is done with it (success or failure)
    since: datetime | None = None  # when the portal entered this state, on the PORTAL's clock, if it says
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)  # what postconditions read: is_published, has_error …


@dataclass
class ItemResult:
    """The answer for one item of a chunked action (e.g. one e-mail of a bulk invite)."""

    ok: bool
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


class Verdict:
    """Outcome of checking an item whose previous send ended in an unknown state (crash, timeout)."""

    SENT = "sent"  # the portal got it: do not send again, watch it
    NOT_SENT = "not_sent"  # the portal never acted on it: safe to send
    UNKNOWN = "unknown"  # cannot tell
    ALREADY_TRUE = "already_true"  # what the action would do was already true before we sent: the portal refused it


class JobKind:
    """Base class of a job kind. Override the class attributes and the methods the kind needs."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""  # a verb for people: "Publish"
    audit_action: ClassVar[str] = ""  # defaults to name
    needed_role: ClassVar[Role] = Role.OPERATOR  # re-checked in the worker against who started the job
    chunk_size: ClassVar[int] = 1  # >1: items are claimed and sent in groups through perform_chunk()
    pollable: ClassVar[bool] = False  # after the action, the poller watches read_remote() until terminal
    # The portal works on the order for a while and each end needs a status read: the sends share the portal's
    # request budget with those reads, the tick ringing them (engine.paced; publishes, harvester runs).
    paced: ClassVar[bool] = False
    race_safe_idle: ClassVar[bool] = True  # a terminal state counts only if fresh (busy seen, or since > sent)
    since_is_order_time: ClassVar[bool] = False  # `since` is when the portal took the order (harvester start)
    idempotent: ClassVar[bool] = False  # safe to send again when the previous outcome is unknown
    can_abort: ClassVar[bool] = False  # cancel() calls abort() for items the portal is processing
    deadline_hours: ClassVar[float | None] = None  # None: settings.JOBS_ITEM_DEADLINE_HOURS
    target_noun: ClassVar[str] = "item"  # "dataset", "e-mail", "harvester"
    target_page: ClassVar[str] = ""  # the URL name of the target's page (kwargs conn + target_kwarg), if any
    target_kwarg: ClassVar[str] = "uid"

    def retry_can_help(self, item) -> bool:
        """Whether sending a failed item again could end differently (False: the portal would refuse it the
        same way, e.g. inviting an address that already was a member). "Retry failed" offers only the others."""
        return True

    # --- links --------------------------------------------------------------------------------
    def target_url(self, item) -> str:
        """The item's target's page in portaladmin ('' when it has none, or the target cannot be in a URL)."""
        if not self.target_page or not item.connection_id:
            return ""
        try:
            return reverse(self.target_page, kwargs={"conn": item.connection.slug, self.target_kwarg: item.target})
        except NoReverseMatch:
            return ""

    # --- the action ---------------------------------------------------------------------------
    def perform(self, client, item) -> dict | None:
        """Send the remote write for one item. Raise a PortalError on failure. May return details."""
        raise NotImplementedError

    def perform_chunk(self, client, items: list) -> dict[int, ItemResult]:
        """Chunked kinds: send one request for `items`, return {item.pk: ItemResult} for every item."""
        raise NotImplementedError

    # --- the remote state ---------------------------------------------------------------------
    def read_remote(self, client, item) -> RemoteView:
        """Pollable kinds: one GET that says where the item is."""
        raise NotImplementedError

    def postcondition(self, item, view: RemoteView) -> bool:
        """Pollable kinds: what must hold on the portal, in a terminal view, for the item to have succeeded
        (e.g. publish: idle AND is_published). Stated once here; the engine alone applies it."""
        raise NotImplementedError

    def failure_message(self, item, view: RemoteView) -> str:
        """Why a terminal view that breaks the postcondition is a failure, in the portal's words when it has any."""
        return view.message or f"The portal ended in {view.state}."

    def verify_unsent(self, client, item) -> str:
        """Non-pollable kinds: the previous attempt crashed between 'about to send' and 'answer recorded': did
        the portal act? (Pollable kinds are checked by the engine from read_remote and the portal's clock.)"""
        return Verdict.UNKNOWN

    def before_send(self, client, items: list) -> dict[int, dict]:
        """Optional: facts to read from the portal before sending, kept with each item (committed with
        `action_sent`) so that a check after a crash can tell 'true before we sent' from 'true because of us'."""
        return {}

    def already_true_message(self, item) -> str:
        return "It was already so on the portal before it was sent."

    def abort(self, client, item) -> None:
        raise NotImplementedError

    # --- scheduling hints (schedule.py) ------------------------------------------------------
    # A kind whose targets a cheap list request can summarise (datasets: limit=1000 gives is_published for up to
    # 1,000) sets list_hints; the poller then reads first the items that list says likely changed. A hint only
    # orders the reads: success still comes from read_remote and the postcondition.
    list_hints: ClassVar[bool] = False

    def hint_listing(self, client, *, offset: int = 0) -> dict[str, Any]:
        """One request: {target: facts} for the portal's targets from `offset` on in its list (only for kinds with
        list_hints; the engine picks the offset: schedule.list_windows)."""
        return {}

    def hint_changed(self, item, facts: Any) -> bool:
        """Whether `facts` from the listing suggest the item's remote state moved since its last read."""
        return False

    def describe(self, count: int) -> str:
        noun = self.target_noun if count == 1 else self.target_noun + "s"
        return f"{self.label} {count} {noun}"


_REGISTRY: dict[str, JobKind] = {}


def register(cls: type[JobKind]) -> type[JobKind]:
    """Class decorator: @register on a JobKind subclass makes it available under cls.name."""
    if not cls.name:
        raise ValueError("A job kind needs a name.")
    if not cls.audit_action:
        cls.audit_action = cls.name
    _REGISTRY[cls.name] = cls()
    return cls


def get_kind(name: str) -> JobKind:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise LookupError(f"Unknown job kind {name!r}") from None


def kinds() -> dict[str, JobKind]:
    return dict(_REGISTRY)


def parse_since(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        parsed = parse_datetime(str(value))
    except ValueError:
        return None
    if parsed is not None and parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed
