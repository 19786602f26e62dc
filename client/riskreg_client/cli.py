"""The ``riskreg`` command.

Exit statuses (``riskreg_client.errors``, docs/ci.md): 0 success; 1 a gate failed (a verdict
named in --fail-on) or a checked thing is invalid (a report, an audit chain); 2 usage errors
and unreadable files; 3 input refused; 4 authentication or role; 5 conflict; 6 server
unreachable; 7 server error; 8 assessment job failed; 9 gave up waiting.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from riskreg_client import commands
from riskreg_client.errors import EXIT_GATE as EXIT_INVALID
from riskreg_client.errors import EXIT_OK, EXIT_USAGE
from riskreg_client.gate import FAIL_ON_CHOICES, parse_fail_on


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns the exit status (also used as the console script)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    status: int = args.run(args)
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="riskreg", description="riskreg's light client")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    verify = commands.add_parser(
        "verify",
        help="verify a signed report offline",
        description="Check a signed riskreg report against the organisation's CA certificate.",
    )
    verify.add_argument("pdf", type=Path, metavar="FILE.pdf")
    verify.add_argument(
        "--cert",
        type=Path,
        action="append",
        required=True,
        metavar="ORG-CA.pem",
        help="the organisation's CA certificate (PEM or DER); repeat for several",
    )
    verify.add_argument(
        "--tsa-cert",
        type=Path,
        action="append",
        default=[],
        metavar="TSA-CA.pem",
        help="a timestamp authority's root, trusted for signature timestamps only",
    )
    verify.add_argument("--json", action="store_true", help="print the verdict as JSON")
    verify.add_argument("--verbose", action="store_true", help="show pyHanko's log on stderr")
    verify.set_defaults(run=_verify)
    audit = commands.add_parser(
        "verify-audit",
        help="verify an exported audit chain offline",
        description="Recompute the hash chain of an audit export (GET /api/v1/audit/export/).",
    )
    audit.add_argument("export", type=Path, metavar="EXPORT.jsonl")
    audit.add_argument(
        "--expect-head",
        metavar="HASH",
        help="the head hash the chain must end at (as anchored in a report)",
    )
    audit.add_argument("--json", action="store_true", help="print the verdict as JSON")
    audit.set_defaults(run=_verify_audit)
    _http_commands(commands_of=commands)
    return parser


def _http_commands(*, commands_of: Any) -> None:
    """register, submit, assess, status, schemas: the commands that talk to a server."""
    connection = argparse.ArgumentParser(add_help=False)
    server = connection.add_argument_group("server")
    server.add_argument("--url", help="the riskreg server (default: $RISKREG_URL)")
    server.add_argument("--token", help="an API token, rr_... (default: $RISKREG_TOKEN)")
    server.add_argument("--timeout", type=float, default=60.0, help="seconds per HTTP request")
    server.add_argument(
        "--retries", type=int, default=3, help="retries after network errors and 5xx (never 4xx)"
    )
    connection.add_argument("--json", action="store_true", help="print the result as JSON")

    gate = argparse.ArgumentParser(add_help=False)
    gating = gate.add_argument_group("waiting and gating")
    gating.add_argument(
        "--wait", action="store_true", help="wait until the job and the verdicts are done"
    )
    gating.add_argument(
        "--fail-on",
        type=_fail_on,
        metavar=",".join(FAIL_ON_CHOICES[:2] + FAIL_ON_CHOICES[-1:]),
        help=f"exit 1 when an affected subcategory has one of: {', '.join(FAIL_ON_CHOICES)} "
        "(implies --wait)",
    )
    gating.add_argument(
        "--wait-timeout", type=float, default=900.0, help="give up waiting after this many s"
    )
    gating.add_argument("--interval", type=float, default=2.0, help="seconds between polls")
    gating.add_argument(
        "--junit", type=Path, metavar="FILE", help="write one JUnit test case per subcategory"
    )

    model_version = commands_of.add_parser("model-version", help="register model versions")
    mv_commands = model_version.add_subparsers(dest="action", metavar="ACTION", required=True)
    register = mv_commands.add_parser(
        "register",
        parents=[connection],
        help="register a model version",
        description="Register a model version; the artifact's SHA-256 is recorded. "
        "Registering it again with the same artifact is not an error.",
    )
    register.add_argument("--system", required=True, metavar="SLUG")
    register.add_argument("--version", required=True, metavar="V")
    register.add_argument("--parent", metavar="V", help="the version this one derives from")
    register.add_argument("--artifact", type=Path, metavar="FILE", help="the model file")
    register.add_argument(
        "--status", help="life-cycle status: development, staging, production, retired"
    )
    register.add_argument("--framework", help="e.g. pytorch 2.13, onnx")
    register.set_defaults(run=commands.run, http=commands.register)

    submit = commands_of.add_parser(
        "submit",
        parents=[connection, gate],
        help="submit an evidence document or another tool's results",
        description="Validate FILE against the server's schema, add the commit and CI run, and "
        "submit it with an idempotency key: a re-run gets the original item back.",
    )
    submit.add_argument("file", type=Path, metavar="FILE")
    submit.add_argument("--system", metavar="SLUG")
    submit.add_argument("--model-version", metavar="V")
    submit.add_argument("--kind", help="the document's kind, when FILE leaves it out")
    submit.add_argument(
        "--format",
        help="FILE is another tool's results: fairlearn-metricframe, lm-eval-harness, "
        "mlflow-run, hf-model-index",
    )
    submit.add_argument(
        "--attach", type=Path, action="append", default=[], metavar="FILE", help="repeatable"
    )
    submit.add_argument("--context", choices=["evaluation", "monitoring"])
    submit.add_argument(
        "--no-validate", action="store_true", help="skip the local schema check (the server checks)"
    )
    submit.set_defaults(run=commands.run, http=commands.submit)

    assess = commands_of.add_parser(
        "assess",
        parents=[connection, gate],
        help="upload a predictions file for riskreg's workers to assess",
        description="Upload a CSV or Parquet predictions file; riskreg's workers compute the "
        "evidence. A re-run with the same file and options gets the original job back.",
    )
    assess.add_argument("file", type=Path, metavar="FILE")
    assess.add_argument("--system", required=True, metavar="SLUG")
    assess.add_argument("--model-version", required=True, metavar="V")
    assess.add_argument("--label", required=True, metavar="COL")
    assess.add_argument("--prediction", metavar="COL")
    assess.add_argument("--score", metavar="COL")
    assess.add_argument("--sensitive", action="append", metavar="COL", help="repeatable")
    assess.add_argument(
        "--kind",
        action="append",
        choices=["fairness", "calibration", "data_quality"],
        help="repeatable (default: fairness)",
    )
    assess.add_argument("--split", metavar="COL", help="data quality: the split column")
    assess.add_argument("--pos-label", metavar="VALUE")
    assess.add_argument("--bins", type=int)
    assess.add_argument("--strategy", choices=["uniform", "quantile"])
    assess.add_argument("--n-boot", type=int, help="bootstrap resamples (0: no intervals)")
    assess.add_argument("--seed", type=int)
    assess.add_argument("--min-group-size", type=int)
    assess.add_argument("--dataset", metavar="SLUG", help="data quality: the inventory dataset")
    assess.add_argument("--context", choices=["evaluation", "monitoring"], default="evaluation")
    assess.set_defaults(run=commands.run, http=commands.assess)

    status = commands_of.add_parser(
        "status",
        parents=[connection, gate],
        help="show an evidence item or assessment job",
        description="Show the item or job at URL; --wait follows it until its verdicts are done.",
    )
    status.add_argument("target", metavar="URL")
    status.set_defaults(run=commands.run, http=commands.status)

    schemas = commands_of.add_parser(
        "schemas", parents=[connection], help="list evidence kinds, or print one kind's schema"
    )
    schemas.add_argument("kind", nargs="?", metavar="KIND")
    schemas.set_defaults(run=commands.run, http=commands.schemas)


def _fail_on(text: str) -> frozenset[str]:
    try:
        return parse_fail_on(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--fail-on: ")) from exc


def _verify(args: argparse.Namespace) -> int:
    # pyHanko logs every refusal (with a traceback) at WARNING; the verdict's reason says it
    # in one line, so its log is shown only on request.
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.CRITICAL, format="%(name)s: %(message)s"
    )
    try:
        from riskreg_client.verify import load_trust_roots, verify_pdf
    except ImportError:
        print("riskreg verify needs pyHanko: pip install 'riskreg-client[verify]'", file=sys.stderr)
        return EXIT_USAGE
    try:
        pdf = args.pdf.read_bytes()
        roots = [root for path in args.cert for root in load_trust_roots(path.read_bytes())]
        tsa = [root for path in args.tsa_cert for root in load_trust_roots(path.read_bytes())]
    except (OSError, ValueError) as exc:
        print(f"riskreg verify: {exc}", file=sys.stderr)
        return EXIT_USAGE
    verdict = verify_pdf(pdf, trust_roots=roots, tsa_roots=[*roots, *tsa] if tsa else None)
    if args.json:
        print(json.dumps(verdict.as_json(), indent=2, sort_keys=True, ensure_ascii=False))
    elif verdict.valid:
        print(f"valid: {verdict.reason}")
    else:
        print(f"invalid: {verdict.reason}", file=sys.stderr)
    return EXIT_OK if verdict.valid else EXIT_INVALID


def _verify_audit(args: argparse.Namespace) -> int:
    from riskreg_client.audit import ExportUnreadableError, verify_export

    try:
        check = verify_export(args.export, expect_head=args.expect_head)
    except ExportUnreadableError as exc:
        print(f"riskreg verify-audit: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(check.as_json(), indent=2, sort_keys=True, ensure_ascii=False))
    if check.valid:
        if not args.json:
            print(f"valid: {check.events} events, head {check.head}")
        return EXIT_OK
    print(f"invalid: {check.problem}", file=sys.stderr)
    return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
