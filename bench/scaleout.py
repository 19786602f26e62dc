"""Scale-out: one fairness job on a 10M-row Parquet file, with one worker process and with two.

The file (10M rows: label and prediction 0/1, sex with 2 groups, region with 4, seeded
numpy; 10 row groups of 1M rows) is split by the workers into 10 parts of one row group
each (`RISKREG_ASSESSMENT_CHUNK_BYTES` set to a tenth of the file's size), which Celery
workers count in parallel, the last one merging (docs/assessments.md, "Scale-out").
Options {"n_boot": 0}: no intervals, so the merge only adds counts and the work measured is
the parts' reading and counting, which grows with the rows.

Everything runs against a fresh embedded install (SQLite and the filesystem broker in a
temporary RISKREG_DATA_DIR, `migrate`, an organisation, system and model version made
through the services), in a child process (`python -m bench.scaleout FOLDER`) so that no
DATABASE_URL, CELERY_BROKER_URL or earlier benchmark's Django setup is used. Each worker is
`celery worker -Q assessments --concurrency 1 --pool prefork` (one process doing the work)
with OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS at 1 and ARROW_IO_THREADS 1:
pyarrow sizes its CPU pool from OMP_NUM_THREADS, so every worker computes on one thread.

A round starts fresh workers (one, or two with distinct hostnames), waits for their
heartbeats, runs a warm-up job that the goal ignores (the first task of a pool process
imports numpy, pyarrow and pandas, about a second; long-lived workers pay that once), then
times one job from submission (`assessment_job_create`, which stores the upload) to the
job's `finished_at`, and stops the workers. Rounds alternate one and two workers (1, 2, 2,
1, 1, 2, ...), and the ratio is of the medians. Every job's evidence metrics must be
identical, else the benchmark fails. Each job's line also gives the CPU seconds that the
workers, this driver and every other process on the machine used meanwhile (Linux /proc):
the machine is shared, and two workers need both cores.
"""

import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
ROWS = 10_000_000
PARTS = 10
ROUNDS = 5  # of each: one worker and two
GOAL = 1.6  # two workers at least this many times faster than one
KINDS = ["fairness"]
MAPPING = {"label": "label", "prediction": "prediction", "sensitive": ["sex", "region"]}
OPTIONS = {"n_boot": 0}
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",  # also the size of pyarrow's CPU pool
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "ARROW_IO_THREADS": "1",
}
READY_SECONDS = 60
JOB_SECONDS = 300
POLL_SECONDS = 0.1
# Variables that would point a child process at another database, broker or data folder.
_CHILD_DROPS = ("DATABASE_", "CELERY_", "RISKREG_", "DJANGO_")


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Run:
    """One job: its workers, time from submission to finished, and where the time went."""

    workers: int
    warm: bool  # False: the workers' first job (imports included)
    seconds: float
    queued: float  # submission (storing the upload) until a worker claimed the job
    plan: float  # claim until the parts were written
    parts: float  # parts written until the last part finished
    merge: float  # last part finished until the job finished (merge, evidence written)
    parts_by_process: tuple[int, ...]
    # CPU seconds during the job (Linux /proc; None elsewhere): the worker processes (main
    # and pool processes), this driver, and the whole machine (every process, all cores).
    worker_cpu: float | None = None
    driver_cpu: float | None = None
    machine_cpu: float | None = None

    @property
    def others_cpu(self) -> float | None:
        """CPU seconds other processes took during the job."""
        if self.machine_cpu is None or self.worker_cpu is None or self.driver_cpu is None:
            return None
        return max(self.machine_cpu - self.worker_cpu - self.driver_cpu, 0.0)

    def line(self) -> str:
        kind = "timed" if self.warm else "warm-up"
        split = "+".join(str(n) for n in self.parts_by_process)
        alone = self.workers > len(self.parts_by_process)
        return (
            f"scaleout: {self.workers} worker(s), {kind}: {self.seconds:.2f} s (queued "
            f"{self.queued:.2f}, plan {self.plan:.2f}, parts {self.parts:.2f}, merge "
            f"{self.merge:.2f}); parts per process {split}"
            + ("; one process did every part" if alone else "")
            + _cpu(self)
        )


