from django.apps import AppConfig


class HarvestersConfig(AppConfig):
    name = "portaladmin.harvesters"
    label = "harvesters"

    def ready(self) -> None:
        from portaladmin.harvesters import jobs_kinds  # noqa: F401 - registers harvesters.publish_all / unpublish_all
