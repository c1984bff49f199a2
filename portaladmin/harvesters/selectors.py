"""Read side of harvesters: lists, one harvester, its errors, schedule, previews and attached datasets.

Every function takes the Connection and returns client schemas (or small local dataclasses); no writes here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.cache import cache

from portaladmin.jobs.models import JOB_ACTIVE, Job, JobItem
from portaladmin.portals.client import client_for
from portaladmin.portals.client.schemas import Harvester, HarvesterErrors, HarvesterPreview, Schedule
from portaladmin.portals.models import Connection

HARVESTER_JOB_KINDS = ("harvester.start", "harvester.abort", "harvester.publish", "harvester.unpublish",
                       "harvesters.publish_all", "harvesters.unpublish_all")
ATTACHED_CACHE_SECONDS = 60


class Health:
    OK = "ok"
    ERRORS = "errors"
    RUNNING = "running"
    NEVER = "never"

    LABELS = {OK: "ok", ERRORS: "has errors", RUNNING: "running", NEVER: "never run"}
    BADGES = {OK: "ok", ERRORS: "error", RUNNING: "running", NEVER: "new"}


def harvester_health(harvester: Harvester) -> str:
    if harvester.is_busy or (harvester.status and not harvester.is_idle):
        return Health.RUNNING  # unknown states are treated as busy
    if harvester.status == "new" or not harvester.last_started_at:
        return Health.NEVER
    if harvester.has_error or harvester.resource_errors_count:
        return Health.ERRORS
    return Health.OK


@dataclass
class HarvesterRow:
    harvester: Harvester
    health: str

    @property
    def health_label(self) -> str:
        return Health.LABELS[self.health]

    @property
    def health_badge(self) -> str:
        return Health.BADGES[self.health]


def harvester_rows(harvesters: Iterable[Harvester]) -> list[HarvesterRow]:
    return [HarvesterRow(h, harvester_health(h)) for h in harvesters]


def harvester_list(*, connection: Connection) -> list[HarvesterRow]:
    harvesters = sorted(client_for(connection).harvester_iter(), key=lambda h: (h.name or h.uid).lower())
    return harvester_rows(harvesters)


def harvester_get(*, connection: Connection, uid: str) -> Harvester:
    return client_for(connection).harvester_get(uid)


def harvester_errors(*, connection: Connection, uid: str) -> HarvesterErrors:
    return client_for(connection).harvester_errors(uid)


@dataclass
class ErrorGroup:
    message: str
    remote_ids: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.remote_ids)


def errors_grouped(errors: HarvesterErrors) -> list[ErrorGroup]:
    """Per-resource errors grouped by message, the most frequent first."""
    groups: dict[str, ErrorGroup] = {}
    for remote_id, message in errors.resources.items():
        text = (message or "").strip() or "(no message)"
        groups.setdefault(text, ErrorGroup(text)).remote_ids.append(remote_id)
    for group in groups.values():
        group.remote_ids.sort()
    return sorted(groups.values(), key=lambda g: (-g.count, g.message))


def errors_rows(errors: HarvesterErrors) -> Iterator[list[str]]:
    """The errors as CSV rows (header first), for core.csvout."""
    yield ["scope", "remote_id", "message"]
    if errors.harvester:
        yield ["harvester", "", errors.harvester]
    for remote_id, message in sorted(errors.resources.items()):
        yield ["resource", remote_id, message]


def harvester_schedule(*, connection: Connection, uid: str) -> Schedule | None:
    """A harvester has at most one schedule."""
    page = client_for(connection).harvester_schedule_list(uid, limit=1)
    return page.results[0] if page.results else None


def harvester_preview(*, connection: Connection, uid: str) -> HarvesterPreview:
    return client_for(connection).harvester_preview(uid)


def harvester_remote_ids(*, connection: Connection, uid: str, refresh: bool = False) -> set[str]:
    """The remote ids the harvester's saved configuration lists (its preview; one GET, cached a minute)."""
    key = f"harvesters:remote-ids:{connection.pk}:{uid}"
    ids = None if refresh else cache.get(key)
    if ids is None:
        ids = {str(r.get("id")) for r in client_for(connection).harvester_preview(uid).results
               if isinstance(r, dict) and r.get("id")}
        cache.set(key, ids, ATTACHED_CACHE_SECONDS)
    return ids


@dataclass
class AttachedDatasets:
    rows: list  # DatasetSnapshot rows
    synced_at: object = None  # when the catalogue snapshot was last synced (None: never)
    sync_running: bool = False


def harvester_attached_datasets(*, connection: Connection, uid: str, refresh: bool = False) -> AttachedDatasets:
    """The catalogue's datasets attached to this harvester, from the datasets app's snapshot (no list call).

    The spec gives no harvester → datasets link: a dataset counts as attached when its dataset_id is one of
    the remote ids the harvester's preview lists (harvesters name the datasets they create after the remote
    ids). Datasets removed from the source but kept on the portal are not found this way.
    """
    from portaladmin.datasets.selectors import catalogue_sync_state, snapshot_list

    remote_ids = harvester_remote_ids(connection=connection, uid=uid, refresh=refresh)
    rows = list(snapshot_list(connection=connection, sort="dataset_id").filter(dataset_id__in=remote_ids))
    state = catalogue_sync_state(connection=connection)
    last_ok = state.get("last_ok")
    return AttachedDatasets(rows=rows, synced_at=getattr(last_ok, "finished_at", None),
                            sync_running=bool(state.get("running")))


def forget_attached(*, connection: Connection, uid: str) -> None:
    cache.delete(f"harvesters:remote-ids:{connection.pk}:{uid}")


# --- local job state (never the portal) ------------------------------------------------------------
def harvester_jobs(*, connection: Connection, uid: str, limit: int = 5) -> list[Job]:
    return list(Job.objects.filter(connection=connection, kind__in=HARVESTER_JOB_KINDS, items__target=uid)
                .select_related("started_by").distinct().order_by("-created_at", "-id")[:limit])


def harvester_active_job(*, connection: Connection, uid: str) -> Job | None:
    return (Job.objects.filter(connection=connection, kind__in=HARVESTER_JOB_KINDS, items__target=uid,
                               status__in=JOB_ACTIVE).order_by("-created_at").first())


def job_item_for(job: Job, uid: str) -> JobItem | None:
    return job.items.filter(target=uid).first()


def active_jobs_by_harvester(*, connection: Connection) -> dict[str, Job]:
    items = (JobItem.objects.filter(connection=connection, job__kind__in=HARVESTER_JOB_KINDS,
                                    job__status__in=JOB_ACTIVE).select_related("job"))
    return {item.target: item.job for item in items}
