"""The client against servers that fail: retries only where a retry can help, and one line
with a distinct exit status for each kind of failure. A small real HTTP server in a thread
plays the failing riskreg, so the client's real HTTP stack is exercised."""

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from riskreg_client import cli
from riskreg_client.errors import (
    EXIT_AUTH,
    EXIT_CONFLICT,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_SERVER,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
)


class Script:
    """The answers the fake server gives, in order (the last one repeats), and what it saw."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, object]]] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def next(self) -> tuple[int, dict[str, object]]:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def fake() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            script.requests.append((self.command, self.path, dict(self.headers)))
            status, body = script.next()
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer  # noqa: N815 - http.server's method names

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", script
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def envelope(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"code": code, "message": message, "extra": extra}


def run(url: str, *args: str) -> int:
    return cli.main([*args, "--url", url, "--token", "rr_test", "--retries", "2"])


def schemas_index() -> dict[str, object]:
    return {"kinds": [{"kind": "fairness", "version": "1.0", "title": "Fairness"}]}


def document(tmp_path: Path) -> Path:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps({"kind": "document", "system": None, "document": {}}))
    return path


def test_a_5xx_is_retried_with_backoff_then_reported_as_a_server_error(
    fake: tuple[str, Script], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, script = fake
    pauses: list[float] = []
    monkeypatch.setattr("riskreg_client.transport.time.sleep", pauses.append)
    script.answers = [(503, envelope("unavailable", "Down for maintenance."))]

    status = run(url, "schemas")

    assert status == EXIT_SERVER
    assert len(script.requests) == 3  # the first try and two retries
    assert pauses == [0.5, 1.0]
    err = capsys.readouterr().err
    assert err == "riskreg schemas: list schemas: Down for maintenance. (unavailable, HTTP 503)\n"


def test_a_5xx_followed_by_success_succeeds(
    fake: tuple[str, Script], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, script = fake
    monkeypatch.setattr("riskreg_client.transport.time.sleep", lambda s: None)
    script.answers = [(502, {}), (200, schemas_index())]

    status = run(url, "schemas")

    assert status == EXIT_OK
    assert len(script.requests) == 2
    assert capsys.readouterr().out.split() == ["fairness", "1.0", "Fairness"]


@pytest.mark.parametrize(
    ("http", "code", "exit_status"),
    [
        (400, "evidence_invalid", EXIT_INVALID),
        (401, "token_expired", EXIT_AUTH),
        (403, "permission_denied", EXIT_AUTH),
        (404, "not_found", EXIT_INVALID),
        (409, "idempotency_conflict", EXIT_CONFLICT),
        (413, "attachment_too_large", EXIT_INVALID),
        (415, "attachment_type_refused", EXIT_INVALID),
        (429, "too_many_requests", EXIT_INVALID),
    ],
)
def test_a_4xx_is_never_retried_and_exits_with_its_own_status(
    fake: tuple[str, Script],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    http: int,
    code: str,
    exit_status: int,
) -> None:
    url, script = fake
    script.answers = [(http, envelope(code, "Refused."))]

    status = run(url, "submit", str(document(tmp_path)), "--no-validate")

    assert status == exit_status
    assert len(script.requests) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"({code}, HTTP {http})" in err


def test_the_servers_list_of_problems_is_summarised_in_the_one_line(
    fake: tuple[str, Script], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url, script = fake
    problems = [{"pointer": "/document", "message": "required"}, {"pointer": "/x", "message": "no"}]
    script.answers = [(400, envelope("evidence_invalid", "Invalid.", errors=problems))]

    status = run(url, "submit", str(document(tmp_path)), "--no-validate")

    assert status == EXIT_INVALID
    err = capsys.readouterr().err
    assert err == (
        "riskreg submit: submit the document document: Invalid. (evidence_invalid, HTTP 400): "
        "/document: required (and 1 more)\n"
    )


def test_every_write_carries_the_token_and_an_idempotency_key(
    fake: tuple[str, Script], tmp_path: Path
) -> None:
    url, script = fake
    script.answers = [(201, {"items": [{"kind": "document", "url": "/api/v1/evidence/1/"}]})]

    assert run(url, "submit", str(document(tmp_path)), "--no-validate") == EXIT_OK
    assert run(url, "submit", str(document(tmp_path)), "--no-validate") == EXIT_OK

    (_, path, first), (_, _, second) = script.requests
    assert path == "/api/v1/evidence/"
    assert first["Authorization"] == "Bearer rr_test"
    assert first["Idempotency-Key"].startswith("rr-")
    assert first["Idempotency-Key"] == second["Idempotency-Key"]


def test_an_unreachable_server_is_retried_then_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr("riskreg_client.transport.time.sleep", pauses.append)
    with socket.socket() as probe:  # a port nobody listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    status = run(f"http://127.0.0.1:{port}/", "schemas")

    assert status == EXIT_UNREACHABLE
    assert len(pauses) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"riskreg schemas: list schemas: cannot reach http://127.0.0.1:{port}")
    assert err.count("\n") == 1


def test_no_server_or_no_token_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RISKREG_URL", raising=False)
    monkeypatch.delenv("RISKREG_TOKEN", raising=False)

    no_url = cli.main(["schemas"])
    no_token = cli.main(["schemas", "--url", "http://127.0.0.1:9/"])

    assert no_url == EXIT_USAGE
    assert no_token == EXIT_USAGE
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "riskreg schemas: no server: set RISKREG_URL or pass --url",
        "riskreg schemas: no token: set RISKREG_TOKEN or pass --token",
    ]


def test_an_unknown_fail_on_condition_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["submit", str(document(tmp_path)), "--fail-on", "not-met,worse"])

    assert exit_.value.code == EXIT_USAGE
    assert "unknown worse" in capsys.readouterr().err


def test_an_unreadable_or_malformed_file_is_refused_before_any_request(
    fake: tuple[str, Script], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url, script = fake
    broken = tmp_path / "broken.json"
    broken.write_text('{"kind": "fairness", "metrics": NaN}')

    missing = run(url, "submit", str(tmp_path / "nope.json"))
    malformed = run(url, "submit", str(broken))

    assert missing == EXIT_USAGE
    assert malformed == EXIT_INVALID
    assert script.requests == []
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("riskreg submit: cannot read ")
    assert "is not valid JSON: NaN is not a JSON number" in err[1]
