"""Run every benchmark and print `name: ratio (ours / reference)` lines.

Run with `make bench`. Machines here are noisy, so each benchmark measures its
reference in the same process, interleaved, and reports the ratio of medians.
"""

import os
import sys
import tempfile

from bench import audit, evidence, hashing


def main() -> int:
    os.environ.setdefault("RISKREG_DATA_DIR", tempfile.mkdtemp(prefix="riskreg-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "riskreg.settings")
    results = [*hashing.run(), *audit.run(), *evidence.run()]
    for r in results:
        print(
            f"{r.name}: {r.ratio:.2f}x {r.reference_name} (goal <= {r.goal}x) "
            f"[{r.ours_ms:.3f} ms vs {r.reference_ms:.3f} ms]"
        )
    missed = [r for r in results if r.ratio > r.goal]
    for r in missed:
        print(f"MISSED {r.name}: {r.ratio:.2f}x > {r.goal}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
