from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "portaladmin.datasets"
    label = "datasets"
