"""Tests for riskreg.lib.fsbroker, the patched kombu filesystem transport.

Needs no Django: no settings, no database; it uses kombu Connections and plain
Celery apps (fixups=[]). It runs under the project's pytest setup as is, or
without Django at all:
    pytest tests/unit/test_fsbroker.py -p no:django --noconftest \\
        -W ignore::pytest.PytestConfigWarning
(the last flag because pyproject's DJANGO_SETTINGS_MODULE key is unknown then
and warnings are errors). The worker round trip is marked `integration`
because it starts a real `celery worker` process.
"""

from __future__ import annotations

import builtins
import contextlib
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Empty
from typing import Any, Self

import pytest
from celery import Celery
from kombu import Connection, Consumer, Exchange, Message, Producer, Queue
from kombu.transport import filesystem, resolve_transport

from riskreg.lib import fsbroker

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_broker_state() -> Iterator[None]:
    # kombu caches declared bindings per process (not per folder); without a
    # reset a binding from an earlier test's folder would skip writing this
    # test's exchange table.
    fsbroker.Transport.global_state.clear()
    yield
    fsbroker.Transport.global_state.clear()


@pytest.fixture
def options(tmp_path: Path) -> dict[str, Any]:
    opts: dict[str, Any] = fsbroker.broker_settings(tmp_path / "broker")["broker_transport_options"]
    return opts


@pytest.fixture
def conn(options: dict[str, Any]) -> Iterator[Connection]:
    with _connect(options) as connection:
        yield connection


def _connect(options: dict[str, Any]) -> Connection:
    return Connection("filesystem://", transport=fsbroker.TRANSPORT, transport_options=options)


def _queue(name: str) -> Queue:
    return Queue(name, Exchange(name, type="direct"), routing_key=name)


def _publish(connection: Connection, queue: Queue, body: Any) -> None:
    producer = Producer(connection.default_channel)
    producer.publish(
        body,
        exchange=queue.exchange,
        routing_key=queue.routing_key,
        declare=[queue],
        serializer="json",
    )


def _receive(connection: Connection, queue: Queue, timeout: float = 5.0) -> list[Any]:
    """Bodies delivered within ``timeout``, stopping after the first one."""
    received: list[Any] = []

    def on_message(body: Any, message: Message) -> None:
        received.append(body)
        message.ack()

    with Consumer(connection, [queue], callbacks=[on_message], accept=["json"]):
        deadline = time.monotonic() + timeout
        while not received and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                connection.drain_events(timeout=0.5)
    return received


def _consumable(folder: Path, queue: str) -> list[str]:
    """Names kombu's consumer would pick up for ``queue`` (its own filter)."""
    return sorted(n for n in os.listdir(folder) if n.partition(".")[2] == f"{queue}.msg")


def test_transport_string_resolves_to_the_class() -> None:
    resolved: object = resolve_transport(fsbroker.TRANSPORT)
    assert resolved is fsbroker.Transport
    assert issubclass(fsbroker.Transport, filesystem.Transport)


def test_broker_settings_creates_folders_and_polls_fast(tmp_path: Path) -> None:
    settings = fsbroker.broker_settings(tmp_path / "b")
    opts = settings["broker_transport_options"]
    assert settings["broker_url"] == "filesystem://localhost/"
    assert settings["broker_transport"] == fsbroker.TRANSPORT
    for key in (
        "data_folder_in",
        "data_folder_out",
        "control_folder",
        "processed_folder",
        "bad_folder",
    ):
        assert Path(opts[key]).is_dir(), key
    assert opts["data_folder_in"] == opts["data_folder_out"]
    assert opts["store_processed"] is False
    with _connect(opts) as connection:
        assert isinstance(connection.transport, fsbroker.Transport)
        assert connection.transport.polling_interval == pytest.approx(0.1)


