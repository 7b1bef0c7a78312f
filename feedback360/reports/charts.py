"""Small vector charts for the report, written as SVG by hand: no raster, no JavaScript."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup, escape

from feedback360.groups import (
    ALL_RATERS,
    DIRECT_REPORT,
    LINE_MANAGER,
    OTHER,
    OTHER_RATERS,
    PEER,
    SELF,
)
from feedback360.reports.engine.printed import printed, tenths
from feedback360.reports.engine.results import Norm

FONT = "DejaVu Sans, sans-serif"
INK = "#1a1a1a"
GRID = "#8c8c8c"
NORM_FILL = "#d0d0d0"


@dataclass(frozen=True)
class Marker:
    """How one column is drawn: shape and fill carry the meaning, colour only helps."""

    shape: str  # circle, diamond, square, triangle, triangle-down
    filled: bool
    colour: str
    glyph: str  # the same mark as a DejaVu Sans character, for legends and table heads
    name: str  # spoken description, e.g. "hollow diamond"


# Every colour reaches at least 4.5:1 on white, and no two columns share a shape and fill,
# so the charts still read when printed in black and white.
MARKERS = {
    SELF: Marker("diamond", False, "#a34700", "\u25c7", "hollow diamond"),
    LINE_MANAGER: Marker("square", True, "#1e6b3a", "\u25a0", "filled square"),
    PEER: Marker("triangle", True, "#6a3d9a", "\u25b2", "filled triangle"),
    DIRECT_REPORT: Marker("triangle-down", True, "#8a1c4a", "\u25bc", "filled down triangle"),
    OTHER: Marker("square", False, "#00606b", "\u25a1", "hollow square"),
    OTHER_RATERS: Marker("circle", False, "#4d4d4d", "\u25cb", "hollow circle"),
    ALL_RATERS: Marker("circle", True, "#0b4f8a", "\u25cf", "filled circle"),
}
FALLBACK = Marker("triangle", False, "#4d4d4d", "\u25b3", "hollow triangle")


@dataclass(frozen=True)
class Lane:
    """One row of a dot plot: a column of the report and its score, if shown."""

    key: str
    label: str
    value: float | None


def marker(key: str) -> Marker:
    return MARKERS.get(key, FALLBACK)


def _tenths(value: float) -> int:
    # Halves round up, as readers do by hand (4.25 → 4.3), not to even as format() does;
    # the engine rounds the same way wherever it works from a printed number.
    return int(tenths(value))


def _digits(whole_tenths: int) -> str:
    return f"{abs(whole_tenths) // 10}.{abs(whole_tenths) % 10}"


def one_decimal(value: float | None) -> str:
    """A mean as the report prints it: one decimal place, blank when missing."""
    if value is None:
        return ""
    whole = _tenths(value)
    return ("-" if whole < 0 else "") + _digits(whole)


def percent(value: float) -> str:
    """A share out of 100 as a whole percentage: 62%."""
    return f"{Decimal(repr(value)).quantize(Decimal('1'), rounding=ROUND_HALF_UP)}%"


def _shape(mark: Marker, x: float, y: float, r: float) -> str:
    fill = mark.colour if mark.filled else "#ffffff"
    paint = f'fill="{fill}" stroke="{mark.colour}" stroke-width="2"'
    if mark.shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {paint}/>'
    if mark.shape == "square":
        s = r * 0.9
        box = f'x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" height="{2 * s:.1f}"'
        return f"<rect {box} {paint}/>"
    if mark.shape == "diamond":
        d = r * 1.3
        points = [(x, y - d), (x + d, y), (x, y + d), (x - d, y)]
    elif mark.shape == "triangle-down":
        points = [(x - r, y - r * 0.85), (x + r, y - r * 0.85), (x, y + r)]
    else:
        points = [(x, y - r), (x + r, y + r * 0.85), (x - r, y + r * 0.85)]
    coords = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
    return f'<polygon points="{coords}" {paint}/>'


def scale_description(scale: Sequence[str]) -> str:
    return f"on a scale from 1 ({scale[0]}) to {len(scale)} ({scale[-1]})"


def norm_description(norm: Norm) -> str:
    """The cycle norm in words, as the chart's text alternative and the page say it."""
    return (
        f"This cycle ({norm.subjects} people): middle half {one_decimal(norm.p25)} to "
        f"{one_decimal(norm.p75)}, median {one_decimal(norm.median)}; your raters' score is "
        f"higher than {percent(norm.percentile)} of them"
    )


