from django.apps import AppConfig


class HarvestersConfig(AppConfig):
    name = "portaladmin.harvesters"
    label = "harvesters"

    def ready(self) -> None:
        from portaladmin.harvesters import jobs_kinds  # noqa: F401 - registers harvesters.publish_all / unpublish_all
        from portaladmin.harvesters.receivers import on_job_finished
        from portaladmin.jobs.signals import job_finished

        job_finished.connect(on_job_finished, dispatch_uid="harvesters.catalogue_sync_after_job")
