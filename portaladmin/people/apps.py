from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "portaladmin.people"
    label = "people"
