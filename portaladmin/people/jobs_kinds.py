"""Chunked job kinds of the people app: bulk invites and batch adds to a group.

Registered from PeopleConfig.ready(). The engine (portaladmin.jobs.engine) claims one chunk of items,
reads the portal's members once for the chunk (`before_send`: who already was a member BEFORE we sent),
commits that with `action_sent` before the POST and records each row's answer. When a chunk is redelivered
after a crash in the window between "about to send" and "answer recorded", `verify_unsent` asks the portal for
each row before anything is sent again: an address that became a member after we sent was invited by us
(success, not sent twice); one that already was a member before stays a failure (the portal refuses to invite
existing members); the others are sent.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode

from portaladmin.jobs.registry import ItemResult, JobKind, Verdict, register
from portaladmin.portals.models import Role


def _results(items: list, answers: list) -> dict[int, ItemResult]:
    """Map the portal's per-position answers back to the items, in the order they were sent."""
    by_index = {answer.index: answer for answer in answers}
    results: dict[int, ItemResult] = {}
    for position, item in enumerate(items):
        answer = by_index.get(position)
        if answer is None:
            continue  # the engine records "the portal's answer did not mention this item"
        if answer.ok:
            # no per-row details on success: the engine records a chunk's successes with one UPDATE
            results[item.pk] = ItemResult(ok=True, message="")
        else:
            error = answer.error if isinstance(answer.error, dict | str | list) else str(answer.error)
            results[item.pk] = ItemResult(ok=False, message=answer.message or "The portal refused it.",
                                          details={"portal_error": error})
    return results


def find_member(client, email: str):
    """The portal's user with exactly this e-mail (case-insensitive), or None. One GET with `search`."""
    wanted = email.strip().lower()
    page = client.user_list(search=email.strip(), limit=100)
    for user in page.results:
        if (user.email or "").strip().lower() == wanted:
            return user
    return None


@register
class UserInvite(JobKind):
    name = "user.invite"
    label = "Invite"
    audit_action = "user.invite"
    needed_role = Role.OPERATOR
    target_noun = "e-mail"
    deadline_hours = 6.0

    def target_url(self, item) -> str:
        """The portal's users found by this address (the username is the portal's choice, unknown here)."""
        if not item.connection_id:
            return ""
        return reverse("people:users", kwargs={"conn": item.connection.slug}) + "?" + urlencode({"search": item.target})

    @property
    def chunk_size(self) -> int:  # read at use, so settings overrides apply
        return max(1, int(settings.INVITE_CHUNK_SIZE))

    def perform_chunk(self, client, items: list) -> dict[int, ItemResult]:
        answers = client.user_invite([item.payload or {"email": item.target} for item in items])
        results = _results(items, answers)
        for result in results.values():
            if result.ok and not result.message:
                result.message = "Invited."
        return results

    def before_send(self, client, items: list) -> dict[int, dict]:
        """One walk of the portal's users per chunk (1,000 per request): who is a member before we send."""
        members = set(client.user_emails(page_size=1000))
        return {item.pk: {"member_before_send": item.target.strip().lower() in members} for item in items}

    def verify_unsent(self, client, item) -> str:
        if find_member(client, item.target) is None:
            return Verdict.NOT_SENT
        if item.details.get("member_before_send") is True:
            return Verdict.ALREADY_TRUE
        if item.details.get("member_before_send") is False:
            return Verdict.SENT
        return Verdict.UNKNOWN  # a member now, and nothing recorded about before: cannot tell who did it

    def retry_can_help(self, item) -> bool:
        return item.details.get("member_before_send") is not True  # a member stays a member: same refusal

    def already_true_message(self, item) -> str:
        return ("Not invited: this address was already a member of the portal before the invite was sent "
                "(the portal refuses to invite existing members).")


@register
class GroupBatchAdd(JobKind):
    name = "group.batch_add"
    label = "Add to the group"
    audit_action = "group.member_add"
    needed_role = Role.OPERATOR
    target_noun = "user"
    target_page, target_kwarg = "people:user", "username"
    deadline_hours = 6.0

    @property
    def chunk_size(self) -> int:
        return max(1, int(settings.INVITE_CHUNK_SIZE))

    @staticmethod
    def group_uid(item) -> str:
        return (item.payload or {}).get("group_uid") or item.job.params["group_uid"]

    def perform_chunk(self, client, items: list) -> dict[int, ItemResult]:
        group_uid = self.group_uid(items[0])
        answers = client.group_member_batch_add(group_uid, [item.target for item in items])
        results = _results(items, answers)
        for result in results.values():
            if result.ok and not result.message:
                result.message = "Added to the group."
        return results

    def verify_unsent(self, client, item) -> str:
        from portaladmin.portals.client.errors import PortalNotFound

        try:
            user = client.user_get(item.target)
        except PortalNotFound:
            return Verdict.NOT_SENT  # the portal will answer the real error when it is sent
        uid = self.group_uid(item)
        return Verdict.SENT if any(g.get("uid") == uid for g in user.groups) else Verdict.NOT_SENT

    def describe(self, count: int) -> str:
        return f"Add {count} user{'s' if count != 1 else ''} to a group"
