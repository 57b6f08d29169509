"""``humortune prepare``: the main job."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from humortune.cli._app import app, console, err_console, state
from humortune.cli.core import print_import_report


@app.command()
def prepare(
    battery: Annotated[Path, typer.Argument(help="Battery file with the owner's corrections.")],
    strict: Annotated[bool, typer.Option("--strict", help="Stop if any battery item is invalid.")] = False,
    split: Annotated[str, typer.Option("--split", help="Dataset shares: train,validation[,test].")] = "0.72,0.18,0.1",
    target: Annotated[str, typer.Option("--target", help="narrative, or narrative+record.")] = "narrative",
    drop_invalid: Annotated[
        bool, typer.Option("--drop-invalid", help="Leave examples that break Vertex's rules out of the dataset.")
    ] = False,
) -> None:
    """Import → ingest → build → validate → estimate: a battery becomes a tuning-ready dataset."""
    from humortune.cli.dataset import parse_split, print_build_result, print_request_body
    from humortune.cli.ingest import IngestProgressBar, default_report_path, print_ingest_report
    from humortune.doctor import PREPARE_CHECKS, preflight
    from humortune.pipeline import prepare as run_prepare

    settings = state().settings()
    preflight(settings, PREPARE_CHECKS, purpose="prepare")  # e.g. gs:// without credentials: one line, no work
    console.rule("[bold]1. import → 2. ingest")
    with IngestProgressBar() as bar:
        result = run_prepare(
            battery,
            settings=settings,
            strict=strict,
            ingest_progress=bar,
            split=parse_split(split),
            target_format=target,  # type: ignore[arg-type]  # checked by the builder
            drop_invalid=drop_invalid,
            raise_dataset_errors=False,
        )
    print_import_report(result.imported)
    if result.ingested is not None:
        path = result.ingested.save_json(default_report_path(settings))
        print_ingest_report(result.ingested)
        console.print(f"ingest report saved to {path}")
    console.rule("[bold]3. build → validate → estimate")
    if result.dataset_error is not None:
        raise result.dataset_error
    if result.dataset is not None:
        print_build_result(result.dataset)
        console.rule("[bold]4. the tuning request `humortune tune` would send")
        if result.request is not None:
            print_request_body(result.request, result.dataset.version, settings)
        else:
            err_console.print(f"[yellow]no tuning request preview:[/] {escape(result.request_error or '')}")
