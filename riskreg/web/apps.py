from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "riskreg.web"
    label = "web"
