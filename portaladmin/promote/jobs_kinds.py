"""`promote.dataset`: one job, one item per part and per target portal, run as one ordered chain per target.

All the parts of one target are one chunk (claimed together, run in order by perform_chunk): a step reads the
source's part and the target's part just before writing, plans the difference (plan.py) and sends only that,
so a re-run on an unchanged source writes nothing and "Retry failed" repeats only the failed and not-run
steps. A step the target refuses (a PortalError that is not temporary) stops that target's chain there with
the portal's message; the earlier steps stay as they are. Temporary failures (429, 5xx, timeouts) give the
whole chunk back to the engine, which retries it: the steps already done then plan nothing.

The kind is pollable so that the publish step is watched until the dataset is idle: the other steps end at
their first read (no request: their truth is the write answered and read back in the step). The engine's own
freshness rule is switched off (race_safe_idle=False) because only the publish step needs it: that step applies
truth.is_fresh itself, against the `Date` of the portal's answer to the publish.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from portaladmin.jobs import truth
from portaladmin.jobs.kinds import dataset_view
from portaladmin.jobs.registry import ItemResult, JobKind, RemoteView, register
from portaladmin.portals.client.errors import PortalError, PortalRateLimited, PortalUnavailable
from portaladmin.portals.models import Role

KIND = "promote.dataset"
PAGE_KIND = "promote.page"


def _part_label(part: str) -> str:
    from portaladmin.promote.snapshot import PART_LABELS

    return PART_LABELS.get(part, part)


@register
class PromoteDataset(JobKind):
    name = KIND
    label = "Promote"
    target_noun = "step"
    needed_role = Role.ADMIN  # on each TARGET (a promote deletes the target's extra resources, rulesets …)
    chunk_size = 50  # every step of one target in one chunk: run in order, stopped at the first refusal
    pollable = True
    race_safe_idle = False  # see the module docstring: the publish step checks freshness itself
    idempotent = True  # every step re-reads and plans: sending again after an unknown outcome repeats nothing

    def describe(self, count: int) -> str:
        return f"Promote ({count} step{'s' if count != 1 else ''})"

    def perform_chunk(self, client, items: list) -> dict[int, ItemResult]:
        from portaladmin.promote.services import run_steps

        return run_steps(target_client=client, items=items)

    # --- watching ----------------------------------------------------------------------------
    def read_remote(self, client, item) -> RemoteView:
        if item.payload.get("part") != "publication" or not item.details.get("publish_sent"):
            return RemoteView(state="done", terminal=True, message=item.message, facts={"done": True})
        view = dataset_view(client.dataset_status(item.details["target_uid"]))
        if not view.terminal:
            view.details["busy_seen"] = True
            return view
        if not item.details.get("busy_seen") and not self._fresh(item, view):
            if item.sent_at and timezone.now() - item.sent_at > _stale_limit():
                view.facts["stale"] = True  # the postcondition fails: the portal never showed it acted
                return view
            return RemoteView(state=view.state, terminal=False, since=view.since,
                              message="Publish sent; the portal still shows the state it had before the order.")
        return view

    @staticmethod
    def _fresh(item, view) -> bool:
        answer = item.details.get("publish_date")
        answer_date = datetime.fromisoformat(answer) if answer else None
        reference, _ = truth.portal_reference(answer_date=answer_date, answered_at=item.sent_at or timezone.now())
        return truth.is_fresh(since=view.since, reference=reference, seen_busy=False, race_safe=True)

    def postcondition(self, item, view: RemoteView) -> bool:
        if view.facts.get("done"):
            return True
        return view.state == "idle" and view.facts.get("is_published") is True and not view.facts.get("stale")

    def failure_message(self, item, view: RemoteView) -> str:
        if view.facts.get("stale"):
            return "The portal never showed that it started publishing the promoted dataset."
        if view.state == "idle":
            return "The portal ended idle, but the promoted dataset is not published."
        return view.message or f"Publishing the promoted dataset ended in {view.state}."


@register
class PromotePage(JobKind):
    """`promote.page`: a studio or code editor page, one item per part (page, access rules, publication) and per
    target, run in order by the dataset promote's chain runner (services.run_chain). Not pollable: a page's
    writes take effect when answered (a studio page's publish included)."""

    name = PAGE_KIND
    label = "Promote page"
    target_noun = "step"
    needed_role = Role.ADMIN  # on each TARGET (a promote removes the target's extra access rules)
    chunk_size = 50  # every step of one target in one chunk, in order
    idempotent = True  # every step re-reads both pages and sends only the difference

    def describe(self, count: int) -> str:
        return f"Promote page ({count} step{'s' if count != 1 else ''})"

    def perform_chunk(self, client, items: list) -> dict[int, ItemResult]:
        from portaladmin.promote.services import run_page_steps

        return run_page_steps(target_client=client, items=items)


def _stale_limit():
    from portaladmin.jobs.engine import stale_limit

    return stale_limit()


TRANSIENT = (PortalRateLimited, PortalUnavailable)
__all__ = ["KIND", "PAGE_KIND", "PromoteDataset", "PromotePage", "TRANSIENT", "PortalError"]
