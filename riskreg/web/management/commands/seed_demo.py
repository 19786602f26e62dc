from typing import Any

from django.core.management.base import BaseCommand

from riskreg.web.demo import PASSWORD, USERS, seed_demo


class Command(BaseCommand):
    help = "Create the demo organisation (idempotent): users admin, officer, engineer, auditor."

    def handle(self, *args: Any, **options: Any) -> None:
        seed_demo()
        self.stdout.write(
            "demo organisation ready; logins (password {!r}): {}".format(PASSWORD, ", ".join(USERS))
        )
