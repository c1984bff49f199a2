from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "portaladmin.fleet"
    label = "fleet"
