"""Background refresh of the harvester snapshot (see fleet/models.py for why it is a snapshot).

Ids only; both tasks are idempotent reads of the portals (acks_late is safe). The beat entry is registered
here, next to the task, so the fleet app owns its schedule: every FLEET_HARVESTER_REFRESH_MINUTES.
"""

from celery import shared_task
from django.conf import settings

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(name="fleet.harvester_refresh", **TASK_OPTIONS)
def harvester_refresh_task(*, connection_id: int) -> str:
    from portaladmin.fleet.services import harvester_snapshot_refresh
    from portaladmin.portals.models import Connection

    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return "gone"
    ref = harvester_snapshot_refresh(connection=connection)
    return "ok" if not ref.error else "failed"


@shared_task(name="fleet.harvester_refresh_all", **TASK_OPTIONS)
def harvester_refresh_all_task() -> int:
    from portaladmin.portals.models import Connection

    ids = list(Connection.objects.values_list("pk", flat=True))
    for connection_id in ids:
        harvester_refresh_task.delay(connection_id=connection_id)
    return len(ids)


@shared_task(name="fleet.snapshot_counts_compact", **TASK_OPTIONS)
def snapshot_counts_compact_task() -> int:
    from portaladmin.fleet.counts import snapshot_counts_compact

    return snapshot_counts_compact()


def _register_beat() -> None:
    from portaladmin.celery import app

    seconds = float(getattr(settings, "FLEET_COUNTS_COMPACT_SECONDS", 60))
    # The overview's count rows, folded to one per connection (fleet.counts).
    app.conf.beat_schedule.setdefault("fleet.snapshot_counts_compact", {
        "task": "fleet.snapshot_counts_compact", "schedule": seconds, "options": {"expires": seconds}})

    minutes = float(getattr(settings, "FLEET_HARVESTER_REFRESH_MINUTES", 5))
    # Every few minutes (crontab.guru: */5 * * * * by default): one refresh task per connection.
    app.conf.beat_schedule.setdefault("fleet.harvester_refresh_all", {
        "task": "fleet.harvester_refresh_all", "schedule": minutes * 60.0, "options": {"expires": minutes * 60.0}})


_register_beat()
