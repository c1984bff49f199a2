from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "portaladmin.fleet"
    label = "fleet"

    def ready(self) -> None:
        from portaladmin.fleet import kinds  # noqa: F401 - registers the user.offboard job kind
