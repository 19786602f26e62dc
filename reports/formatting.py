"""How a report prints values: numbers, labels, dates, and text made safe to print."""

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from reports import charts

TIMES = "\N{MULTIPLICATION SIGN}"
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Runs this long get invisible break opportunities: WeasyPrint breaks a word of thousands of
# characters about five times slower than the same text with a zero-width space every 40.
# Hashes (64) and ids (36) stay intact, so they copy out of the PDF unchanged.
_LONG_RUN = re.compile(r"\S{100,}")
_BREAK_EVERY = 40


def label(value: str) -> str:
    return value.replace("_", " ")


def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def fmt_metric(metric: Any) -> str:
    value, low, high = charts.value_interval(metric)
    if value is None:
        return fmt(metric) if not isinstance(metric, Mapping) else "—"
    text = fmt(metric["value"] if isinstance(metric, Mapping) else metric)
    if low is not None and high is not None:
        text += f" [{fmt(low)}, {fmt(high)}]"
    return text


def utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"datetime without a time zone: {value!r}")
    return parsed.astimezone(UTC)


def display_datetime(value: str) -> str:
    try:
        return utc(value).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return value


def _breakable(match: re.Match[str]) -> str:
    run = match[0]
    return "\u200b".join(run[i : i + _BREAK_EVERY] for i in range(0, len(run), _BREAK_EVERY))


def printable(value: Any) -> Any:
    """A copy fit to print: control characters and lone surrogates become U+FFFD, and very
    long words get zero-width spaces.

    Control characters cannot be drawn, and some (NUL, surrogates) break the XML and UTF-8
    that the renderer writes; every other character passes through unchanged.
    """
    if isinstance(value, str):
        return _LONG_RUN.sub(_breakable, _UNPRINTABLE.sub("\ufffd", value))
    if isinstance(value, Mapping):
        return {key: printable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [printable(item) for item in value]
    return value


def evidence_row(item: Mapping[str, Any]) -> dict[str, Any]:
    return dict(item) | {
        "short": item["uid"][:8],
        "context_label": item.get("context") or "",
        "title": evidence_title(item),
    }


def evidence_title(item: Mapping[str, Any]) -> str:
    document = item.get("document") or {}
    if item["kind"] == "document":
        inner = document.get("document") or {}
        return f"{label(inner.get('document_type', ''))}: {inner.get('title', '')}"
    datasets = ", ".join(
        f"{d.get('slug')} ({d.get('split')})" for d in document.get("datasets") or []
    )
    return f"{label(item['kind'])}" + (f" on {datasets}" if datasets else "")
