"""Small hand-written SVG charts (lines, histogram, scatter) for reports that open from disk.

Inline SVG needs no network, no JavaScript and no plotting library at report time, and stays a few
kilobytes; a reader can still hover a point to see its value (SVG <title>).

    python -c "from lexitune.report.svg import line_chart; print(line_chart([('loss', [1, 2, 3], [3, 2, 1])], x_label='step', y_label='loss'))"
"""

from __future__ import annotations

import math
from html import escape

PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"]
W, H = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 14, 42


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2 or 5 times a power of ten apart)."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = min((m * power for m in (1, 2, 5, 10) if m * power >= raw), default=10 * power)
    first = math.ceil(low / step - 1e-9) * step
    ticks, value = [], first
    while value <= high + step * 1e-6:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.01:
        return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e")
    return f"{value:g}"


class _Frame:
    """Maps data coordinates to the plot area and draws the axes."""

    def __init__(
        self, xs: list[float], ys: list[float], *, log_x: bool = False, y_range: tuple[float, float] | None = None
    ):
        self.log_x = log_x
        tx = [self.tx(x) for x in xs] or [0.0, 1.0]
        self.x0, self.x1 = min(tx), max(tx)
        if self.x0 == self.x1:
            self.x0, self.x1 = self.x0 - 1, self.x1 + 1
        if y_range:
            self.y0, self.y1 = y_range
        else:
            ys = ys or [0.0, 1.0]
            self.y0, self.y1 = min(ys), max(ys)
            pad = (self.y1 - self.y0) * 0.08 or 0.5
            self.y0, self.y1 = self.y0 - pad, self.y1 + pad

    def tx(self, x: float) -> float:
        return math.log10(x) if self.log_x else x

    def px(self, x: float) -> float:
        return LEFT + (self.tx(x) - self.x0) / (self.x1 - self.x0) * (W - LEFT - RIGHT)

    def py(self, y: float) -> float:
        return H - BOTTOM - (y - self.y0) / (self.y1 - self.y0) * (H - TOP - BOTTOM)

    def axes(self, x_label: str, y_label: str) -> str:
        parts = [
            f'<rect x="{LEFT}" y="{TOP}" width="{W - LEFT - RIGHT}" height="{H - TOP - BOTTOM}" fill="#fff" stroke="#cbd5e1"/>'
        ]
        for y in nice_ticks(self.y0, self.y1):
            if self.y0 <= y <= self.y1:
                py = self.py(y)
                parts.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{py:.1f}" y2="{py:.1f}" stroke="#eef2f7"/>')
                parts.append(f'<text x="{LEFT - 6}" y="{py + 4:.1f}" text-anchor="end">{_fmt(y)}</text>')
        if self.log_x:
            xt = [10.0**e for e in range(math.floor(self.x0), math.ceil(self.x1) + 1)]
            xt = [v * m for v in xt for m in (1, 2, 5)] if len(xt) <= 3 else xt
            xt = [10 ** math.log10(v) for v in xt if self.x0 - 1e-9 <= math.log10(v) <= self.x1 + 1e-9]
        else:
            xt = [v for v in nice_ticks(self.x0, self.x1) if self.x0 <= v <= self.x1]
        for x in xt:
            px = self.px(x)
            parts.append(
                f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{H - BOTTOM}" y2="{H - BOTTOM + 4}" stroke="#64748b"/>'
            )
            parts.append(f'<text x="{px:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{_fmt(x)}</text>')
        parts.append(
            f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 6}" text-anchor="middle" class="label">{escape(x_label)}</text>'
        )
        parts.append(
            f'<text x="14" y="{(TOP + H - BOTTOM) / 2}" text-anchor="middle" class="label" '
            f'transform="rotate(-90 14 {(TOP + H - BOTTOM) / 2})">{escape(y_label)}</text>'
        )
        return "".join(parts)


