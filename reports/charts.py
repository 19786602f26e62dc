"""Report charts as inline SVG strings, drawn with matplotlib's object-oriented API.

The only module that imports matplotlib. Charts are reproducible (fixed hash salt, no date)
and keep their text as text (`svg.fonttype = none`), so a PDF built from them is searchable
and byte-identical from one render to the next. Colours are the Okabe-Ito palette, which
stays distinguishable with the common colour-vision deficiencies.

matplotlib writes its styling as `style="..."` attributes and a `<style>` sheet; WeasyPrint
logs warnings for those inside inline SVG, so `_clean_svg` rewrites them as presentation
attributes. Text that reaches a chart (group names, perturbation names) is escaped by the
serialiser here, never interpreted as mathtext.
"""

import functools
import io
import re
import warnings
import xml.etree.ElementTree as ET  # parses only our own matplotlib output, see _clean_svg
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any, ParamSpec

import matplotlib  # noqa: TID251 - matplotlib's one home
from matplotlib.axes import Axes  # noqa: TID251 - matplotlib's one home
from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: TID251 - matplotlib's one home
from matplotlib.figure import Figure  # noqa: TID251 - matplotlib's one home
from matplotlib.typing import RcKeyType  # noqa: TID251 - matplotlib's one home

# Okabe & Ito (2008), "Color Universal Design".
BLUE = "#0072B2"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
BLACK = "#000000"
LINE_COLOURS = (BLUE, VERMILLION, BLUISH_GREEN, REDDISH_PURPLE, ORANGE, SKY_BLUE, BLACK)

WIDTH_IN = 6.4  # the text width of an A4 page with the report's margins
MAX_GROUPS = 30  # beyond this a bar chart is unreadable; the chart says how many it left out
MAX_LABEL = 44

RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text stays text: searchable, and drawn with the PDF's fonts
    "svg.hashsalt": "riskreg-report-charts",  # ids derived from content, not from random
    "text.parse_math": False,  # "$" in a group name is a dollar sign, not TeX
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 7.5,
    "axes.titlesize": 8,
    "legend.fontsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.bbox": "standard",
    # No background: the draft watermark behind the chart stays visible.
    "savefig.transparent": True,
}

P = ParamSpec("P")
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_PROLOGUE = re.compile(r"^.*?(?=<svg[\s>])", re.DOTALL)
_REFERENCE = re.compile(r'(?:url\(|href=")#([A-Za-z0-9_.-]+)')
_URL_REFERENCE = re.compile(r"url\(#([A-Za-z0-9_.-]+)")
_STYLE_RULE = re.compile(r"\*\s*\{([^}]*)\}")


def _charting(draw: Callable[P, str]) -> Callable[P, str]:
    """Run a chart function under the report's rcParams.

    rcParams are process-global: rendering runs in worker processes, one render at a time.
    """

    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> str:
        with matplotlib.rc_context(RC), warnings.catch_warnings():
            # A user's group name may hold characters DejaVu Sans lacks; matplotlib warns
            # while measuring it. The text is still written (fonttype none) and WeasyPrint
            # draws it with a fallback font, so the warning tells nobody anything.
            warnings.filterwarnings(
                "ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning
            )
            return draw(*args, **kwargs)

    return wrapper


