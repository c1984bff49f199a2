from django.apps import AppConfig


class HarvestersConfig(AppConfig):
    name = "portaladmin.harvesters"
    label = "harvesters"
