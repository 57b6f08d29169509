"""``humortune prepare``: the main job."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from humortune.cli._app import app, console, state
from humortune.cli.core import print_import_report


@app.command()
def prepare(
    battery: Annotated[Path, typer.Argument(help="Battery file with the owner's corrections.")],
    strict: Annotated[bool, typer.Option("--strict", help="Stop if any battery item is invalid.")] = False,
) -> None:
    """Import → ingest → build → validate → estimate: a battery becomes a tuning-ready dataset."""
    from humortune.cli.ingest import IngestProgressBar, default_report_path, print_ingest_report
    from humortune.pipeline import prepare as run_prepare

    settings = state().settings()
    console.rule("[bold]1. import → 2. ingest")
    with IngestProgressBar() as bar:
        result = run_prepare(battery, settings=settings, strict=strict, ingest_progress=bar)
    print_import_report(result.imported)
    if result.ingested is not None:
        path = result.ingested.save_json(default_report_path(settings))
        print_ingest_report(result.ingested)
        console.print(f"ingest report saved to {path}")
