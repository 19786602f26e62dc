from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "riskreg.inventory"
    label = "inventory"
