from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "portaladmin.notify"
    label = "notify"

    def ready(self) -> None:
        from portaladmin.notify import receivers  # noqa: F401 - listens to job and connection events
