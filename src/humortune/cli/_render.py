"""Terminal rendering of the values the library returns: the CLI's one place for rich tables and spinners.

Library modules return values (reports as dicts, sweep rows, job progress events); these functions draw them,
so rich stays out of the library's layers and the CLI output is what it always was.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table

from humortune.evaluator.report import report_title

__all__ = ["print_summary"]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def print_summary(data: dict[str, Any], console: Console) -> None:
    """The terminal summary of a JSON report: systems, paired comparison, gate verdict, warnings, report path."""
    test_set = data["test_set"]
    console.print(f"[bold]{rich_escape(report_title(data))}[/]  ({data['id']})")
    console.print(
        f"{test_set['source']}: {test_set['n']} clip(s)"
        + (f", {len(test_set['skipped'])} skipped" if test_set.get("skipped") else "")
    )
    console.print(_systems_table(data["systems"]))
    c = data.get("comparison")
    if c:
        wr, md = c["win_rate"], c["mean_difference"]
        small = " [yellow](small sample)[/]" if c["small"] else ""
        console.print(
            f"win rate {_fmt(wr['estimate'])} (95% CI {_fmt(wr['low'])}–{_fmt(wr['high'])}), "
            f"{c['wins']}W/{c['ties']}T/{c['losses']}L, mean difference {_fmt(md['estimate'])} "
            f"(95% CI {_fmt(md['low'])}–{_fmt(md['high'])}), sign test p={_fmt(c['sign_test_p'], 4)}{small}"
        )
        console.print(f"[dim]outcomes from the {data['outcome_source']}[/]")
    gate = data.get("gate")
    if gate:
        colour = "green" if gate["allowed"] else "red"
        console.print(f"[bold {colour}]{rich_escape(gate['summary'])}[/]")
    for warning in data.get("warnings", []):
        console.print(f"[yellow]warning:[/] {rich_escape(warning)}")
    if data.get("report_path"):
        console.print(f"report: {data['report_path']}")


def _systems_table(systems: list[dict[str, Any]]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in ("System", "Model", "Clips", "chrF", "ROUGE-L", "Mechanism PASS", "Composite"):
        table.add_column(column, justify="right" if column not in ("System", "Model") else "left")
    for s in systems:
        table.add_row(
            s["label"],
            s["model"],
            str(s["n"]) + (f" ({s['errors']} failed)" if s["errors"] else ""),
            _fmt(s["chrf"], 1),
            _fmt(s["rouge_l"]),
            _fmt(s["mechanism_pass_rate"]),
            _fmt(s["score"]),
        )
    return table
