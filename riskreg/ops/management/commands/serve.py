from typing import Any

from django.core.management.base import BaseCommand, CommandError

from riskreg.ops.supervisor import Supervisor, default_children
from riskreg.web.demo import PASSWORD, USERS


class Command(BaseCommand):
    help = (
        "Start the web server, one Celery worker (every queue) and Celery beat; Ctrl-C stops them."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(f"riskreg at {url}  (API docs {url}api/docs/, readiness {url}readyz)")
        self.stdout.write(f"logins: {', '.join(USERS)}; password: {PASSWORD}")
        self.stdout.write("Ctrl-C stops web, worker and beat.")
        code = Supervisor(default_children(options["host"], options["port"])).run()
        if code:
            raise CommandError("a process exited with an error")
