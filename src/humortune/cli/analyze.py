"""``humortune analyze``, ``humortune batch …`` and ``humortune serve``: the analyzer on the command line."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from humortune.cli._app import app, console, err_console, print_json, state
from humortune.schema import Analysis, OutputMode
from humortune.settings import Settings

if TYPE_CHECKING:
    from humortune.analyzer.analyzer import AnalysisResult, Analyzer
    from humortune.analyzer.batch import BatchRun
    from humortune.app import App
    from humortune.service import Service

batch_app = typer.Typer(help="Vertex AI batch prediction jobs started with `humortune analyze --batch`.")
app.add_typer(batch_app, name="batch")

_Model = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Alias (current), model id, endpoint or base model. Default: current, else the base model.",
    ),
]
_Mode = Annotated[
    str, typer.Option("--mode", help="two-stage (record by a base model), joint (one answer) or narrative only.")
]
_Offline = Annotated[bool, typer.Option("--offline", help="Use the bundled FakeGemini instead of Vertex AI.")]


def _settings(offline: bool) -> Settings:
    if offline:
        state().offline = True
    return state().settings()


def _mode(value: str) -> OutputMode:
    if value not in ("two-stage", "joint", "narrative"):
        raise typer.BadParameter("choose two-stage, joint or narrative", param_hint="--mode")
    return value  # type: ignore[return-value]


def _analyzer(backends: App, model: str | None, mode: str, **kw: Any) -> Analyzer:
    from humortune.analyzer.analyzer import Analyzer

    analyzer = Analyzer.from_app(backends, model, mode=_mode(mode), **kw)
    for note in analyzer.notes:
        err_console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    if analyzer.model.kind != "base":
        from humortune.cli.models import warn_if_base_retiring

        warn_if_base_retiring(analyzer.model.base_model)
    return analyzer


@app.command()
def analyze(
    videos: Annotated[list[str], typer.Argument(help="Local files, gs:// URIs or TikTok/http URLs.")],
    model: _Model = None,
    mode: _Mode = "two-stage",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line instead of panels.")] = False,
    offline: _Offline = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="Ignore cached analyses (calls the model again).")] = False,
    concurrency: Annotated[int, typer.Option("--concurrency", "-j", min=1, max=64, help="Clips in flight.")] = 8,
    max_rps: Annotated[
        float | None, typer.Option("--max-rps", min=0.01, help="At most this many model calls per second.")
    ] = None,
    batch: Annotated[
        bool, typer.Option("--batch", help="Submit one Vertex AI batch prediction job instead (half price, slow).")
    ] = False,
    wait: Annotated[bool, typer.Option("--wait", help="With --batch: wait for the job and collect it.")] = False,
) -> None:
    """Analyse clips with the tuned model: the owner's Swedish narrative plus a validated record.

    Results are cached in the workspace, so running it again on the same clips costs nothing.
    """
    _settings(offline)
    analyzer = _analyzer(state().app(), model, mode, max_rps=max_rps)  # the App closes when the command ends
    try:
        if batch:
            run = analyzer.batch(videos)
            _print_run(run)
            if wait:
                _wait_and_collect(run, as_json=as_json)
            return
        failed = _analyze_all(analyzer, videos, refresh=refresh, concurrency=concurrency, as_json=as_json)
    finally:
        analyzer.close()
    if failed:
        raise typer.Exit(1)


def _analyze_all(analyzer: Analyzer, videos: list[str], *, refresh: bool, concurrency: int, as_json: bool) -> int:
    failed = 0
    show_bar = len(videos) > 1 and err_console.is_terminal
    with Progress(
        TextColumn("[bold]analyze"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=True, disable=not show_bar,
    ) as bar:  # fmt: skip
        task = bar.add_task("", total=len(videos))
        for result in analyzer.analyze_many(
            videos, concurrency=concurrency, refresh=refresh, progress=lambda _: bar.advance(task)
        ):
            failed += not result.ok
            if as_json:
                print(json.dumps(_json_line(result), ensure_ascii=False), flush=True)
            else:
                console.print(_render(result))
    if failed and not as_json:
        err_console.print(f"[red]{failed} of {len(videos)} clip(s) failed[/]")
    return failed


def _json_line(result: AnalysisResult) -> dict[str, Any]:
    if result.analysis is not None:
        return {"input": result.video, "ok": True, "analysis": result.analysis.model_dump(mode="json")}
    error = result.error
    detail = {"type": type(error).__name__, "message": getattr(error, "message", str(error))}
    detail["hint"] = getattr(error, "hint", None)
    return {"input": result.video, "ok": False, "error": detail}


def _render(result: AnalysisResult) -> Panel:
    title = escape(result.video)
    if result.analysis is None:
        return Panel(
            f"[red]{type(result.error).__name__}:[/] {escape(str(result.error))}", title=title, border_style="red"
        )
    return render_analysis(result.analysis, title=title)


def render_analysis(analysis: Analysis, *, title: str = "") -> Panel:
    """A rich panel: narrative, record fields, warnings, and what it cost."""
    body = Table.grid(padding=(0, 1))
    body.add_column(style="bold", no_wrap=True)
    body.add_column()
    body.add_row("narrative", escape(analysis.narrative))
    if analysis.record is not None:
        for name, value in analysis.record.model_dump(mode="json").items():
            body.add_row(name.replace("_", " "), escape(str(value)))
    for warning in analysis.warnings:
        body.add_row("[yellow]warning[/]", f"[yellow]{escape(warning)}[/]")
    cost = "n/a" if analysis.cost_usd is None else f"${analysis.cost_usd:.5f}"
    spent = "cached, no cost" if analysis.cached else f"{analysis.latency_s:.1f} s, {cost}"
    body.add_row(
        "[dim]model[/]",
        f"[dim]{escape(analysis.model)} · {analysis.mode} · prompt {analysis.prompt_version} · "
        f"{analysis.usage.total_tokens} tokens · {spent} · {analysis.id}[/]",
    )
    return Panel(body, title=title, border_style="yellow" if analysis.warnings else "green")


# -- batch --------------------------------------------------------------------------------------------


def _print_run(run: BatchRun) -> None:
    console.print(
        f"batch [bold]{run.id}[/]: {len(run.items)} clip(s), job {escape(run.job_name)} "
        f"({run.state.removeprefix('JOB_STATE_')})"
    )
    console.print(f"collect it later with: humortune batch collect {run.id} --wait")


def _wait_and_collect(run: BatchRun, *, as_json: bool, poll_s: float = 30.0) -> None:
    info = run.wait(
        poll_s=poll_s, on_poll=lambda i: err_console.print(f"  {i.state.removeprefix('JOB_STATE_')}", highlight=False)
    )
    if not info.succeeded:
        err_console.print(f"[red]batch job ended {info.state}: {escape(info.error_message or '')}[/]")
        raise typer.Exit(1)
    failed = 0
    for result in run.collect():
        failed += not result.ok
        if as_json:
            print(json.dumps(_json_line(result), ensure_ascii=False), flush=True)
        else:
            console.print(_render(result))
    if failed:
        raise typer.Exit(1)


@batch_app.command("list")
def batch_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array instead of a table.")] = False,
) -> None:
    """Batch runs recorded in this workspace (no call to Vertex).

    ``--json``: an array of {id, state, clips, collected, model, created_at}.
    """
    from humortune.analyzer.batch import list_batches

    runs = list_batches(state().settings().workspace)
    if as_json:
        keys = ("id", "state", "collected", "model", "created_at")
        print_json([{**{k: run.get(k) for k in keys}, "clips": len(run.get("items", []))} for run in runs])
        return
    table = Table()
    for column in ("id", "state", "clips", "collected", "model", "created"):
        table.add_column(column)
    for run in runs:
        table.add_row(
            run["id"], str(run["state"]).removeprefix("JOB_STATE_"), str(len(run["items"])), str(run["collected"]),
            escape(run["model"]), run["created_at"],
        )  # fmt: skip
    console.print(table)


@batch_app.command("collect")
def batch_collect(
    run_id: Annotated[str, typer.Argument(help="The batch id printed by `humortune analyze --batch`.")],
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the job to finish first.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
    offline: _Offline = False,
    poll: Annotated[
        float | None, typer.Option("--poll", min=0, help="Seconds between polls with --wait [30; 0.2 offline].")
    ] = None,
) -> None:
    """Refresh a batch job and, once it has finished, store and print its analyses."""
    from humortune.analyzer.batch import load_batch

    settings = _settings(offline)
    run = load_batch(_peek_analyzer(state().app(), run_id), run_id)
    if not wait:
        run.refresh()
        if not run.has_ended:
            _print_run(run)
            return
    # The offline fake advances per poll, so waiting 30 s between polls would only waste time.
    _wait_and_collect(run, as_json=as_json, poll_s=poll if poll is not None else (0.2 if settings.offline else 30.0))


def _peek_analyzer(backends: App, run_id: str) -> Analyzer:
    from humortune.analyzer.analyzer import Analyzer

    path = backends.settings.workspace / "batches" / f"{run_id}.json"
    if not path.is_file():
        from humortune.errors import AnalysisError

        raise AnalysisError("no such batch run in this workspace", hint="see `humortune batch list`", item=run_id)
    data = json.loads(path.read_text("utf-8"))
    return Analyzer.from_app(backends, data["model"], mode=data["mode"])


# -- serve --------------------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[
        str,
        typer.Option(
            "--host", envvar="HUMORTUNE_HOST", help="Interface to bind (keep 127.0.0.1 unless behind a proxy)."
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", "-p", envvar="PORT", min=1, max=65535, help="TCP port (Cloud Run sets PORT).")
    ] = 8000,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            envvar="HUMORTUNE_MODEL",
            help="Default model for requests: alias, model id, endpoint or base model. Default: current, else base.",
        ),
    ] = None,
    mode: _Mode = "two-stage",
    offline: _Offline = False,
    token_file: Annotated[
        Path | None, typer.Option("--token-file", help="Also write the bearer token to this file (mode 600).")
    ] = None,
    write_openapi: Annotated[
        Path | None,
        typer.Option("--write-openapi", help="Write the OpenAPI schema (JSON) to this file and exit; no server."),
    ] = None,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request (off by default: it costs 6–9% of throughput).")
    ] = False,
) -> None:
    """Run the JSON API (POST /v1/analyze, GET /v1/analyses/{id}, /docs) for apps that are not Python.

    Configuration comes from the environment (HUMORTUNE_*) as everywhere; the startup line names the model
    that answers requests without a ``model``, and warns when that is a base model (nothing promoted)."""
    try:
        import uvicorn

        from humortune.service import create_app
    except ImportError as exc:  # fastapi and uvicorn come with the [ui] extra
        from humortune.errors import ConfigError

        raise ConfigError(
            f"humortune serve needs {exc.name or 'fastapi/uvicorn'}", hint="pip install 'humortune[ui]'"
        ) from exc

    settings = _settings(offline)
    # Offline means nothing leaves the machine: no yt-dlp downloads of TikTok URLs that were never ingested.
    app_ = create_app(settings, model=model, mode=_mode(mode), fetch_urls=not settings.offline)
    if write_openapi is not None:
        from humortune.service.openapi import write_openapi as write_schema

        err_console.print(f"wrote {escape(str(write_schema(app_, write_openapi)))}", highlight=False)
        return
    token: str = app_.state.service.token
    _warn_if_serving_a_retiring_base(app_.state.service)
    if token_file is not None:
        token_file.parent.mkdir(parents=True, exist_ok=True)
        token_file.touch(mode=0o600)
        token_file.write_text(token + "\n", "utf-8")
    if not _is_loopback(host):
        err_console.print(
            f"[yellow]warning:[/] listening on {escape(host)}: anyone who can reach it with the token spends your money"
        )
    err_console.print(f"humortune serve: http://{escape(host)}:{port}  (docs at /docs)", highlight=False)
    _print_served_model(app_.state.service)
    if settings.api_token is None:
        err_console.print(f"bearer token (random, this run only): {token}", highlight=False, soft_wrap=True)
    uvicorn.run(app_, host=host, port=port, log_level="info", access_log=access_log)


def _print_served_model(service: Service) -> None:
    served = service.served_model()
    via = f" (alias {served.alias})" if served.alias else ""
    err_console.print(f"serving model: {escape(served.model_id)}{via}", highlight=False, soft_wrap=True)
    if served.kind == "base":
        err_console.print(
            f"[bold red]WARNING: {escape(served.model_id)} is a BASE model, not a tuned one[/]: nothing is promoted "
            "as 'current', so answers will not read clips the way the owner does. Promote a model "
            "(humortune promote) or pass --model.",
            soft_wrap=True,
        )


def _warn_if_serving_a_retiring_base(service: Any) -> None:
    from humortune.analyzer.resolve import resolve_model
    from humortune.cli.models import warn_if_base_retiring
    from humortune.errors import HumortuneError

    try:
        resolved = resolve_model(service.model or "current", db=service.corpus.db)
    except HumortuneError:
        return  # nothing promoted yet: each request says so itself
    if resolved.kind != "base":
        warn_if_base_retiring(resolved.base_model)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
