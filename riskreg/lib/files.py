"""Writing stored files so that no reader ever sees half of one."""

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

# Temporary files carry this prefix; a sweep may remove old ones a killed process left.
INCOMING_PREFIX = ".incoming-"


def write_atomically(target: Path, chunks: Iterable[bytes]) -> Path:
    """Write the bytes to a temporary name beside target, fsync, then rename onto target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=INCOMING_PREFIX)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
