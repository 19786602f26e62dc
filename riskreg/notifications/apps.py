from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "riskreg.notifications"
    label = "notifications"
