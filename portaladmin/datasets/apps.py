from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "portaladmin.datasets"
    label = "datasets"

    def ready(self) -> None:
        from portaladmin.datasets import bulk_metadata  # noqa: F401 - registers the dataset.metadata_edit job kind
        from portaladmin.datasets.receivers import (
            on_item_remote_state,
            on_job_finished,
            on_poll_tick_done,
            places_of,
        )
        from portaladmin.jobs.signals import item_remote_state, job_finished, list_places, poll_tick_done

        item_remote_state.connect(on_item_remote_state, dispatch_uid="datasets.snapshot_status")
        poll_tick_done.connect(on_poll_tick_done, dispatch_uid="datasets.status_scan")
        job_finished.connect(on_job_finished, dispatch_uid="datasets.metadata_publish_after")
        list_places.connect(places_of, dispatch_uid="datasets.list_places")