def _cpu(run: Run) -> str:
    if run.worker_cpu is None or run.others_cpu is None:
        return ""
    return (
        f"; CPU s: workers {run.worker_cpu:.2f}, driver {run.driver_cpu:.2f}, "
        f"other processes {run.others_cpu:.2f} ({os.cpu_count()} cores)"
    )


@dataclass(frozen=True)
class Speedup:
    """Two workers against one: medians of the timed (warm) runs."""

    name: str
    runs: tuple[Run, ...]
    goal: float
    mismatch: str | None = None

    def _median(self, workers: int) -> float:
        return statistics.median(r.seconds for r in self.runs if r.warm and r.workers == workers)

    @property
    def one_s(self) -> float:
        return self._median(1)

    @property
    def two_s(self) -> float:
        return self._median(2)

    @property
    def speedup(self) -> float:
        return self.one_s / self.two_s

    @property
    def missed(self) -> bool:
        return self.mismatch is not None or self.speedup < self.goal

    def others_cores(self) -> float | None:
        """Cores other processes took, on average, during the timed two-worker jobs."""
        shares = [
            r.others_cpu / r.seconds
            for r in self.runs
            if r.warm and r.workers == 2 and r.others_cpu is not None
        ]
        return statistics.median(shares) if shares else None

    def line(self) -> str:
        rounds = sum(1 for r in self.runs if r.warm and r.workers == 1)
        others = self.others_cores()
        load = (
            ""
            if others is None
            else f"; other processes took {others:.2f} of {os.cpu_count()} cores meanwhile"
        )
        return (
            f"{self.name}: {self.speedup:.2f}x faster than one worker (goal >= {self.goal}x) "
            f"[{self.two_s:.2f} s vs {self.one_s:.2f} s, medians of {rounds} runs; "
            f"two / one = {self.two_s / self.one_s:.3f}, goal <= {1 / self.goal:.3f}{load}]"
        )


def run() -> Speedup:
    """Run the benchmark in a child process with a fresh embedded install; its figures."""
    with tempfile.TemporaryDirectory(prefix="riskreg-bench-scaleout-") as name:
        folder = Path(name)
        env = _clean_env(folder / "data")
        child = subprocess.run(  # noqa: S603 - this module, fixed arguments
            [sys.executable, "-m", "bench.scaleout", str(folder)], cwd=REPO, env=env, check=False
        )
        if child.returncode != 0:
            raise RuntimeError(f"bench.scaleout exited with {child.returncode}")
        found = json.loads((folder / "result.json").read_text())
    runs = tuple(
        Run(**{**r, "parts_by_process": tuple(r["parts_by_process"])}) for r in found["runs"]
    )
    return Speedup("fairness_10m_two_workers", runs, GOAL, found["mismatch"])


def _clean_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CHILD_DROPS)}
    env.update(DJANGO_SETTINGS_MODULE="riskreg.settings", RISKREG_DATA_DIR=str(data_dir))
    return env


# ----------------------------------------------------------------------------- the child


