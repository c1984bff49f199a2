"""Thin Celery doorbells for notifications. Ids only; each task claims its rows, so a repeat sends nothing twice."""

from celery import shared_task

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(name="notify.deliver", **TASK_OPTIONS)
def notify_deliver_task(*, delivery_id: int) -> str:
    from portaladmin.notify.services import delivery_send

    return delivery_send(delivery_id=delivery_id)


@shared_task(name="notify.digest", **TASK_OPTIONS)
def notify_digest_task(*, rule_id: int) -> str:
    from portaladmin.notify.services import digest_send

    return digest_send(rule_id=rule_id)


@shared_task(name="notify.tick", **TASK_OPTIONS)
def notify_tick_task() -> int:
    from portaladmin.notify.events import (
        dataset_changes_due,
        dataset_event_flush,
        dataset_late_scan,
        job_watchdog_scan,
    )
    from portaladmin.notify.services import notify_tick
    from portaladmin.portals.models import Connection

    for connection in Connection.objects.filter(pk__in=dataset_changes_due()):
        dataset_event_flush(connection)  # a scan pass that never ended: its datasets are told anyway
    dataset_late_scan()  # datasets whose expected update is overdue since the last tick: told once each
    job_watchdog_scan()  # job items busy on the portal past WATCHDOG_BUSY_MINUTES: told once per job
    due, digests = notify_tick()
    for delivery_id in due:
        notify_deliver_task.delay(delivery_id=delivery_id)
    for rule_id in digests:
        notify_digest_task.delay(rule_id=rule_id)
    return len(due) + len(digests)