def _svg(body: str, legend: list[tuple[str, str]], title: str) -> str:
    items = "".join(
        f'<g transform="translate({LEFT + 10 + (i % 3) * 160},{TOP + 14 + (i // 3) * 14})"><rect width="10" height="10" y="-9" fill="{c}"/>'
        f'<text x="14">{escape(name[:24])}</text></g>'
        for i, (name, c) in enumerate(legend)
        if len(legend) > 1
    )
    return (
        f'<svg class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="11" fill="#334155">'
        f"<title>{escape(title)}</title>{body}{items}</svg>"
    )


def line_chart(
    series: list[tuple[str, list[float], list[float]]],
    *,
    x_label: str,
    y_label: str,
    title: str = "",
    y_range: tuple[float, float] | None = None,
    markers: bool = False,
) -> str:
    """One line per (name, xs, ys); `markers` draws a dot (with its value on hover) at each point."""
    xs = [x for _, sx, _ in series for x in sx]
    ys = [y for _, _, sy in series for y in sy if y is not None and math.isfinite(y)]
    frame = _Frame(xs, ys, y_range=y_range)
    body = [frame.axes(x_label, y_label)]
    legend = []
    for i, (name, sx, sy) in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        legend.append((name, color))
        pts = [
            (frame.px(x), frame.py(y), x, y) for x, y in zip(sx, sy, strict=True) if y is not None and math.isfinite(y)
        ]
        if len(pts) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in pts)
            dash = ' stroke-dasharray="6 4"' if i % 2 else ""  # equal series stay visible on top of each other
            body.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.8"{dash}/>')
        if markers or len(pts) == 1:
            body += [
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{color}"><title>{escape(name)}: {_fmt(x)} → {y:.3g}</title></circle>'
                for px, py, x, y in pts
            ]
    return _svg("".join(body), legend, title or y_label)


def histogram(
    groups: list[tuple[str, list[float]]],
    *,
    x_label: str,
    title: str = "",
    bins: int = 20,
    low: float = 0.0,
    high: float = 1.0,
) -> str:
    """Overlaid, translucent histograms of values in [low, high] (e.g. before vs after similarity)."""
    width = (high - low) / bins
    counts = []
    for _, values in groups:
        c = [0] * bins
        for v in values:
            c[min(bins - 1, max(0, int((v - low) / width)))] += 1
        counts.append(c)
    top = max([max(c) for c in counts if c] + [1])
    frame = _Frame([low, high], [0, top], y_range=(0, top * 1.1))
    frame.x0, frame.x1 = low, high
    body = [frame.axes(x_label, "answers")]
    legend = []
    for i, ((name, _), c) in enumerate(zip(groups, counts, strict=True)):
        color = PALETTE[i % len(PALETTE)]
        legend.append((name, color))
        for b, n in enumerate(c):
            if n:
                x, y = frame.px(low + b * width), frame.py(n)
                body.append(
                    f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{frame.px(low + width) - frame.px(low) - 2:.1f}" '
                    f'height="{frame.py(0) - y:.1f}" fill="{color}" fill-opacity="0.45" stroke="{color}">'
                    f"<title>{escape(name)}: {n} answers in [{low + b * width:.2f}, {low + (b + 1) * width:.2f})</title></rect>"
                )
    return _svg("".join(body), legend, title or x_label)


def scatter(
    points: list[tuple[float, float, str]],
    *,
    x_label: str,
    y_label: str,
    title: str = "",
    y_range: tuple[float, float] | None = None,
) -> str:
    """Points (x, y, label); the x axis is logarithmic when the values span more than 20x."""
    xs = [p[0] for p in points]
    log_x = bool(xs) and min(xs) > 0 and max(xs) / min(xs) > 20
    frame = _Frame(xs, [p[1] for p in points], log_x=log_x, y_range=y_range)
    body = [frame.axes(x_label + (" (log)" if log_x else ""), y_label)]
    body += [
        f'<circle cx="{frame.px(x):.1f}" cy="{frame.py(y):.1f}" r="5" fill="{PALETTE[0]}" fill-opacity="0.7">'
        f"<title>{escape(label)}: {x_label}={_fmt(x)}, {y_label}={y:.3g}</title></circle>"
        for x, y, label in points
    ]
    return _svg("".join(body), [], title or f"{y_label} vs {x_label}")
