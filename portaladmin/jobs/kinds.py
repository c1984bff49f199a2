"""The dataset and harvester job kinds. Other apps register theirs the same way (see README.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from portaladmin.jobs.registry import JobKind, RemoteView, parse_since, register
from portaladmin.portals.models import Role

HINT_MARGIN = timedelta(seconds=1)


class Listed(NamedTuple):
    """What the cheap dataset list says of one dataset (a hint for the poller, never proof)."""

    is_published: bool | None
    updated_at: datetime | None


def _record_errors(status) -> list[dict]:
    errors = []
    for err in getattr(status, "records_errors", None) or []:
        if isinstance(err, dict):
            errors.append({k: err.get(k) for k in ("record_id", "field_uid", "processor_uid", "message")})
        else:
            errors.append({k: getattr(err, k, None) for k in ("record_id", "field_uid", "processor_uid", "message")})
    return errors


def dataset_view(status) -> RemoteView:
    """Turn a client DatasetStatus into a RemoteView. Unknown states are busy (FACTS.md)."""
    state = status.status or "unknown"
    terminal = bool(status.is_terminal)
    details: dict = {}
    message = status.message or ""
    errors = _record_errors(status)
    if errors:
        details["records_errors"] = errors
    if state == "limit_reached":
        limit = (status.params or {}).get("error") or {}
        if limit:
            details["limit"] = limit
            message = message or (f"Licence limit reached: {limit.get('limit_type', 'records')} "
                                  f"{limit.get('value', '?')} of {limit.get('limit', '?')}")
        message = message or "Licence limit reached."
    elif state == "error" and not message:
        message = "The portal reported an error while processing."
    if status.is_published is not None:
        details["is_published"] = status.is_published
    return RemoteView(state=state, terminal=terminal, since=parse_since(status.since), message=message,
                      details=details, facts={"is_published": status.is_published})


class _DatasetKind(JobKind):
    pollable = True
    paced = True
    target_noun = "dataset"
    target_page = "datasets:detail"
    wants_published: bool | None = True  # the is_published an `idle` must show (None: either)

    def postcondition(self, item, view: RemoteView) -> bool:
        if view.state != "idle":
            return False
        return self.wants_published is None or view.facts.get("is_published") is self.wants_published

    def failure_message(self, item, view: RemoteView) -> str:
        if view.state == "idle" and self.wants_published is not None:
            if view.facts.get("is_published") is None:
                return "The portal ended idle without saying whether the dataset is published."
            return ("The portal ended idle, but the dataset is not published." if self.wants_published
                    else "The portal ended idle, but the dataset is still published.")
        return super().failure_message(item, view)

    def read_remote(self, client, item) -> RemoteView:
        return dataset_view(client.dataset_status(item.target))

    list_hints = True

    def hint_listing(self, client, *, offset: int = 0) -> dict:
        # The list answer has no status, but `is_published` flips when a publish or unpublish ends (FACTS.md), and a
        # portal that moves `updated_at` when processing ends shows the end of a re-publish or a metadata publish
        # too. Neither is promised: without them the items are read on their schedule.
        return {d.uid: Listed(d.is_published, parse_since(d.updated_at))
                for d in client.dataset_list(limit=1000, offset=offset).results}

    def hint_changed(self, item, facts: Listed) -> bool:
        """The list suggests the order ended after the last status read: the published flag the order asks for
        while that read showed the other one, or an `updated_at` later than both the order and the start of the
        state that read showed (portal clock, a second's margin for whole-second stamps). Items not read yet get
        no hint; a false one costs one read."""
        last = (item.details or {}).get("is_published")
        if (self.wants_published is not None and facts.is_published is self.wants_published and last is not None
                and last is not self.wants_published):
            return True
        if facts.updated_at is None or item.remote_since is None:
            return False
        seen = getattr(item, "hint_listed_at", None)
        if seen is not None and facts.updated_at <= seen:
            return False  # this very updated_at hinted once already and the read after it showed no end
        after_state = facts.updated_at >= item.remote_since + HINT_MARGIN
        return after_state and (item.portal_sent_at is None or facts.updated_at >= item.portal_sent_at)

    def abort(self, client, item) -> None:
        client.dataset_abort(item.target)


@register
class DatasetPublish(_DatasetKind):
    name = "dataset.publish"
    label = "Publish"
    can_abort = True

    def perform(self, client, item):
        client.dataset_publish(item.target)


@register
class DatasetUnpublish(_DatasetKind):
    name = "dataset.unpublish"
    label = "Unpublish"
    wants_published = False

    def perform(self, client, item):
        client.dataset_unpublish(item.target)


@register
class DatasetPublishMetadata(_DatasetKind):
    name = "dataset.publish_metadata"
    label = "Publish metadata of"
    wants_published = None  # metadata processing ends idle; it does not change whether the data is published
    can_abort = True

    def perform(self, client, item):
        client.dataset_publish_metadata(item.target)


@register
class DatasetDelete(JobKind):
    """Delete a dataset (admin). Done when the portal no longer has it: a 404 on the delete means it is already
    gone, which is the postcondition, so a repeat after a crash is harmless (idempotent)."""

    name = "dataset.delete"
    label = "Delete"
    target_noun = "dataset"
    needed_role = Role.ADMIN
    idempotent = True

    def perform(self, client, item):
        from portaladmin.portals.client.errors import PortalNotFound

        try:
            client.dataset_delete(item.target)
        except PortalNotFound:
            return {"message": "It was already gone from the portal."}
        return {"message": "Deleted."}


@register
class DatasetAbort(_DatasetKind):
    name = "dataset.abort"
    label = "Abort processing of"
    race_safe_idle = False  # the state before an abort is busy, so any terminal state after it is fresh
    list_hints = False  # the published flag says nothing about an abort's end

    def perform(self, client, item):
        client.dataset_abort(item.target)

    def postcondition(self, item, view: RemoteView) -> bool:
        return view.terminal  # processing stopped, whatever the dataset's state now

    def read_remote(self, client, item) -> RemoteView:
        view = dataset_view(client.dataset_status(item.target))
        if view.terminal:
            view.message = f"Processing stopped; the dataset is {view.state}." + (
                f" {view.message}" if view.message else "")
        return view


def harvester_view(client, harvester, *, check_errors: bool = True) -> RemoteView:
    state = harvester.status or "unknown"
    terminal = bool(harvester.is_idle)
    message = ""
    details = {
        "harvested_datasets_count": harvester.harvested_datasets_count,
        "published_datasets_count": harvester.published_datasets_count,
        "resource_errors_count": harvester.resource_errors_count,
        "has_error": bool(harvester.has_error),  # kept on the item: "harvester run with errors" (notify)
    }
    if terminal and harvester.has_error and check_errors:
        try:
            errors = client.harvester_errors(harvester.uid)
            message = errors.harvester or "The harvester's last run hit an error."
            if errors.resources:
                details["resource_errors"] = dict(list(errors.resources.items())[:50])
        except Exception:  # noqa: BLE001 - the state is known; the error text is a bonus
            message = "The harvester's last run hit an error."
    elif terminal and harvester.resource_errors_count:
        message = f"{harvester.resource_errors_count} resource error(s)."
    return RemoteView(state=state, terminal=terminal, since=parse_since(harvester.last_started_at),
                      message=message, details=details, facts={"has_error": bool(harvester.has_error)})


class _HarvesterKind(JobKind):
    target_noun = "harvester"
    paced = True
    target_page = "harvesters:detail"

    def read_remote(self, client, item) -> RemoteView:
        return harvester_view(client, client.harvester_get(item.target))


@register
class HarvesterStart(_HarvesterKind):
    name = "harvester.start"
    label = "Start"
    pollable = True
    can_abort = True
    since_is_order_time = True  # last_started_at is the moment the portal took our start order

    def perform(self, client, item):
        client.harvester_start(item.target)

    def postcondition(self, item, view: RemoteView) -> bool:
        return view.state == "idle" and view.facts.get("has_error") is False  # the run ended without an error

    def failure_message(self, item, view: RemoteView) -> str:
        return view.message or "The harvester's last run hit an error."

    def abort(self, client, item) -> None:
        client.harvester_abort(item.target)


@register
class HarvesterAbort(_HarvesterKind):
    name = "harvester.abort"
    label = "Abort"
    pollable = True
    race_safe_idle = False

    def perform(self, client, item):
        client.harvester_abort(item.target)

    def postcondition(self, item, view: RemoteView) -> bool:
        return view.terminal  # the harvester stopped

    def read_remote(self, client, item) -> RemoteView:
        view = harvester_view(client, client.harvester_get(item.target), check_errors=False)
        if view.terminal:
            view.message = "The harvester stopped."
        return view


class _HarvesterOrder(_HarvesterKind):
    # The portal publishes the harvested datasets in the background and the harvester's own status
    # does not say when that ends: the item is done when the order is accepted (and says so).
    pollable = False

    def done_message(self) -> str:
        return "Order accepted; the portal processes the harvested datasets in the background."


@register
class HarvesterPublish(_HarvesterOrder):
    name = "harvester.publish"
    label = "Publish the datasets of"

    def perform(self, client, item):
        client.harvester_publish(item.target)
        return {"message": self.done_message()}


@register
class HarvesterUnpublish(_HarvesterOrder):
    name = "harvester.unpublish"
    label = "Unpublish the datasets of"

    def perform(self, client, item):
        client.harvester_unpublish(item.target)
        return {"message": self.done_message()}
