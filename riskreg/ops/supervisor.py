"""Run web server, Celery worker and Celery beat together, for `make run`.

Children run in their own sessions so a terminal's Ctrl-C reaches only us; we
then stop each child the way it shuts down cleanly (the worker finishes its
running task first) and wait. A second Ctrl-C kills what is left.
"""

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType

PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    stop_signal: int
    process: subprocess.Popen[bytes] | None = None


class Supervisor:
    def __init__(self, children: list[Child]) -> None:
        self.children = children
        self.stopping = False

    def start(self) -> None:
        for child in self.children:
            child.process = subprocess.Popen(  # noqa: S603 - our own commands
                child.argv, start_new_session=True, preexec_fn=_stop_with_parent
            )

    def stop(self, force: bool = False) -> None:
        for child in self.children:
            if child.process and child.process.poll() is None:
                child.process.send_signal(signal.SIGKILL if force else child.stop_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            print("\nStopping now (killing what is left).", flush=True)
            self.stop(force=True)
            return
        self.stopping = True
        print("\nStopping: letting running tasks finish (Ctrl-C again to kill).", flush=True)
        self.stop()

    def run(self) -> int:
        """Start everything, wait until told to stop or a child dies; return an exit code."""
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        self.start()
        while not self.stopping:
            dead = [
                (c.name, c.process.returncode)
                for c in self.children
                if c.process and c.process.poll() is not None
            ]
            if dead:
                print(f"{dead[0][0]} exited with {dead[0][1]}; stopping the rest.", flush=True)
                self.stopping = True
                self.stop()
                break
            time.sleep(0.5)
        for child in self.children:
            if child.process:
                child.process.wait()
        return (
            0
            if all(c.process and c.process.returncode in (0, -2, -15) for c in self.children)
            else 1
        )


def _stop_with_parent() -> None:
    """Linux: the child gets SIGTERM if the supervisor dies without stopping it (e.g. SIGKILL)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux: a killed supervisor leaves its children running, as before


def default_children(host: str, port: int) -> list[Child]:
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "riskreg"]
    queues = "default,assessments,reports"
    return [
        Child(
            "web",
            [
                python,
                "-m",
                "gunicorn",
                "riskreg.wsgi",
                "--bind",
                f"{host}:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--access-logfile",
                "-",
            ],
            signal.SIGTERM,
        ),
        Child(
            "worker",
            [
                *celery,
                "worker",
                "-Q",
                queues,
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "-n",
                f"worker@{os.uname().nodename}",
            ],
            signal.SIGTERM,
        ),
        Child("beat", [*celery, "beat", "--loglevel", "INFO"], signal.SIGTERM),
    ]
