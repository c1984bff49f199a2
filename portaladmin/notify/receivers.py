"""Listen to the jobs, datasets and portals apps (their signals are sent after the change is committed)."""

from django.dispatch import receiver

from portaladmin.datasets.signals import status_changes
from portaladmin.jobs.signals import item_remote_state, job_finished, job_stuck
from portaladmin.portals.signals import connection_health_changed


@receiver(job_finished, dispatch_uid="notify-job-finished")
def _job_finished(sender, job, **kwargs):
    from portaladmin.notify.events import job_event

    job_event(job)


@receiver(job_stuck, dispatch_uid="notify-job-stuck")
def _job_stuck(sender, job, **kwargs):
    from portaladmin.notify.events import job_stuck_event

    job_stuck_event(job)


@receiver(connection_health_changed, dispatch_uid="notify-connection-health")
def _health(sender, connection, before, after, message, at, **kwargs):
    from portaladmin.notify.events import connection_health_event

    connection_health_event(connection, before=before, after=after, message=message, at=at)


@receiver(status_changes, dispatch_uid="notify-dataset-status")
def _dataset_status(sender, connection, changes, pass_done, **kwargs):
    from portaladmin.notify.events import dataset_status_changes

    dataset_status_changes(connection, changes, pass_done=pass_done)


@receiver(item_remote_state, dispatch_uid="notify-harvester-errors")
def _item_state(sender, item, **kwargs):
    if item.status != "failed" or getattr(item.job, "kind", "") != "harvester.start":
        return
    from portaladmin.notify.events import harvester_errors_event

    harvester_errors_event(item)
