"""Run every benchmark and print `name: ratio (ours / reference)` lines.

Run with `make bench`, or `python -m bench NAME ...` for some of them (hashing, audit,
evidence, posture, reports, robustness, assessments). Machines here are noisy, so each
benchmark measures its reference in the same process, interleaved, and reports the ratio
of medians. The assessment benchmarks print one line per size as it is measured, with
peak memory.
"""

import os
import sys
import tempfile

from bench import assessments, audit, evidence, hashing, posture, reports, robustness
from bench.timing import Result

QUICK = {
    "hashing": hashing.run,
    "audit": audit.run,
    "evidence": evidence.run,
    "posture": posture.run,
    "reports": reports.run,
    "robustness": robustness.run,
}
NAMES = (*QUICK, "assessments")


def main(argv: list[str]) -> int:
    chosen = argv or list(NAMES)
    unknown = [name for name in chosen if name not in NAMES]
    if unknown:
        print(f"unknown benchmarks {unknown}; choose among {list(NAMES)}", file=sys.stderr)
        return 2
    os.environ.setdefault("RISKREG_DATA_DIR", tempfile.mkdtemp(prefix="riskreg-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "riskreg.settings")
    results: list[Result] = [r for name in chosen if name in QUICK for r in QUICK[name]()]
    for r in results:
        print(
            f"{r.name}: {r.ratio:.2f}x {r.reference_name} (goal <= {r.goal}x) "
            f"[{r.ours_ms:.3f} ms vs {r.reference_ms:.3f} ms]",
            flush=True,
        )
    measured: list[assessments.Measurement] = []
    if "assessments" in chosen:
        for m in assessments.run():
            print(m.line(), flush=True)
            measured.append(m)
    for r in results:
        if r.ratio > r.goal:
            print(f"MISSED {r.name}: {r.ratio:.2f}x > {r.goal}x")
    for m in measured:
        if m.mismatch is not None:
            print(f"FAILED {m.benchmark} @ {m.rows:,} rows: values differ: {m.mismatch}")
        elif m.missed:
            print(f"MISSED {m.benchmark} @ {m.rows:,} rows: {m.ratio()}, {m.goal.describe()}")
    # A missed speed goal is recorded in bench/README.md; values that differ are a failure.
    return 1 if any(m.mismatch is not None for m in measured) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
