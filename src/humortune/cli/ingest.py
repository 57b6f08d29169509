"""``humortune ingest``: download, probe and store every correction's video, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from humortune.cli._app import app, console, err_console, state
from humortune.settings import Settings

if TYPE_CHECKING:
    from humortune.ingest import IngestProgress, IngestReport

_STYLE = {"ok": "green", "present": "cyan", "failed": "red"}


@app.command()
def ingest(
    only_failed: Annotated[
        bool, typer.Option("--only-failed", help="Retry only the sources that failed last time.")
    ] = False,
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", "-j", min=1, max=64, help="Parallel downloads (default: settings)."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Where to save the JSON report (default: in the workspace).")
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="List every source, not only failures.")] = False,
) -> None:
    """Download, probe and store every correction's video (idempotent; safe to interrupt and rerun)."""
    from humortune.ingest import Ingestor

    backends = state().app()
    settings = backends.settings
    with IngestProgressBar() as bar:
        result = Ingestor.from_app(backends, concurrency=concurrency, progress=bar).run(only_failed=only_failed)
    path = result.save_json(report or default_report_path(settings))
    print_ingest_report(result, show_all=show_all)
    console.print(f"report saved to {path}")
    if result.failed:
        raise typer.Exit(1)


def default_report_path(settings: Settings) -> Path:
    """``<workspace>/reports/ingest.json``: the latest ingest report."""
    return settings.workspace / "reports" / "ingest.json"


class IngestProgressBar:
    """A rich progress bar driven by `Ingestor`'s progress callback (shown only while sources run)."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, event: IngestProgress) -> None:
        if self._progress is None:
            if event.total == 0:
                return
            self._progress = Progress(
                TextColumn("[bold]ingest"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("", total=event.total)
        assert self._task is not None
        outcome = event.outcome
        label = ""
        if outcome is not None:
            label = f"[{_STYLE[outcome.status]}]{outcome.status}[/] {escape(_short(outcome.url))}"
        self._progress.update(self._task, completed=event.completed, description=label)
        if event.completed >= event.total:
            self.close()

    def close(self) -> None:
        """Stop drawing (idempotent)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> IngestProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def print_ingest_report(report: IngestReport, *, show_all: bool = False) -> None:
    """Render an ingest report: a summary line, then a table of failures (or of every source)."""
    counts = report.counts
    colour = "red" if counts["failed"] else "green"
    console.print(
        f"[{colour}]ingest:[/] {counts['ok']} stored, {counts['present']} already present, "
        f"{counts['failed']} failed  ({report.bytes_downloaded / 2**20:.1f} MB down, "
        f"{report.bytes_uploaded / 2**20:.1f} MB up, {report.seconds:.1f} s) → {escape(report.storage_uri)}",
        soft_wrap=True,  # a URI must stay one word: the terminal may wrap it, rich must not break it
    )
    rows = report.outcomes if show_all else report.failed
    if not rows:
        return
    table = Table(title="sources" if show_all else "sources that need attention", show_lines=False)
    table.add_column("status")
    table.add_column("source", overflow="fold", max_width=48)
    table.add_column("what happened", overflow="fold")
    table.add_column("suggested fix", overflow="fold")
    for o in rows:
        if o.status == "failed":
            detail = f"[bold]{o.category}[/]: {escape(o.message or '')}"
            if o.transient:
                detail += " [dim](temporary)[/]"
            fix = escape(o.hint or "")
        else:
            detail, fix = escape(o.uri or ""), ""
        table.add_row(f"[{_STYLE[o.status]}]{o.status}[/]", escape(o.url), detail, fix)
    (err_console if not show_all else console).print(table)
    if report.failed:
        err_console.print("fix the sources above, then run [bold]humortune ingest --only-failed[/]")


def _short(url: str, width: int = 60) -> str:
    return url if len(url) <= width else "…" + url[-(width - 1) :]
