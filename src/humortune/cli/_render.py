"""Terminal rendering of the values the library returns: the CLI's one place for rich tables and spinners.

Library modules return values (reports as dicts, sweep rows, job progress events); these functions draw them,
so rich stays out of the library's layers and the CLI output is what it always was. Imports stay light (rich
only) so ``humortune --help`` does not pay for them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape as rich_escape
from rich.spinner import Spinner
from rich.table import Table

if TYPE_CHECKING:  # pragma: no cover
    from humortune.tuner.jobs import JobProgress
    from humortune.tuner.sweep import SweepReport

__all__ = ["JobSpinner", "print_summary", "sweep_table"]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def print_summary(data: dict[str, Any], console: Console) -> None:
    """The terminal summary of a JSON report: systems, paired comparison, gate verdict, warnings, report path."""
    from humortune.evaluator.report import report_title  # the evaluator loads only for commands that print it

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


class JobSpinner:
    """A rich spinner fed by `TuningJob.wait(on_progress=...)`; each job's final status line stays printed.

    ```python
    with JobSpinner(err_console) as spinner:
        model = job.wait(on_progress=spinner, console=err_console)
    ```
    """

    def __init__(self, console: Console) -> None:
        self._spinner = Spinner("dots", text="")
        self._live = Live(self._spinner, console=console, refresh_per_second=8, transient=True)

    def __enter__(self) -> JobSpinner:
        self._live.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._live.stop()

    def __call__(self, event: JobProgress) -> None:
        """Show one progress event: update the spinner, or print the final line above it."""
        if event.ended:
            self._live.console.print(event.text)
        else:
            self._spinner.update(text=event.text)


def sweep_table(report: SweepReport) -> Table:
    """A sweep's jobs side by side, best validation loss first (`Sweep.report`)."""
    table = Table(title=f"sweep {report.sweep_id}", show_lines=False)
    for title in ("job", "state", "epochs", "lr×", "adapter", "resolution", "est. $", "billable tok", "val loss"):
        table.add_column(title, justify="right" if title not in ("job", "state", "resolution") else "left")
    for r in report.rows:
        loss = f"{r['eval_loss']:.4f}" if r["eval_loss"] is not None else "— (see experiment)"
        table.add_row(
            r["job"],
            r["state"],
            str(r["epochs"] or "auto"),
            str(r["learning_rate_multiplier"] or "auto"),
            str(r["adapter_size"] or "auto"),
            str(r["media_resolution"]).removeprefix("MEDIA_RESOLUTION_"),
            f"{r['estimate_usd_high']:.2f}",
            f"{r['billable_tokens']:,}" if r["billable_tokens"] is not None else "—",
            loss,
        )
    return table
