from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "portaladmin.jobs"
    label = "jobs"
