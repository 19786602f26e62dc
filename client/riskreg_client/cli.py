"""The ``riskreg`` command.

Exit status: 0 success (a valid report or audit chain), 1 a checked thing failed (an invalid
report, a broken chain), 2 usage errors and unreadable files.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


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
    return parser


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
