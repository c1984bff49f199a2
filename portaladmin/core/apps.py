from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "portaladmin.core"
    label = "core"
