"""``humortune doctor``: the preflight checks, one line each with its fix."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from humortune.cli._app import app, console, state

_MARK = {"ok": "[green]✓ ok  [/]", "warn": "[yellow]! warn[/]", "fail": "[red]✗ fail[/]", "skip": "[dim]- skip[/]"}


@app.command()
def doctor(
    offline: Annotated[
        bool, typer.Option("--offline", help="Only the checks that need no network (the bundled FakeGemini).")
    ] = False,
    network: Annotated[bool, typer.Option("--network", help="Also check that yt-dlp reaches TikTok.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check settings, credentials, Vertex AI, the base model, the bucket and its IAM, disk and workspace.

    Exit code 0 only when everything `humortune tune` needs passes.
    """
    from humortune.doctor import Doctor

    report = Doctor(lambda: state().settings(offline=True) if offline else state().settings(), network=network).run()
    if as_json:
        console.print_json(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        for check in report.checks:
            fix = f" [bold]→[/] {escape(check.fix)}" if check.fix and check.status in ("fail", "warn") else ""
            console.print(f"{_MARK[check.status]} [bold]{check.name}[/]: {escape(check.message)}{fix}", soft_wrap=True)
        verdict = "[green]ready to tune[/]" if report.ok else "[red]not ready to tune[/]: fix the failed checks above"
        console.print(f"{verdict}  ({report.seconds:.1f} s)")
    if not report.ok:
        raise typer.Exit(1)
