"""Inline SVG charts for the audit page, drawn by hand: DET curves, rates with intervals, score histograms."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from regard.fairness.report import DetCurve, ScoreHistogram

# Okabe-Ito: distinguishable with the common colour vision deficiencies.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


@dataclass(frozen=True)
class Axis:
    """Maps data to pixels on a linear or log10 scale between ``low`` and ``high``."""

    low: float
    high: float
    start: float  # pixel of low
    stop: float  # pixel of high
    log: bool = False

    def __call__(self, value: float) -> float:
        if self.log:
            value = max(value, self.low)
            f = (math.log10(value) - math.log10(self.low)) / (math.log10(self.high) - math.log10(self.low))
        else:
            f = (value - self.low) / (self.high - self.low) if self.high > self.low else 0.0
        return self.start + min(max(f, 0.0), 1.0) * (self.stop - self.start)

    def ticks(self) -> list[float]:
        if self.log:
            lowest, highest = math.floor(math.log10(self.low)), math.ceil(math.log10(self.high))
            return [10.0**e for e in range(lowest, highest + 1) if self.low <= 10.0**e <= self.high]
        step = _nice_step((self.high - self.low) / 5)
        first = math.ceil(self.low / step) * step
        return [first + i * step for i in range(int((self.high - first) / step + 1e-9) + 1)]


def _nice_step(raw: float) -> float:
    if raw <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _label(value: float, log: bool) -> str:
    if log:
        return f"1e{round(math.log10(value))}" if value < 0.01 else f"{value:g}"
    return f"{value:.3g}"


def _frame(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def _axes(x: Axis, y: Axis, x_title: str, y_title: str, y_ticks: bool = True) -> list[str]:
    out = []
    for t in x.ticks():
        px = x(t)
        out.append(f'<line x1="{px:.1f}" y1="{y.start:.1f}" x2="{px:.1f}" y2="{y.stop:.1f}" class="grid"/>')
        out.append(
            f'<text x="{px:.1f}" y="{y.start + 16:.1f}" class="tick" text-anchor="middle">{_label(t, x.log)}</text>'
        )
    for t in y.ticks() if y_ticks else []:
        py = y(t)
        out.append(f'<line x1="{x.start:.1f}" y1="{py:.1f}" x2="{x.stop:.1f}" y2="{py:.1f}" class="grid"/>')
        out.append(
            f'<text x="{x.start - 6:.1f}" y="{py + 4:.1f}" class="tick" text-anchor="end">{_label(t, y.log)}</text>'
        )
    out.append(
        f'<rect x="{x.start:.1f}" y="{y.stop:.1f}" width="{x.stop - x.start:.1f}" height="{y.start - y.stop:.1f}" '
        'class="plot"/>'
    )
    out.append(
        f'<text x="{(x.start + x.stop) / 2:.1f}" y="{y.start + 34:.1f}" text-anchor="middle">{escape(x_title)}</text>'
    )
    cy = (y.start + y.stop) / 2
    out.append(f'<text transform="translate(14 {cy:.1f}) rotate(-90)" text-anchor="middle">{escape(y_title)}</text>')
    return out


def det_chart(curves: Sequence[DetCurve], target_fmr: float, title: str = "DET curves per group") -> str:
    """FNMR against FMR on log-log axes, one line per group, the target FMR as a dashed line."""
    fmrs = [v for c in curves for v in c.fmr if v > 0]
    fnmrs = [v for c in curves for v in c.fnmr if v > 0]
    x_low = 10.0 ** math.floor(math.log10(min([*fmrs, target_fmr]))) if fmrs else 1e-6
    y_low = 10.0 ** math.floor(math.log10(min(fnmrs))) if fnmrs else 1e-4
    x = Axis(x_low, 1.0, 70, 470, log=True)
    y = Axis(y_low, 1.0, 330, 20, log=True)
    body = _axes(x, y, "false match rate (FMR)", "false non-match rate (FNMR)")
    tx = x(target_fmr)
    body.append(f'<line x1="{tx:.1f}" y1="{y.start}" x2="{tx:.1f}" y2="{y.stop}" class="target"/>')
    body.append(f'<text x="{tx + 4:.1f}" y="{y.stop + 12}" class="tick">target FMR</text>')
    for i, curve in enumerate(curves):
        points = " ".join(f"{x(f):.1f},{y(max(n, y_low)):.1f}" for f, n in zip(curve.fmr, curve.fnmr, strict=True))
        if points:
            body.append(f'<polyline points="{points}" fill="none" stroke="{colour(i)}" stroke-width="2"/>')
        body.append(_legend_entry(490, 30 + 18 * i, colour(i), curve.group))
    return _frame(640, 370, title, body)


def _legend_entry(x: float, y: float, fill: str, text: str) -> str:
    return (
        f'<rect x="{x}" y="{y - 9}" width="12" height="12" fill="{fill}"/>'
        f'<text x="{x + 18}" y="{y + 1}">{escape(text)}</text>'
    )


@dataclass(frozen=True)
class RatePoint:
    group: str
    value: float | None
    interval: tuple[float, float] | None
    flagged: bool


def rate_chart(points: Sequence[RatePoint], title: str, log: bool, reference: float | None = None) -> str:
    """One row per group: the estimate as a dot, its interval as a bar; flagged groups drawn hollow."""
    values = [v for p in points for v in ([p.value] if p.value is not None else []) + list(p.interval or ())]
    values += [reference] if reference is not None else []
    positive = [v for v in values if v > 0] or [1e-6, 1.0]
    if log:
        low = 10.0 ** math.floor(math.log10(min(positive)))
        high = 10.0 ** math.ceil(math.log10(max(positive)))
        x = Axis(low, max(high, low * 10), 150, 600, log=True)
    else:
        x = Axis(0.0, max([*values, 1e-3]) * 1.1, 150, 600)
    height = 50 + 28 * len(points)
    y = Axis(0, 1, height - 30, 10)
    body = _axes(x, y, title, "", y_ticks=False)
    if reference is not None:
        rx = x(reference)
        body.append(f'<line x1="{rx:.1f}" y1="{y.start}" x2="{rx:.1f}" y2="{y.stop}" class="target"/>')
    for i, p in enumerate(points):
        cy = 28 + 28 * i
        body.append(f'<text x="144" y="{cy + 4}" text-anchor="end">{escape(p.group)}{" *" if p.flagged else ""}</text>')
        if p.interval is not None:
            lo, hi = x(p.interval[0]), x(p.interval[1])
            body.append(
                f'<line x1="{lo:.1f}" y1="{cy}" x2="{hi:.1f}" y2="{cy}" stroke="{colour(i)}" stroke-width="3"/>'
            )
            for end in (lo, hi):
                body.append(f'<line x1="{end:.1f}" y1="{cy - 6}" x2="{end:.1f}" y2="{cy + 6}" stroke="{colour(i)}"/>')
        if p.value is not None:
            fill = "white" if p.flagged else colour(i)
            body.append(
                f'<circle cx="{x(p.value):.1f}" cy="{cy}" r="5" fill="{fill}" stroke="{colour(i)}" stroke-width="2"/>'
            )
    return _frame(640, height + 20, title, body)


def histogram_chart(hist: ScoreHistogram, threshold: float, index: int) -> str:
    """Genuine (filled) and impostor (outlined) score densities of one group, the threshold as a dashed line."""
    x = Axis(hist.edges[0], hist.edges[-1], 40, 300)
    y = Axis(0.0, 1.0, 150, 24)
    body = [f'<text x="40" y="16" font-weight="bold">{escape(hist.group)}</text>']
    for counts, style in ((hist.impostor, "impostor"), (hist.genuine, "genuine")):
        total = sum(counts)
        if not total:
            continue
        widths = [hist.edges[i + 1] - hist.edges[i] for i in range(len(counts))]
        density = [c / total / w for c, w in zip(counts, widths, strict=True)]
        top = max(density)
        points = [f"{x(hist.edges[0]):.1f},{y.start:.1f}"]
        for i, d in enumerate(density):
            py = y(d / top)
            points += [f"{x(hist.edges[i]):.1f},{py:.1f}", f"{x(hist.edges[i + 1]):.1f},{py:.1f}"]
        points.append(f"{x(hist.edges[-1]):.1f},{y.start:.1f}")
        fill = colour(index) if style == "genuine" else "none"
        body.append(
            f'<polyline points="{" ".join(points)}" fill="{fill}" fill-opacity="0.35" stroke="{colour(index)}" '
            f'class="{style}"/>'
        )
    tx = x(threshold)
    body.append(f'<line x1="{tx:.1f}" y1="{y.start}" x2="{tx:.1f}" y2="{y.stop}" class="target"/>')
    body.append(f'<line x1="{x.start}" y1="{y.start}" x2="{x.stop}" y2="{y.start}" stroke="#444"/>')
    for t in x.ticks():
        body.append(f'<text x="{x(t):.1f}" y="{y.start + 14}" class="tick" text-anchor="middle">{t:.2g}</text>')
    return _frame(320, 175, f"score distributions of {hist.group}", body)
