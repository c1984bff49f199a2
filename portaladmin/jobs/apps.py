from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "portaladmin.jobs"
    label = "jobs"

    def ready(self) -> None:
        from portaladmin.jobs import kinds  # noqa: F401 - registers the dataset and harvester kinds
