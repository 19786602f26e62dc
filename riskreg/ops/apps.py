from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OpsConfig(AppConfig):
    name = "riskreg.ops"
    label = "ops"

    def ready(self) -> None:
        from riskreg.ops.dbroles import grant_runtime_role

        # Once per migrate run (sender: this app), after every table exists.
        post_migrate.connect(grant_runtime_role, sender=self, dispatch_uid="grant_runtime_role")
