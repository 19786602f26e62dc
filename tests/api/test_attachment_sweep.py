"""The sweep removes attachment files no row owns, once they are old enough."""

import os
import time
from datetime import timedelta
from io import StringIO

from django.core.management import call_command

from evaluations import attachments
from evaluations.services.storage import attachment_sweep
from tests.api.conftest import World


def age(path: os.PathLike[str], hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_an_old_file_no_row_owns_is_removed_and_owned_or_young_files_stay(world: World) -> None:
    org = world.acme.org.pk
    owned = attachments.path_for(org, world.own["attachment"])
    orphan = attachments.store(org, "a" * 64, [b"left by a killed worker"])
    young = attachments.store(org, "b" * 64, [b"a write still in flight"])
    leftover = orphan.parent / ".incoming-abandoned"
    leftover.write_bytes(b"half a file")
    for path in (owned, orphan, leftover):
        age(path, 2)

    report = attachment_sweep(older_than=timedelta(hours=1))

    assert owned.exists()
    assert young.exists()
    assert not orphan.exists()
    assert not leftover.exists()
    assert sorted(report.removed) == sorted(
        str(p.relative_to(attachments.root())) for p in (orphan, leftover)
    )


def test_the_command_reports_what_it_removed(world: World) -> None:
    orphan = attachments.store(world.acme.org.pk, "c" * 64, [b"orphan"])
    age(orphan, 3)
    out = StringIO()

    call_command("sweep_attachments", "--older-than-minutes", "60", stdout=out)

    assert f"removed {orphan.relative_to(attachments.root())}" in out.getvalue()
    assert not orphan.exists()
