from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "portaladmin.pages"
    label = "pages"
