"""Periodic connection checks (a doorbell; the work is portals.services.connection_health_check_due)."""

from celery import shared_task


@shared_task(name="portals.health_check_due", ignore_result=True)
def portals_health_check_due_task() -> int:
    from portaladmin.portals.services import connection_health_check_due

    return connection_health_check_due()
