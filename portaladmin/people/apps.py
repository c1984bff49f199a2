from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "portaladmin.people"
    label = "people"

    def ready(self) -> None:
        from portaladmin.people import jobs_kinds  # noqa: F401 - registers user.invite and group.batch_add
