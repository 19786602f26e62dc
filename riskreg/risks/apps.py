from django.apps import AppConfig


class RisksConfig(AppConfig):
    name = "riskreg.risks"
    label = "risks"
