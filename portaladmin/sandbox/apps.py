from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "portaladmin.sandbox"
    label = "sandbox"
