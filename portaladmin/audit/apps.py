from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "portaladmin.audit"
    label = "audit"
