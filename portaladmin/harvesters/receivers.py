"""After a harvester job ends, the catalogue changed (datasets created, published, deleted): ask the datasets
app for a catalogue sync so lists and the harvester's attached datasets show it."""

import logging

logger = logging.getLogger(__name__)

SYNC_AFTER = ("harvester.start", "harvester.abort", "harvesters.publish_all", "harvesters.unpublish_all",
              "harvester.publish", "harvester.unpublish")


def request_catalogue_sync(*, connection, actor=None) -> None:
    """Never fails the caller: a lost request is covered by the periodic sync."""
    try:
        from portaladmin.datasets.models import CatalogueSync
        from portaladmin.datasets.services import catalogue_sync_request

        catalogue_sync_request(connection=connection, actor=actor, trigger=CatalogueSync.Trigger.WRITE)
    except Exception:  # noqa: BLE001
        logger.warning("could not request a catalogue sync for connection %s", getattr(connection, "pk", None),
                       exc_info=True)


def on_job_finished(sender, job, **kwargs) -> None:
    if job.kind in SYNC_AFTER and job.connection_id:
        request_catalogue_sync(connection=job.connection, actor=job.started_by)