@_charting
def fairness_chart(breakdowns: Sequence[Mapping[str, Any]], *, id_prefix: str = "c") -> str:
    """Selection rate and true positive rate per group, with intervals where given.

    Labels carry each group's size; groups marked insufficient are starred. At most
    MAX_GROUPS groups are drawn, and the title then says how many there are.
    """
    every = [
        (_group_label(group), group.get("selection_rate"), group.get("true_positive_rate"))
        for breakdown in breakdowns
        for group in breakdown.get("groups", [])
    ]
    rows = every[:MAX_GROUPS]
    fig = _figure(WIDTH_IN, 0.7 + 0.3 * max(len(rows), 1))
    ax = fig.add_subplot()
    positions = list(range(len(rows)))[::-1]  # first group on top
    bar = 0.38
    series = ((bar / 2, 1, "selection rate", BLUE), (-bar / 2, 2, "true positive rate", ORANGE))
    for offset, column, name, colour in series:
        ys, values, below, above = [], [], [], []
        for y, row in zip(positions, rows, strict=True):
            value, low, high = value_interval(row[column])
            if value is None:
                continue
            ys.append(y + offset)
            values.append(value)
            below.append(max(value - low, 0.0) if low is not None else 0.0)
            above.append(max(high - value, 0.0) if high is not None else 0.0)
        ax.barh(
            ys,
            values,
            height=bar,
            color=colour,
            label=name,
            xerr=[below, above],
            error_kw={"ecolor": BLACK, "elinewidth": 0.8, "capsize": 2},
        )
    ax.set_yticks(positions, [row[0] for row in rows])
    ax.set_xlim(0, 1)
    ax.set_xlabel("rate")
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, frameon=False)
    if len(every) > len(rows):
        ax.set_title(f"first {len(rows)} of {len(every)} groups", loc="left")
    return _to_svg(fig, id_prefix)


@_charting
def reliability_chart(bins: Sequence[Mapping[str, Any]], ece: Any, *, id_prefix: str = "c") -> str:
    """Observed frequency against mean confidence per bin; the dashed diagonal is perfect.

    `ece` (a number or a metric with an interval) is written in the corner.
    """
    fig = _figure(3.4, 3.0)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle="--", color=BLACK, linewidth=0.8, label="perfect")
    points = [
        (b["mean_confidence"], b["observed_frequency"])
        for b in bins
        if b.get("mean_confidence") is not None and b.get("observed_frequency") is not None
    ]
    if points:
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, marker="o", markersize=3, color=BLUE, linewidth=1.2, label="model")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean confidence")
    ax.set_ylabel("observed frequency")
    value, _, _ = value_interval(ece)
    if value is not None:
        ax.text(0.97, 0.04, f"ECE {value:.4f}", ha="right", transform=ax.transAxes)
    ax.legend(loc="upper left", frameon=False)
    return _to_svg(fig, id_prefix)


