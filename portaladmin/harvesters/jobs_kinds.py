"""Job kinds for publishing / unpublishing every dataset attached to a harvester, with progress.

The portal answers `publish/` and `unpublish/` of a harvester at once and works in the background; the
harvester object then shows `published_datasets_count` moving towards `attached_datasets_count` (or 0).
These kinds send the one order and let the engine's poller watch those counts, so the job page and the
harvester page show "12 of 40 published" from the database. The portal does not say when the order is over
when some datasets fail to publish: the item ends (as a failure that says so) once the count has not moved
for HARVESTERS_PUBLISH_STALL_MINUTES (default 30).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from portaladmin.jobs.registry import JobKind, RemoteView, parse_since, register


def stall_minutes() -> float:
    return float(getattr(settings, "HARVESTERS_PUBLISH_STALL_MINUTES", 30))


class _PublishAll(JobKind):
    target_noun = "harvester"
    target_page = "harvesters:detail"
    pollable = True
    race_safe_idle = False  # "done" is a count reaching its target, not a state that could be stale
    publish: bool = True

    def perform(self, client, item):
        if self.publish:
            client.harvester_publish(item.target)
        else:
            client.harvester_unpublish(item.target)
        return {"message": "Order accepted; watching the published count."}

    def postcondition(self, item, view: RemoteView) -> bool:
        return view.state == "done"  # every attached dataset (un)published, counted by the portal

    def read_remote(self, client, item) -> RemoteView:
        harvester = client.harvester_get(item.target)
        return self.progress_view(harvester, item.details or {}, now=timezone.now())

    def progress_view(self, harvester, previous: dict, *, now) -> RemoteView:
        total = harvester.attached_datasets_count
        published = harvester.published_datasets_count
        done = published if self.publish else max(total - published, 0)
        verb = "published" if self.publish else "unpublished"
        unchanged_since = previous.get("unchanged_since")
        if previous.get("progress_done") != done or not unchanged_since:
            unchanged_since = now.isoformat()
        details = {"published_datasets_count": published, "attached_datasets_count": total,
                   "harvested_datasets_count": harvester.harvested_datasets_count,
                   "progress_done": done, "progress_total": total, "unchanged_since": unchanged_since}
        message = f"{done} of {total} datasets {verb}."
        if done >= total:
            return RemoteView(state="done", terminal=True, message=message, details=details)
        stalled_for = now - (parse_since(unchanged_since) or now)
        if stalled_for >= timedelta(minutes=stall_minutes()):
            return RemoteView(state="stalled", terminal=True, details=details,
                              message=f"{message} The count has not moved for {int(stalled_for.total_seconds() // 60)} "
                                      f"min: the other datasets did not get {verb} (see their status in the catalogue).")
        return RemoteView(state="publishing" if self.publish else "unpublishing", terminal=False, message=message,
                          details=details)


@register
class HarvesterPublishAll(_PublishAll):
    name = "harvesters.publish_all"
    label = "Publish the datasets of"
    audit_action = "harvester.publish"
    publish = True


@register
class HarvesterUnpublishAll(_PublishAll):
    name = "harvesters.unpublish_all"
    label = "Unpublish the datasets of"
    audit_action = "harvester.unpublish"
    publish = False