def _alternative(title: str, lanes: Sequence[Lane], scale: Sequence[str], norm: Norm | None) -> str:
    """The chart's text alternative: every number it shows, in words."""
    spoken = "; ".join(
        f"{lane.label} {one_decimal(lane.value)}"
        if lane.value is not None
        else f"{lane.label} not shown"
        for lane in lanes
    )
    alt = f"{title.rstrip('.')}. Scores {scale_description(scale)}: {spoken}."
    if norm is not None:
        alt += f" {norm_description(norm)}."
    return alt


def dot_plot(
    title: str, lanes: Sequence[Lane], scale: Sequence[str], norm: Norm | None = None
) -> Markup:
    """Scores of one value, one lane per column, on the rating scale, with the numbers.

    With a cycle norm, a last lane shows where the middle half of the cycle's people
    score (a bar) and their median (a tick), on the same axis. Every mark is placed on
    the number as printed, so the drawing holds no more precision than the text.
    """
    width, label_w, right_w, lane_h, top = 640, 130, 44, 18, 6
    x0, x1 = label_w + 12, width - right_w - 12
    points = len(scale)
    axis_y = top + lane_h * (len(lanes) + (norm is not None))
    height = axis_y + 22

    x_of = _scale_x(x0, x1, points)
    alt = _alternative(title, lanes, scale, norm)
    parts = _svg_start("chart dot-plot", width, height, alt, font_size=11)
    # One path for all grid lines and one for the axis: WeasyPrint styles every element.
    grid = " ".join(f"M{x_of(p):.1f} {top}V{axis_y}" for p in range(1, points + 1))
    parts.append(
        f'<path d="{grid}" stroke="{GRID}" stroke-width="0.75" stroke-dasharray="2 3"/>'
        f'<path d="M{x0:.1f} {axis_y}H{x1:.1f}" stroke="{INK}" stroke-width="1"/>'
    )
    for point in range(1, points + 1):
        parts.append(
            f'<text x="{x_of(point):.1f}" y="{axis_y + 15}" text-anchor="middle" '
            f'font-size="10">{point} {escape(scale[point - 1])}</text>'
        )
    for i, lane in enumerate(lanes):
        y = top + lane_h * i + lane_h / 2
        parts.append(f'<text x="0" y="{y + 4:.1f}">{escape(lane.label)}</text>')
        if lane.value is None:
            parts.append(f'<text x="{x0:.1f}" y="{y + 4:.1f}" fill="#4d4d4d">(not shown)</text>')
            continue
        parts.append(_shape(marker(lane.key), x_of(lane.value), y, 6))
        parts.append(
            f'<text x="{width}" y="{y + 4:.1f}" text-anchor="end" font-weight="bold">'
            f"{one_decimal(lane.value)}</text>"
        )
    if norm is not None:
        y = top + lane_h * len(lanes) + lane_h / 2
        left, right, middle = x_of(norm.p25), x_of(norm.p75), x_of(norm.median)
        parts.append(
            f'<text x="0" y="{y + 4:.1f}">This cycle</text>'
            f'<rect x="{left:.1f}" y="{y - 4:.1f}" width="{max(right - left, 1):.1f}" '
            f'height="8" fill="{NORM_FILL}" stroke="{INK}" stroke-width="1"/>'
            f'<path d="M{middle:.1f} {y - 8:.1f}V{y + 8:.1f}" stroke="{INK}" stroke-width="2.5"/>'
            f'<text x="{width}" y="{y + 4:.1f}" text-anchor="end">{one_decimal(norm.median)}</text>'
        )
    parts.append("</svg>")
    # Safe: every piece of text above went through escape(); the rest is numbers we format.
    return Markup("".join(parts))  # noqa: S704


