"""Child process for the concurrency test: append audit events through a real service.

    python -m tests.integration.append_events ORG_ID COUNT READY_FILE GO_FILE

Sets Django up, touches READY_FILE, waits (at most 60 s) for GO_FILE so that every
child starts appending at the same moment, then creates COUNT datasets, each with
its audit event, in COUNT transactions.
"""

import sys
import time
import uuid
from pathlib import Path

GO_WAIT_SECONDS = 60


def main(org_id: int, count: int, ready: Path, go: Path) -> None:
    import django

    django.setup()
    from django.db import connection

    from riskreg.inventory.services import dataset_create
    from riskreg.organisations.actor import Actor

    connection.ensure_connection()  # connect before the start line, not after it
    ready.touch()
    deadline = time.monotonic() + GO_WAIT_SECONDS
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit(f"no start signal within {GO_WAIT_SECONDS} s")
        time.sleep(0.005)
    actor = Actor.system(org_id)
    tag = uuid.uuid4().hex[:12]
    for i in range(count):
        dataset_create(actor=actor, slug=f"c-{tag}-{i}", name=f"Concurrent {tag} {i}")
    print(f"appended {count}")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
