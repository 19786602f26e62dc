"""A live riskreg for the client's tests: the embedded default in a temporary folder, with
the demo organisation, served by `manage.py serve` (web, worker and beat), as `make run`
starts it. The client reaches it over HTTP only, as a CI job would."""

import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.integration import support

SEED_SECONDS = 240
READY_SECONDS = 120


@dataclass(frozen=True)
class Server:
    url: str
    tokens: dict[str, str]  # demo username -> API token
    data_dir: Path
    env: dict[str, str]

    def cli_env(self, user: str = "engineer") -> dict[str, str]:
        """An environment for the `riskreg` command: the server, the user's token, no CI."""
        env = {k: v for k, v in self.env.items() if not k.startswith(("GITHUB_", "GITLAB_", "CI"))}
        env.update(RISKREG_URL=self.url, RISKREG_TOKEN=self.tokens[user])
        return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _manage(*args: str, env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        [support.PYTHON, "manage.py", *args],
        cwd=support.REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"manage.py {args[0]}: {done.stdout}{done.stderr}"
    return done.stdout


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "readyz", timeout=2) as answer:  # noqa: S310 - our own server
            return bool(answer.status == 200)
    except OSError:
        return False


def live_server(tmp: Path) -> Iterator[Server]:
    env = support.base_env(tmp)
    _manage("migrate", "--noinput", "-v0", env=env, timeout=180)
    _manage("seed_demo", env=env, timeout=SEED_SECONDS)
    tokens = {
        user: _manage(
            "create_token", "--organisation", "demo", "--user", user, env=env, timeout=60
        ).split()[-1]
        for user in ("engineer", "auditor")
    }
    port = free_port()
    log = tmp / "serve.log"
    serve = support.spawn(
        [support.PYTHON, "manage.py", "serve", "--port", str(port)], env=env, log=log
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        support.wait_for(
            "riskreg ready", lambda: _ready(url), timeout=READY_SECONDS, interval=0.5,
            alive=serve, log=log,
        )  # fmt: skip
        yield Server(url=url, tokens=tokens, data_dir=tmp, env=env)
    finally:
        assert support.stop(serve, timeout=30), "serve ignored SIGTERM\n" + support.tail(log)
