from django.apps import AppConfig


class PortalsConfig(AppConfig):
    name = "portaladmin.portals"
    label = "portals"
