"""The ``riskreg`` subcommands that talk to a server: register, submit, assess, status,
schemas. Each returns an exit status (``riskreg_client.errors``); the parser is in cli.py."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, TextIO

from riskreg_client.client import Client, Submission
from riskreg_client.errors import EXIT_GATE, EXIT_OK, InvalidInputError, RiskregError, UsageError
from riskreg_client.gate import failing, junit, markdown


def run(args: argparse.Namespace) -> int:
    """Run an HTTP subcommand, turning every client error into one line and its status."""
    try:
        status: int = args.http(args)
        return status
    except RiskregError as exc:
        print(f"riskreg {args.command}: {_one_line(exc)}", file=sys.stderr)
        if args.json:
            print(json.dumps({"error": {"message": exc.message, "code": exc.code,
                                        "status": exc.status}}))  # fmt: skip
        return exc.exit_status


def register(args: argparse.Namespace) -> int:
    client = _client(args)
    version, created = client.register_model_version(
        args.system, args.version, parent=args.parent, artifact=args.artifact,
        status=args.status, framework=args.framework,
    )  # fmt: skip
    if args.json:
        _print_json({"model_version": version, "created": created})
    else:
        state = "registered" if created else "already registered"
        sha = version.get("artifact_sha256") or "no artifact"
        print(f"{state}: {args.system} {args.version} ({sha})")
    return EXIT_OK


def submit(args: argparse.Namespace) -> int:
    client = _client(args)
    if args.kind and args.format:
        raise UsageError("--kind and --format exclude each other")
    done = client.submit(
        args.file, system=args.system, model_version=args.model_version, kind=args.kind,
        format=args.format, context=args.context, attachments=args.attach,
        validate=not args.no_validate,
    )  # fmt: skip
    return _finish(args, client, done, title=f"submit {args.file.name}")


def assess(args: argparse.Namespace) -> int:
    client = _client(args)
    options = {
        name: value
        for name, value in (
            ("bins", args.bins), ("strategy", args.strategy), ("n_boot", args.n_boot),
            ("seed", args.seed), ("min_group_size", args.min_group_size),
            ("dataset", args.dataset),
        )
        if value is not None
    }  # fmt: skip
    done = client.assess(
        args.file, system=args.system, model_version=args.model_version, label=args.label,
        prediction=args.prediction, score=args.score, sensitive=args.sensitive or [],
        kinds=args.kind or ["fairness"], split=args.split, pos_label=args.pos_label,
        options=options, context=args.context,
    )  # fmt: skip
    return _finish(args, client, done, title=f"assess {args.file.name}")


def status(args: argparse.Namespace) -> int:
    client = _client(args)
    found = client.status(args.target)
    if "kinds" in found:  # an assessment job
        done = Submission(job=found, system=found["system"], model_version=found["model_version"])
    else:
        done = Submission(
            items=[found], system=found.get("system"), model_version=found.get("model_version")
        )
    return _finish(args, client, done, title=f"status {args.target}")


def schemas(args: argparse.Namespace) -> int:
    client = _client(args)
    if args.kind:
        _print_json(client.schema(args.kind))
        return EXIT_OK
    index = client.schemas()
    if args.json:
        _print_json(index)
    else:
        for entry in index["kinds"]:
            print(f"{entry['kind']:<14} {entry['version']:<6} {entry['title']}")
    return EXIT_OK


# Shared by submit, assess and status.


def _finish(args: argparse.Namespace, client: Client, done: Submission, *, title: str) -> int:
    fail_on: frozenset[str] = args.fail_on or frozenset()
    if not (args.wait or fail_on):
        _report(args, client, done, outcomes=None, tripped=[])
        return EXIT_OK
    progress = _ProgressBar(sys.stderr) if sys.stderr.isatty() and not args.json else None
    try:
        done = client.wait(
            done, timeout=args.wait_timeout, interval=args.interval,
            progress=progress.show if progress else None,
        )  # fmt: skip
    finally:
        if progress:
            progress.close()
    found = client.outcomes(done)
    tripped = failing(found, fail_on)
    _report(args, client, done, outcomes=found, tripped=tripped, fail_on=sorted(fail_on))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(markdown(found, tripped, title=title))
    if args.junit:
        args.junit.write_bytes(junit(found, tripped, title=title))
    return EXIT_GATE if tripped else EXIT_OK


def _report(
    args: argparse.Namespace,
    client: Client,
    done: Submission,
    *,
    outcomes: list[Any] | None,
    tripped: list[Any],
    fail_on: list[str] | None = None,
) -> None:
    urls = [client.transport.url(u) for u in done.urls]
    if args.json:
        body = {**done.as_json(), "urls": urls}
        if outcomes is not None:
            body["outcomes"] = [o.as_json() for o in outcomes]
            body["gate"] = {
                "fail_on": fail_on or [],
                "passed": not tripped,
                "failing": [o.as_json() for o in tripped],
            }
        _print_json(body)
        return
    state = "existing" if done.replayed else "created"
    if done.job is not None:
        job = done.job
        print(f"{state} assessment {job['status']}: {urls[0]}")
        for item in done.items:
            print(f"  evidence {item['kind']}: {client.transport.url(item['url'])}")
    else:
        for item, url in zip(done.items, urls, strict=True):
            print(f"{state} {item['kind']}: {url}")
    if outcomes is None:
        return
    if not outcomes:
        print("verdicts: none changed and none cites this evidence")
    for o in outcomes:
        flag = " (regression)" if o.regression else ""
        mark = "FAIL" if o in tripped else "ok"
        print(f"  {mark:<4} {o.subcategory:<12} {o.status}{flag}")
    if fail_on:
        print(f"gate {'failed' if tripped else 'passed'} (--fail-on {','.join(fail_on)})")


class _ProgressBar:
    """A one-line bar on a terminal: the job's progress and status."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.drawn = False

    def show(self, job: dict[str, Any]) -> None:
        fraction = min(max(float(job.get("progress") or 0.0), 0.0), 1.0)
        filled = round(fraction * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\r[{bar}] {fraction:4.0%} {job['status']:<10}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _client(args: argparse.Namespace) -> Client:
    return Client(args.url, args.token, timeout=args.timeout, retries=args.retries)


def _one_line(exc: RiskregError) -> str:
    text = exc.message
    if isinstance(exc, InvalidInputError) and exc.problems and exc.problems[0][0] not in text:
        pointer, message = exc.problems[0]
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        text += f": {pointer or '/'}: {message}{more}"
    return " ".join(text.split())


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))
