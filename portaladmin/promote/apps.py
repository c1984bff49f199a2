from django.apps import AppConfig


class PromoteConfig(AppConfig):
    name = "portaladmin.promote"
    label = "promote"
    verbose_name = "Compare and promote"

    def ready(self):
        from portaladmin.promote import jobs_kinds  # noqa: F401 - registers promote.dataset
