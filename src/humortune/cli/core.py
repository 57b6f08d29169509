"""Workspace commands: init, import, status, config."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from humortune.cli._app import app, console, err_console, state
from humortune.workspace import Corpus, ImportReport

if TYPE_CHECKING:  # pragma: no cover
    from humortune.tuner.registry import ModelMatch


@app.command()
def init() -> None:
    """Create the workspace (database and local storage) if it does not exist."""
    backends = state().app()  # closed when the command ends
    settings, corpus = backends.settings, backends.corpus
    settings.workspace.mkdir(parents=True, exist_ok=True)  # on PostgreSQL the database is elsewhere: make the folder
    console.print(f"workspace ready: [bold]{settings.workspace}[/] (database {corpus.path.name})")
    if not settings.config_file.exists():
        console.print(f"optional settings file: {settings.config_file} (see `humortune config`)")


@app.command("import")
def import_(
    battery: Annotated[Path, typer.Argument(help="Battery file: JSON list, object with a list, or JSONL.")],
    strict: Annotated[bool, typer.Option("--strict", help="Import nothing if any item is invalid.")] = False,
) -> None:
    """Import the owner's corrections from a battery file (idempotent)."""
    report = state().app().corpus.import_battery(battery, strict=strict)
    print_import_report(report)


def print_import_report(report: ImportReport) -> None:
    """Render an import report: counts, then every problem with its item and field."""
    console.print(
        f"imported [bold]{report.imported}[/] item(s) from {escape(report.source)} ({escape(report.shape)}): "
        f"{report.added} new, {report.updated} updated, {report.unchanged} unchanged"
        + (f", {report.duplicates} exact duplicate(s) skipped" if report.duplicates else ""),
        soft_wrap=True,
    )
    if report.problems:
        err_console.print(f"[yellow]{report.skipped} item(s) skipped, {len(report.problems)} problem(s):[/]")
        for problem in report.problems:
            err_console.print(f"  [yellow]•[/] {escape(problem)}", soft_wrap=True)


@app.command()
def status() -> None:
    """Where the workspace stands: current model, latest dataset, what is waiting, and the next command."""
    backends = state().app()
    settings = backends.settings
    existed = settings.workspace.exists()
    counts = backends.corpus.status()
    lines = _status_lines(backends.corpus, counts)
    settings.workspace.mkdir(parents=True, exist_ok=True)  # on PostgreSQL nothing else creates the local folder
    if not existed and not any(counts.values()):  # a new laptop folder on a shared database is not a new workspace
        console.print(f"created {escape(str(settings.workspace))}/ (a new, empty workspace)")
    table = Table(title=f"workspace {escape(str(settings.workspace))}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, count in counts.items():
        table.add_row(name.replace("_", " "), str(count))
    console.print(table)
    for label, text in lines:
        console.print(f"[bold]{label:>15}:[/] {escape(text)}", soft_wrap=True)


def _status_lines(corpus: Corpus, counts: dict[str, int]) -> list[tuple[str, str]]:
    from humortune import catalog
    from humortune.dataset import list_versions
    from humortune.feedback.queue import ReviewQueue
    from humortune.tuner.registry import CURRENT, match_model, short_id

    found = match_model(corpus.db, CURRENT)
    if found is None:
        model = "none yet (tune one: humortune tune)"
    else:
        how = "" if found.alias else " — nothing promoted yet, the newest tuned model"
        model = f"{short_id(found.model.id)} (base {found.model.base_model}){how}"
        # The base's lifecycle: a tuned model retires with its base (60 days' warning, as analyze and serve give).
        model += f"; {catalog.lifecycle(found.model.base_model, within_days=catalog.WARN_WITHIN_DAYS).message()}"
    versions = list_versions(corpus)
    latest = versions[0] if versions else None
    dataset = "none yet"
    if latest is not None:
        split = "/".join(str(latest.counts.get(s, 0)) for s in ("train", "validation", "test"))
        dataset = f"{latest.id} (train/validation/test {split}, {'valid' if latest.valid else 'INVALID'})"
    unreviewed = sum(ReviewQueue(corpus).counts().values())
    missing = counts.get("corrections_without_video", 0)
    waiting = f"{unreviewed} unreviewed analyses, {missing} corrections without video"
    next_step = _next_command(counts, latest is not None, found, unreviewed)
    return [("current model", model), ("latest dataset", dataset), ("waiting", waiting), ("next", next_step)]


def _next_command(counts: dict[str, int], has_dataset: bool, current: ModelMatch | None, unreviewed: int) -> str:
    """The one command that moves this workspace forward."""
    if not counts.get("corrections"):
        return "humortune prepare BATTERY (try datasets/sample_battery.json)"
    if counts.get("corrections_without_video"):
        return "humortune ingest (then humortune build)"
    if not has_dataset:
        return "humortune build"
    if current is None:
        return "humortune tune (or humortune tune --offline to try it free)"
    if current.alias is None:
        return f"humortune eval, then humortune promote {current.model.id.rsplit('/', 1)[-1]}"
    if unreviewed:
        return "humortune review (correct the model's outputs)"
    return "humortune analyze VIDEO (or humortune retrain --budget 20 once reviews add up)"


@app.command()
def config() -> None:
    """Show the effective settings and where each value came from (secrets redacted)."""
    settings = state().settings()
    config_file = settings.config_file
    where = str(config_file) if config_file.exists() else f"none; optional {config_file}"
    table = Table(title=escape(f"effective settings (settings file: {where})"))
    table.add_column("setting")
    table.add_column("value")
    table.add_column("from")
    for name, value, origin in settings.describe():
        table.add_row(name, value, origin)
    console.print(table)