@_charting
def robustness_chart(
    perturbations: Sequence[Mapping[str, Any]], clean_accuracy: Any = None, *, id_prefix: str = "c"
) -> str:
    """Accuracy (solid) and decision flip rate (dashed) against budget or severity.

    One panel per perturbation (at most six); budgets of different norms do not share an axis.
    """
    shown = list(perturbations)[:6]
    columns = min(max(len(shown), 1), 3)
    rows = max((len(shown) + columns - 1) // columns, 1)
    fig = _figure(WIDTH_IN, 2.1 * rows)
    clean, _, _ = value_interval(clean_accuracy)
    for index, perturbation in enumerate(shown):
        ax = fig.add_subplot(rows, columns, index + 1)
        _robustness_panel(ax, perturbation, clean, LINE_COLOURS[index % len(LINE_COLOURS)])
    return _to_svg(fig, id_prefix)


def _robustness_panel(
    ax: Axes, perturbation: Mapping[str, Any], clean: float | None, colour: str
) -> None:
    points = perturbation.get("points", [])
    axis = "budget" if any("budget" in p for p in points) else "severity"
    xs = [_number(p.get(axis)) or 0.0 for p in points]
    accuracy = [_or_nan(value_interval(p.get("accuracy"))[0]) for p in points]
    flips = [_or_nan(value_interval(p.get("decision_flip_rate"))[0]) for p in points]
    start = value_interval(perturbation.get("clean_accuracy"))[0]
    start = start if start is not None else clean
    if start is not None:  # the unperturbed point anchors the curve at 0
        xs, accuracy, flips = [0.0, *xs], [start, *accuracy], [0.0, *flips]
    ax.plot(xs, accuracy, marker="o", markersize=3, color=colour, linewidth=1.2, label="accuracy")
    ax.plot(
        xs,
        flips,
        marker="s",
        markersize=2.5,
        color=colour,
        linestyle="--",
        linewidth=0.9,
        label="flip rate",
    )
    ax.set_ylim(0, 1)
    norm = perturbation.get("norm")
    ax.set_xlabel(f"{axis} ({norm})" if norm else axis)
    ax.set_title(short(str(perturbation.get("name", "?"))), loc="left")
    ax.legend(loc="best", frameon=False)


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasSVG(fig)
    return fig


def _to_svg(fig: Figure, id_prefix: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _clean_svg(buffer.getvalue(), id_prefix)


def _clean_svg(svg: str, id_prefix: str) -> str:
    """Drop prologue, metadata and style sheet; turn `style` attributes into attributes.

    Inline SVG ids live in the HTML document: WeasyPrint makes each an anchor, so ids nothing
    refers to are dropped and the rest get the chart's own prefix (matplotlib derives them
    from content, and two charts share e.g. their tick marks). Parses only what matplotlib
    just wrote (no DTD: the prologue is cut off first).
    """
    root = ET.fromstring(_PROLOGUE.sub("", svg, count=1))  # noqa: S314 - our own output, no DTD
    referenced = set(_REFERENCE.findall(svg))
    for element in root.iter():
        style = element.attrib.pop("style", None)
        if style:
            element.attrib.update(_declarations(style))
        _rename_ids(element, referenced, id_prefix)
    for parent in list(root.iter()):
        for child in list(parent):
            if _local(child.tag) == "metadata":
                parent.remove(child)
            elif _local(child.tag) == "style":
                for rule in _STYLE_RULE.findall(child.text or ""):
                    root.attrib.update(_declarations(rule))  # `*` rules are inherited ones
                parent.remove(child)
    return _serialise(root)


def _rename_ids(element: ET.Element, referenced: set[str], prefix: str) -> None:
    own = element.attrib.pop("id", None)
    if own in referenced:
        element.attrib["id"] = f"{prefix}-{own}"
    for name, value in list(element.attrib.items()):
        if _local(name) == "href" and value.startswith("#"):
            element.attrib[name] = f"#{prefix}-{value[1:]}"
        elif "url(#" in value:
            element.attrib[name] = _URL_REFERENCE.sub(rf"url(#{prefix}-\1", value)


def _declarations(style: str) -> dict[str, str]:
    pairs = (part.split(":", 1) for part in style.split(";") if ":" in part)
    return {name.strip(): value.strip() for name, value in pairs}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attribute_name(name: str) -> str:
    if name.startswith(f"{{{XLINK_NS}}}"):
        return "xlink:" + _local(name)
    return _local(name)


def _serialise(element: ET.Element, *, root: bool = True) -> str:
    attributes = "".join(
        f' {_attribute_name(name)}="{escape(value, quote=True)}"'
        for name, value in element.attrib.items()
    )
    if root:
        attributes = f' xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}"' + attributes
    tag = _local(element.tag)
    inner = escape(element.text or "", quote=False)
    inner += "".join(_serialise(child, root=False) for child in element)
    tail = escape(element.tail or "", quote=False)
    return f"<{tag}{attributes}>{inner}</{tag}>{tail}"


def value_interval(metric: Any) -> tuple[float | None, float | None, float | None]:
    """A metric is a number or {"value", "interval": {"low", "high", ...}}."""
    if isinstance(metric, Mapping):
        value = metric.get("value")
        interval = metric.get("interval") or {}
        return (
            float(value) if value is not None else None,
            _number(interval.get("low")),
            _number(interval.get("high")),
        )
    return _number(metric), None, None


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _group_label(group: Mapping[str, Any]) -> str:
    values = group.get("group", {})
    text = ", ".join(f"{key}: {value}" for key, value in values.items()) if values else "?"
    star = " *" if group.get("insufficient") else ""
    return f"{short(text)} (n={group.get('size', '?')}){star}"


def short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"
