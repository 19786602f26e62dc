from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "riskreg.organisations"
    label = "organisations"

    def ready(self) -> None:
        from riskreg.organisations import schema  # noqa: F401 - registers the schema extension
