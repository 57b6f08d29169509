"""Workspace commands: init, import, status, config, prepare."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from humortune.cli._app import app, console, err_console, state
from humortune.settings import CONFIG_FILE
from humortune.workspace import ImportReport


@app.command()
def init() -> None:
    """Create the workspace (database and local storage) if it does not exist."""
    settings = state().settings()
    with state().corpus(settings) as corpus:
        console.print(f"workspace ready: [bold]{settings.workspace}[/] (database {corpus.path.name})")
    if not settings.config_file.exists():
        console.print(f"optional settings file: {settings.config_file} (see `humortune config`)")


@app.command("import")
def import_(
    battery: Annotated[Path, typer.Argument(help="Battery file: JSON list, object with a list, or JSONL.")],
    strict: Annotated[bool, typer.Option("--strict", help="Import nothing if any item is invalid.")] = False,
) -> None:
    """Import the owner's corrections from a battery file (idempotent)."""
    with state().corpus() as corpus:
        report = corpus.import_battery(battery, strict=strict)
    print_import_report(report)


def print_import_report(report: ImportReport) -> None:
    """Render an import report: counts, then every problem with its item and field."""
    console.print(
        f"imported [bold]{report.imported}[/] item(s) from {escape(report.source)} ({escape(report.shape)}): "
        f"{report.added} new, {report.updated} updated, {report.unchanged} unchanged"
        + (f", {report.duplicates} exact duplicate(s) skipped" if report.duplicates else "")
    )
    if report.problems:
        err_console.print(f"[yellow]{report.skipped} item(s) skipped, {len(report.problems)} problem(s):[/]")
        for problem in report.problems:
            err_console.print(f"  [yellow]•[/] {escape(problem)}", soft_wrap=True)


@app.command()
def status() -> None:
    """Counts per table in the workspace."""
    with state().corpus() as corpus:
        counts = corpus.status()
    table = Table(title=f"workspace {state().settings().workspace}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, count in counts.items():
        table.add_row(name.replace("_", " "), str(count))
    console.print(table)


@app.command()
def config() -> None:
    """Show the effective settings and where each value came from (secrets redacted)."""
    settings = state().settings()
    table = Table(title=f"settings (file: {settings.workspace / CONFIG_FILE})")
    table.add_column("setting")
    table.add_column("value")
    table.add_column("from")
    for name, value, origin in settings.describe():
        table.add_row(name, value, origin)
    console.print(table)