def _scale_x(x0: float, x1: float, points: int) -> Callable[[float], float]:
    """Where a score sits between x0 (1) and x1 (the top of the scale), placed on the number
    as printed, so that the drawing holds no more precision than the text."""

    def x_of(score: float) -> float:
        score = float(printed(score))
        return x0 + (x1 - x0) * (min(max(score, 1), points) - 1) / max(points - 1, 1)

    return x_of


def _svg_start(classes: str, width: int, height: float, alt: str, *, font_size: int) -> list[str]:
    """A chart's opening tag and title, read out as `alt`."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{classes}" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(alt)}" font-family="{FONT}" font-size="{font_size}" fill="{INK}">',
        f"<title>{escape(alt)}</title>",
    ]


def narrow_dot_plot(
    title: str, lanes: Sequence[Lane], scale: Sequence[str], norm: Norm | None = None
) -> Markup:
    """The same chart drawn for a phone's screen, shown there instead of dot_plot's.

    Drawn 320 units wide, so that its 12-unit text stays at 10 pixels or more on a screen
    from 270 pixels wide: each lane's label and number on a line above its mark, the scale's
    points numbered under the axis and its two ends named below. Browser page only: the
    PDF has dot_plot's.
    """
    width, pad, label_h, mark_h, top = 320, 10, 14, 16, 2
    lane_h = label_h + mark_h
    x0, x1 = pad, width - pad
    points = len(scale)
    rows = len(lanes) + (norm is not None)
    axis_y = top + lane_h * rows
    height = axis_y + 36

    x_of = _scale_x(x0, x1, points)
    alt = _alternative(title, lanes, scale, norm)
    parts = _svg_start("chart dot-plot phone", width, height, alt, font_size=12)
    grid = " ".join(
        f"M{x_of(p):.1f} {top + lane_h * i + label_h}V{top + lane_h * (i + 1)}"
        for i in range(rows)
        for p in range(1, points + 1)
    )
    parts.append(
        f'<path d="{grid}" stroke="{GRID}" stroke-width="0.75" stroke-dasharray="2 3"/>'
        f'<path d="M{x0:.1f} {axis_y}H{x1:.1f}" stroke="{INK}" stroke-width="1"/>'
    )
    for point in range(1, points + 1):
        parts.append(
            f'<text x="{x_of(point):.1f}" y="{axis_y + 14}" text-anchor="middle">{point}</text>'
        )
    parts.append(
        f'<text x="0" y="{axis_y + 31}">{1} {escape(scale[0])}</text>'
        f'<text x="{width}" y="{axis_y + 31}" text-anchor="end">'
        f"{points} {escape(scale[-1])}</text>"
    )
    for i, lane in enumerate(lanes):
        label_y, y = top + lane_h * i + 11, top + lane_h * i + label_h + mark_h / 2
        parts.append(f'<text x="0" y="{label_y:.1f}">{escape(lane.label)}</text>')
        if lane.value is None:
            parts.append(
                f'<text x="{width}" y="{label_y:.1f}" text-anchor="end" fill="#4d4d4d">'
                "not shown</text>"
            )
            continue
        parts.append(_shape(marker(lane.key), x_of(lane.value), y, 5.5))
        parts.append(
            f'<text x="{width}" y="{label_y:.1f}" text-anchor="end" font-weight="bold">'
            f"{one_decimal(lane.value)}</text>"
        )
    if norm is not None:
        label_y = top + lane_h * len(lanes) + 11
        y = top + lane_h * len(lanes) + label_h + mark_h / 2
        left, right, middle = x_of(norm.p25), x_of(norm.p75), x_of(norm.median)
        parts.append(
            f'<text x="0" y="{label_y:.1f}">This cycle</text>'
            f'<rect x="{left:.1f}" y="{y - 4:.1f}" width="{max(right - left, 1):.1f}" '
            f'height="8" fill="{NORM_FILL}" stroke="{INK}" stroke-width="1"/>'
            f'<path d="M{middle:.1f} {y - 7:.1f}V{y + 7:.1f}" stroke="{INK}" stroke-width="2.5"/>'
            f'<text x="{width}" y="{label_y:.1f}" text-anchor="end">'
            f"median {one_decimal(norm.median)}</text>"
        )
    parts.append("</svg>")
    # Safe: every piece of text above went through escape(); the rest is numbers we format.
    return Markup("".join(parts))  # noqa: S704
