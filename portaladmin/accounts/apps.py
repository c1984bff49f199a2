from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portaladmin.accounts"
    label = "accounts"

    def ready(self):
        from portaladmin.accounts import signals  # noqa: F401
