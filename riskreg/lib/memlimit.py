"""A memory budget for one job, enforced by the kernel: RLIMIT_AS.

The soft address-space limit of the (worker child) process is set to what it uses now
plus the job's budget, for the duration of the job, and restored afterwards. An
allocation beyond it fails inside the job: numpy, pandas and pyarrow raise MemoryError
(or pyarrow's ArrowMemoryError, a MemoryError), which the caller turns into a failed job
instead of letting the kernel's OOM killer take the whole worker.
"""

import os
import resource
from collections.abc import Iterator
from contextlib import contextmanager


def address_space_in_use() -> int:
    """Bytes of virtual address space the process has mapped now (Linux /proc)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def memory_budget(extra_bytes: int) -> Iterator[int]:
    """Cap the address space at current use + extra_bytes while the block runs.

    Yields the limit set. Does nothing (yields 0) where RLIMIT_AS is not available.
    """
    if not hasattr(resource, "RLIMIT_AS") or not os.path.exists("/proc/self/statm"):
        yield 0
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = address_space_in_use() + extra_bytes
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield limit
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
