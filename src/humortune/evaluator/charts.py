"""Inline SVG charts for the HTML report: no scripts, no external files, text escaped.

Every chart is built from the JSON report's own numbers, so what the picture shows is what the JSON says.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

__all__ = ["ROLE_COLOURS", "histogram", "slice_means_chart", "slice_win_rates", "win_rate_chart"]

ROLE_COLOURS = {
    "old": "#9aa0a6",
    "base": "#5f7da8",
    "incumbent": "#d08c2b",
    "model": "#1a8a7a",
    "candidate": "#1a8a7a",
}
_FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _f(x: float) -> str:
    return f"{x:.1f}"


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )
    return Markup(head + "".join(body) + "</svg>")


def histogram(systems: Sequence[Mapping[str, Any]], *, bins: int = 10) -> Markup:
    """Grouped histogram of per-clip composite scores (0–1) for each system."""
    width, height, left, bottom, top = 560, 200, 36, 28, 26
    plot_w, plot_h = width - left - 10, height - bottom - top
    counts: list[list[int]] = []
    for system in systems:
        row = [0] * bins
        for score in system["scores"]:
            row[min(bins - 1, max(0, int(score * bins)))] += 1
        counts.append(row)
    peak = max((max(r) for r in counts if r), default=0) or 1
    group_w = plot_w / bins
    bar_w = (group_w - 4) / max(1, len(systems))
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#444"/>']
    for b in range(bins + 1):
        x = left + b * group_w
        if b % 2 == 0:
            body.append(f'<text x="{_f(x)}" y="{height - 10}" text-anchor="middle" {_FONT}>{b / bins:.1f}</text>')
    body.append(f'<text x="4" y="{top + 4}" {_FONT}>{peak}</text>')
    for s, (system, row) in enumerate(zip(systems, counts, strict=True)):
        colour = ROLE_COLOURS.get(system["role"], "#777")
        for b, count in enumerate(row):
            if not count:
                continue
            h = plot_h * count / peak
            x = left + b * group_w + 2 + s * bar_w
            body.append(
                f'<rect x="{_f(x)}" y="{_f(top + plot_h - h)}" width="{_f(bar_w)}" height="{_f(h)}" fill="{colour}">'
                f"<title>{escape(system['label'])}: {count} clip(s) in {b / bins:.1f}–{(b + 1) / bins:.1f}"
                "</title></rect>"
            )
        lx = left + s * 140
        body.append(f'<rect x="{lx}" y="6" width="10" height="10" fill="{colour}"/>')
        body.append(f'<text x="{lx + 14}" y="15" {_FONT}>{escape(system["label"])}</text>')
    return _svg(width, height, body, "Distribution of per-clip composite scores")


def win_rate_chart(comparison: Mapping[str, Any]) -> Markup:
    """Win rate with its 95% CI on a 0–1 axis (50% = parity), over a win/tie/loss bar."""
    width, height, left, right = 560, 110, 20, 20
    span = width - left - right

    def x(v: float) -> float:
        return left + span * min(1.0, max(0.0, v))

    wr = comparison["win_rate"]
    n = max(1, comparison["n"])
    body = [f'<line x1="{left}" y1="40" x2="{width - right}" y2="40" stroke="#bbb"/>']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        body.append(f'<text x="{_f(x(tick))}" y="58" text-anchor="middle" {_FONT}>{tick:.0%}</text>')
    body.append(f'<line x1="{_f(x(0.5))}" y1="18" x2="{_f(x(0.5))}" y2="46" stroke="#c33" stroke-dasharray="3,2"/>')
    if not math.isnan(wr["low"]):
        body.append(
            f'<rect x="{_f(x(wr["low"]))}" y="32" width="{_f(max(1.0, x(wr["high"]) - x(wr["low"])))}" height="16"'
            f' fill="#1a8a7a" fill-opacity="0.35"><title>95% CI {wr["low"]:.3f}–{wr["high"]:.3f}</title></rect>'
        )
        body.append(f'<circle cx="{_f(x(wr["estimate"]))}" cy="40" r="5" fill="#1a8a7a"/>')
        body.append(
            f'<text x="{_f(x(wr["estimate"]))}" y="24" text-anchor="middle" {_FONT}>{wr["estimate"]:.3f}</text>'
        )
    offset = 0.0
    for key, colour in (("wins", "#1a8a7a"), ("ties", "#c9c9c9"), ("losses", "#c0504d")):
        share = comparison[key] / n
        if share:
            body.append(
                f'<rect x="{_f(x(offset))}" y="72" width="{_f(span * share)}" height="14" fill="{colour}">'
                f"<title>{key}: {comparison[key]}</title></rect>"
            )
        offset += share
    body.append(f'<text x="{left}" y="102" {_FONT}>wins {comparison["wins"]} · ties {comparison["ties"]}')
    body.append(f" · losses {comparison['losses']} (n={comparison['n']})</text>")
    return _svg(width, height, body, "Candidate win rate with 95% confidence interval")


def slice_win_rates(groups: Mapping[str, Mapping[str, Any]], *, title: str) -> Markup:
    """One bar per slice: win rate with CI whiskers; small samples drawn hollow and labelled."""
    row_h, left, width = 24, 170, 560
    span = width - left - 60
    height = 30 + row_h * max(1, len(groups))

    def x(v: float) -> float:
        return left + span * min(1.0, max(0.0, v))

    body = [
        f'<line x1="{_f(x(0.5))}" y1="4" x2="{_f(x(0.5))}" y2="{height - 18}" stroke="#c33" stroke-dasharray="3,2"/>'
    ]
    body.append(f'<text x="{_f(x(0.5))}" y="{height - 4}" text-anchor="middle" {_FONT}>50%</text>')
    for i, (key, s) in enumerate(groups.items()):
        y = 10 + i * row_h
        wr = s["win_rate"]
        label = f"{key} (n={s['n']}{', small' if s['small'] else ''})"
        body.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end" {_FONT}>{escape(label)}</text>')
        fill = 'fill="none" stroke="#1a8a7a"' if s["small"] else 'fill="#1a8a7a"'
        body.append(
            f'<rect x="{left}" y="{y + 2}" width="{_f(x(wr["estimate"]) - left)}" height="12" {fill}>'
            f"<title>{escape(key)}: win rate {wr['estimate']:.3f}</title></rect>"
        )
        if not math.isnan(wr["low"]):
            body.append(
                f'<line x1="{_f(x(wr["low"]))}" y1="{y + 8}" x2="{_f(x(wr["high"]))}" y2="{y + 8}" stroke="#333"/>'
            )
        body.append(f'<text x="{_f(x(1.0) + 6)}" y="{y + 12}" {_FONT}>{wr["estimate"]:.3f}</text>')
    return _svg(width, height, body, title)


def slice_means_chart(
    groups: Mapping[str, Mapping[str, Any]], roles: Sequence[tuple[str, str]], *, title: str
) -> Markup:
    """Mean composite score per slice, one bar per system (role, label)."""
    bar_h, left, width = 9, 170, 560
    span = width - left - 60
    row_h = bar_h * max(1, len(roles)) + 8
    height = 10 + row_h * max(1, len(groups))
    body = []
    for i, (key, row) in enumerate(groups.items()):
        y = 6 + i * row_h
        label = f"{key} (n={row['n']}{', small' if row['small'] else ''})"
        body.append(f'<text x="{left - 6}" y="{y + 10}" text-anchor="end" {_FONT}>{escape(label)}</text>')
        for j, (role, role_label) in enumerate(roles):
            value = row.get(role)
            if value is None:
                continue
            colour = ROLE_COLOURS.get(role, "#777")
            body.append(
                f'<rect x="{left}" y="{y + j * bar_h}" width="{_f(span * value)}" height="{bar_h - 1}" fill="{colour}">'
                f"<title>{escape(role_label)}: {value:.3f}</title></rect>"
            )
    return _svg(width, height, body, title)