def test_message_is_consumed_intact(conn: Connection, options: dict[str, Any]) -> None:
    body = {
        "id": 7,
        "text": 'Ünïcödé ✓ "quoted"\n',
        "items": list(range(50)),
        "none": None,
    }
    queue = _queue("intact")
    _publish(conn, queue, body)

    assert _receive(conn, queue) == [body]
    leftovers = os.listdir(options["data_folder_in"])
    assert leftovers == [], "a delivered and acked message leaves no file behind"


def test_store_processed_keeps_the_read_message(options: dict[str, Any]) -> None:
    options = {**options, "store_processed": True}
    queue = _queue("kept")
    with _connect(options) as connection:
        _publish(connection, queue, {"keep": 1})
        assert _receive(connection, queue) == [{"keep": 1}]
    (kept,) = os.listdir(options["processed_folder"])
    assert kept.endswith(".kept.msg")
    assert os.listdir(options["data_folder_in"]) == []


def test_publish_never_exposes_a_partial_file(
    conn: Connection, options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every write into the queue folder stops halfway while the test looks at
    # the folder as a consumer would. Black-box: it spies on open(), not on
    # how fsbroker writes (kombu's stock _put fails this test).
    folder = Path(options["data_folder_in"])
    queue = _queue("partial")
    queue(conn.default_channel).declare()
    seen: list[list[str]] = []
    consumer_saw: list[str] = []

    def look() -> None:
        seen.append(_consumable(folder, "partial"))
        try:
            consumer_saw.append(repr(_other_channel_get(options, "partial")))
        except Empty:
            consumer_saw.append("Empty")

    with monkeypatch.context() as patch:
        patch.setattr(builtins, "open", _open_spy(folder, look))
        _publish(conn, queue, {"payload": "x" * 10_000})

    assert seen, "the spy saw the message being written"
    assert seen == [[]] * len(seen), "nothing consumable while being written"
    assert consumer_saw == ["Empty"] * len(seen)
    assert len(_consumable(folder, "partial")) == 1
    assert _receive(conn, queue) == [{"payload": "x" * 10_000}]


class _HalfwayFile:
    """Wraps a file opened for writing; each write pauses halfway to call ``look``."""

    def __init__(self, real: Any, look: Callable[[], None]) -> None:
        self._real = real
        self._look = look

    def write(self, data: bytes) -> int:
        half = len(data) // 2
        written: int = self._real.write(data[:half])
        self._real.flush()
        self._look()
        return written + int(self._real.write(data[half:]))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._real.close()


def _open_spy(folder: Path, look: Callable[[], None]) -> Callable[..., Any]:
    real_open = builtins.open

    def spy(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        writing = any(flag in mode for flag in "wxa")
        if writing and Path(file).parent == folder:
            return _HalfwayFile(handle, look)
        return handle

    return spy


def _other_channel_get(options: dict[str, Any], queue: str) -> dict[str, Any]:
    """A second consumer's raw read of ``queue`` (raises Empty when nothing is there)."""
    with _connect(options) as other:
        channel = other.default_channel
        assert isinstance(channel, fsbroker.Channel)
        return channel._get(queue)


def test_unreadable_files_are_moved_aside_and_the_next_message_delivered(
    conn: Connection, options: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    folder = Path(options["data_folder_in"])
    queue = _queue("tolerant")
    queue(conn.default_channel).declare()
    # "0_..." sorts before kombu's names (milliseconds of uptime), so these are read first.
    bad = {
        "0_empty.tolerant.msg": b"",
        "0_garbage.tolerant.msg": b"\xff\x00{not json",
        "0_truncated.tolerant.msg": b'{"body": "abc", "prop',
        "0_notamessage.tolerant.msg": b"[1, 2, 3]",
    }
    for name, content in bad.items():
        (folder / name).write_bytes(content)
    _publish(conn, queue, {"ok": True})

    with caplog.at_level(logging.WARNING, logger="riskreg.lib.fsbroker"):
        assert _receive(conn, queue) == [{"ok": True}]

    assert sorted(os.listdir(options["bad_folder"])) == sorted(bad)
    assert os.listdir(folder) == []
    for name in bad:
        assert name in caplog.text


def test_only_bad_files_means_empty_not_an_error(options: dict[str, Any]) -> None:
    (Path(options["data_folder_in"]) / "0_empty.lonely.msg").write_bytes(b"")
    with pytest.raises(Empty):
        _other_channel_get(options, "lonely")
    assert os.listdir(options["bad_folder"]) == ["0_empty.lonely.msg"]


@pytest.mark.parametrize("round_", range(10))
def test_concurrent_first_binds_keep_every_queue(options: dict[str, Any], round_: int) -> None:
    # Eight connections bind to one new fanout exchange at once; kombu's own
    # create-then-write of the exchange table loses some of them now and then
    # (hence several rounds).
    exchange = Exchange(f"shared{round_}", type="fanout")
    names = [f"fan{round_}_{i}" for i in range(8)]
    barrier = threading.Barrier(len(names))

    def bind(name: str) -> None:
        with _connect(options) as connection:
            barrier.wait(timeout=30)
            Queue(name, exchange)(connection.default_channel).declare()

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        list(pool.map(bind, names))  # re-raises any thread's exception

    with _connect(options) as connection:
        channel = connection.default_channel
        assert isinstance(channel, fsbroker.Channel)
        table = channel.get_table(exchange.name)
    assert sorted(row.queue for row in table) == names


TINY_APP = """
import os
import pathlib

from celery import Celery

from riskreg.lib.fsbroker import broker_settings

# fixups=[]: importing riskreg sets DJANGO_SETTINGS_MODULE, which would make
# Celery's Django fix-up set Django up in the worker; this test needs no Django.
app = Celery("fsb_tinyapp", fixups=[])
app.conf.update(broker_settings(pathlib.Path(os.environ["FSB_BROKER_DIR"])))
app.conf.update(task_ignore_result=True, broker_connection_retry_on_startup=True)


@app.task(name="fsb_tinyapp.touch")
def touch(path: str, text: str) -> None:
    pathlib.Path(path).write_text(text)
"""


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_real_worker_runs_a_task_and_answers_ping(tmp_path: Path) -> None:
    broker_dir = tmp_path / "broker"
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "fsb_tinyapp.py").write_text(textwrap.dedent(TINY_APP))
    log_path = tmp_path / "worker.log"
    client = Celery("fsb_client", fixups=[])  # fixups=[]: see TINY_APP
    client.conf.update(fsbroker.broker_settings(broker_dir))
    worker = _start_worker(app_dir, broker_dir, log_path)
    try:
        target = tmp_path / "done.txt"
        client.send_task("fsb_tinyapp.touch", args=[str(target), "hello"])

        _wait_for(lambda: target.exists(), worker, log_path, timeout=30)
        assert target.read_text() == "hello"

        # Broadcast over the fanout exchange table in control_folder, replies
        # over a direct exchange: remote control works on this transport.
        replies = client.control.ping(destination=["fsb@test"], timeout=10.0) or []
        assert any("fsb@test" in reply for reply in replies), replies
    finally:
        client.close()
        returncode = _stop(worker)
    log = log_path.read_text()
    assert returncode == 0, log
    assert "Traceback" not in log, log


def _start_worker(app_dir: Path, broker_dir: Path, log_path: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(app_dir), str(REPO_ROOT), env.get("PYTHONPATH", "")])
    env["FSB_BROKER_DIR"] = str(broker_dir)
    command = [
        sys.executable, "-m", "celery", "-A", "fsb_tinyapp", "worker",
        "--pool=solo", "--loglevel=INFO", "--hostname=fsb@test",
        "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        return subprocess.Popen(command, cwd=app_dir, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_for(done: Any, worker: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if worker.poll() is not None:
            pytest.fail(f"worker exited early:\n{log_path.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s:\n{log_path.read_text()}")
        time.sleep(0.1)


def _stop(worker: subprocess.Popen[bytes]) -> int:
    """Warm shutdown (SIGTERM), killing only if it hangs."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    try:
        return worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=10)
        raise
