"""The job memory budget: an allocation beyond it fails inside the block, not the process."""

import numpy as np
import pytest

from riskreg.lib.memlimit import address_space_in_use, memory_budget


def test_an_allocation_beyond_the_budget_raises_memory_error_and_the_limit_is_lifted() -> None:
    with pytest.raises(MemoryError), memory_budget(64 * 1024 * 1024):
        np.ones(512 * 1024 * 1024 // 8)  # 512 MiB against a 64 MiB budget

    after = np.ones(128 * 1024 * 1024 // 8)  # 128 MiB works again outside the block
    assert after.nbytes == 128 * 1024 * 1024


def test_work_within_the_budget_runs() -> None:
    with memory_budget(256 * 1024 * 1024) as limit:
        assert limit > address_space_in_use()
        assert np.ones(1024 * 1024).sum() == 1024 * 1024