def predictions(path: Path) -> Path:
    """ROWS rows in PARTS row groups; sensitive columns dictionary-encoded text."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(29)
    sex = rng.integers(0, 2, ROWS, dtype=np.int8)
    region = rng.integers(0, 4, ROWS, dtype=np.int8)
    # Base rates and selection rates differ by group, so every metric has a real value.
    label = (rng.random(ROWS) < 0.3 + 0.1 * sex).astype(np.int8)
    prediction = (rng.random(ROWS) < np.where(label == 1, 0.7, 0.2) + 0.03 * region).astype(np.int8)
    table = pa.table(
        {
            "label": label,
            "prediction": prediction,
            "sex": pa.DictionaryArray.from_arrays(sex, pa.array(["female", "male"])),
            "region": pa.DictionaryArray.from_arrays(
                region, pa.array(["north", "south", "east", "west"])
            ),
        }
    )
    pq.write_table(table, path, row_group_size=ROWS // PARTS)
    return path


class _Bench:
    """The child's state: the install, the file, and the workers it started."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = predictions(folder / "predictions.parquet")
        # ceil(size / part_bytes) == PARTS: one part per row group (pipeline.plan's rule).
        self.part_bytes = math.ceil(self.path.stat().st_size / PARTS)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.started = 0

    def setup(self) -> None:
        from django.core.management import call_command

        from riskreg.inventory import services as inventory
        from riskreg.organisations.actor import Actor
        from riskreg.organisations.services import organization_create

        call_command("migrate", verbosity=0)
        org = organization_create(name="Bench scale-out", slug="bench-scaleout")
        self.actor = Actor.system(org.pk)
        self.system = inventory.system_create(actor=self.actor, slug="scoring", name="Scoring")
        self.version = inventory.model_version_create(
            actor=self.actor, system=self.system, version="1"
        )

    # --- workers

    def start_workers(self, count: int) -> None:
        from riskreg.ops.models import WorkerHeartbeat

        env = {
            **_clean_env(self.folder / "data"),
            **ONE_THREAD,
            "RISKREG_ASSESSMENT_CHUNK_BYTES": str(self.part_bytes),
        }
        names = []
        for _ in range(count):
            self.started += 1
            name = f"bench{self.started}-{uuid.uuid4().hex[:6]}"
            args = [
                sys.executable, "-m", "celery", "-A", "riskreg", "worker",
                "-Q", "assessments", "--concurrency", "1", "--pool", "prefork",
                "--hostname", f"{name}@%h", "--loglevel", "WARNING",
                "--without-mingle", "--without-gossip",
            ]  # fmt: skip
            with open(self.folder / f"{name}.log", "ab") as log:
                self.workers.append(
                    subprocess.Popen(  # noqa: S603 - celery, fixed arguments
                        args,
                        cwd=REPO,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            names.append(name)
        deadline = time.monotonic() + READY_SECONDS
        for name in names:
            beats = WorkerHeartbeat.objects.filter(hostname__startswith=f"{name}@")
            while not beats.exists():
                self._check_alive()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"worker {name} sent no heartbeat in {READY_SECONDS} s")
                time.sleep(POLL_SECONDS)

    def stop_workers(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: the pool child too
                proc.wait(10)
        self.workers = []

    def _cpu(self) -> "_CpuSoFar":
        pids = [p.pid for p in self.workers]
        return _CpuSoFar(
            workers=_processes_cpu([*pids, *_children(pids)]),
            driver=_processes_cpu([os.getpid()]),
            machine=_machine_cpu(),
        )

    def _check_alive(self) -> None:
        for proc in self.workers:
            if proc.poll() is not None:
                raise RuntimeError(f"a worker exited with {proc.returncode}; see its log")

    # --- one job

    def job(self, workers: int, *, warm: bool) -> tuple[Run, dict[str, Any]]:
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.utils import timezone

        from evaluations.models import AssessmentJob, Evidence
        from evaluations.services.assessments import assessment_job_create

        before = self._cpu()
        upload = SimpleUploadedFile(
            "predictions.parquet", self.path.read_bytes(), "application/vnd.apache.parquet"
        )
        submitted = timezone.now()
        job = assessment_job_create(
            actor=self.actor,
            system=self.system,
            model_version=self.version,
            upload=upload,
            kinds=KINDS,
            mapping=MAPPING,
            options=OPTIONS,
            idempotency_key=uuid.uuid4().hex,
        ).job
        status = AssessmentJob.objects.filter(pk=job.pk).values_list("status", flat=True)
        deadline = time.monotonic() + JOB_SECONDS
        while status.get() not in ("succeeded", "failed", "cancelled"):
            self._check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"job {job.pk} not finished in {JOB_SECONDS} s")
            time.sleep(POLL_SECONDS)
        after = self._cpu()
        job.refresh_from_db()
        if job.status != "succeeded":
            raise RuntimeError(f"job {job.pk} {job.status}: {job.message}")
        parts = list(job.chunks.order_by("index"))
        if len(parts) != PARTS:
            raise RuntimeError(f"job {job.pk} was split into {len(parts)} parts, not {PARTS}")
        planned = min(p.created_at for p in parts)
        last = max(p.finished_at or planned for p in parts)
        if job.started_at is None or job.finished_at is None:
            raise RuntimeError(f"job {job.pk} succeeded without its start or finish time")
        by_process = Counter(p.lease_owner for p in parts)
        result = Run(
            workers=workers,
            warm=warm,
            seconds=_seconds(submitted, job.finished_at),
            queued=_seconds(submitted, job.started_at),
            plan=_seconds(job.started_at, planned),
            parts=_seconds(planned, last),
            merge=_seconds(last, job.finished_at),
            parts_by_process=tuple(sorted(by_process.values(), reverse=True)),
            worker_cpu=_used(before.workers, after.workers),
            driver_cpu=_used(before.driver, after.driver),
            machine_cpu=_used(before.machine, after.machine),
        )
        evidence = Evidence.objects.filter(assessment_job=job)
        metrics = {e.kind: e.document["metrics"] for e in evidence}
        if set(metrics) != set(KINDS):
            raise RuntimeError(f"job {job.pk} wrote evidence of {sorted(metrics)}, not {KINDS}")
        return result, metrics


@dataclass(frozen=True)
class _CpuSoFar:
    """CPU seconds used so far by the workers, this process and the whole machine."""

    workers: float | None
    driver: float | None
    machine: float | None


def _used(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def _children(pids: list[int]) -> list[int]:
    """The processes whose parent is one of pids (the workers' pool processes)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(entry)
        if fields is not None and int(fields[1]) in pids:
            found.append(int(entry.parent.name))
    return found


def _processes_cpu(pids: list[int]) -> float | None:
    """User and system CPU seconds of these processes, all their threads (/proc/PID/stat)."""
    ticks = 0
    for pid in pids:
        fields = _stat_fields(Path(f"/proc/{pid}/stat"))
        if fields is None:
            return None
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _stat_fields(path: Path) -> list[str] | None:
    """Fields of a /proc stat file after the command name: state, ppid, ..."""
    try:
        text = path.read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()


def _machine_cpu() -> float | None:
    """Busy CPU seconds of the whole machine so far, all cores (/proc/stat)."""
    try:
        with open("/proc/stat") as handle:
            ticks = [int(v) for v in handle.readline().split()[1:8]]
    except (OSError, ValueError):
        return None
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def _seconds(start: datetime, stop: datetime) -> float:
    return (stop - start).total_seconds()


def _drive(folder: Path) -> int:
    import django

    django.setup()
    bench = _Bench(folder)
    bench.setup()
    print(
        f"scaleout: {ROWS:,} rows, {bench.path.stat().st_size / 1e6:.1f} MB Parquet, "
        f"parts of {bench.part_bytes:,} bytes; {ROUNDS} rounds of 1 and 2 workers",
        flush=True,
    )
    # 1, 2, 2, 1, ...: a drift in the machine's load hits both alike.
    order = [n for i in range(ROUNDS) for n in ((1, 2) if i % 2 == 0 else (2, 1))]
    runs: list[Run] = []
    first: dict[str, Any] | None = None
    mismatch = None
    for workers in order:
        try:
            bench.start_workers(workers)
            for warm in (False, True):
                measured, metrics = bench.job(workers, warm=warm)
                print(measured.line(), flush=True)
                runs.append(measured)
                first = metrics if first is None else first
                if metrics != first and mismatch is None:
                    mismatch = f"the evidence of job {len(runs)} differs from the first's"
        finally:
            bench.stop_workers()  # also when a worker failed to start
    result = {"runs": [asdict(r) for r in runs], "mismatch": mismatch}
    (folder / "result.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(_drive(Path(sys.argv[1])))
