"""Run every benchmark and print `name: ratio (ours / reference)` lines.

Run with `make bench`, or `python -m bench NAME ...` for some of them (hashing, audit,
evidence, posture, reports, robustness, assessments, scaleout). Machines here are noisy, so
each benchmark measures its reference in the same process, interleaved, and reports the
ratio of medians. The assessment benchmarks print one line per size as it is measured, with
peak memory; scaleout (a fairness job on 10M rows with one worker process and with two, a
few minutes) prints one line per job and then the speedup.
"""

import os
import sys
import tempfile

from bench import assessments, audit, evidence, hashing, posture, reports, robustness, scaleout
from bench.timing import Result

QUICK = {
    "hashing": hashing.run,
    "audit": audit.run,
    "evidence": evidence.run,
    "posture": posture.run,
    "reports": reports.run,
    "robustness": robustness.run,
}
NAMES = (*QUICK, "assessments", "scaleout")


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
    speedup = scaleout.run() if "scaleout" in chosen else None
    if speedup is not None:
        print(speedup.line(), flush=True)
    for r in results:
        if r.ratio > r.goal:
            print(f"MISSED {r.name}: {r.ratio:.2f}x > {r.goal}x")
    for m in measured:
        if m.mismatch is not None:
            print(f"FAILED {m.benchmark} @ {m.rows:,} rows: values differ: {m.mismatch}")
        elif m.missed:
            print(f"MISSED {m.benchmark} @ {m.rows:,} rows: {m.ratio()}, {m.goal.describe()}")
    if speedup is not None and speedup.mismatch is not None:
        print(f"FAILED {speedup.name}: {speedup.mismatch}")
    elif speedup is not None and speedup.missed:
        print(f"MISSED {speedup.name}: {speedup.speedup:.2f}x < {speedup.goal}x")
    # A missed speed goal is recorded in bench/README.md; values that differ are a failure.
    failed = any(m.mismatch is not None for m in measured)
    return 1 if failed or (speedup is not None and speedup.mismatch is not None) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
