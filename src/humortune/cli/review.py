"""Feedback commands: ``review`` (the browser UI), ``retrain`` (the retraining policy), ``niches``."""

from __future__ import annotations

import socket
from typing import Annotated, Any

import typer

from humortune.cli._app import app, console, err_console, state

_WILDCARD = {"0.0.0.0", "::", ""}


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@app.command()
def review(
    host: Annotated[
        str, typer.Option("--host", help="Interface to bind. Keep 127.0.0.1 unless you know why not.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: pick a free one).", min=0, max=65535)] = 8765,
    offline: Annotated[bool, typer.Option("--offline", help="Use FakeGemini for any analysis the app runs.")] = False,
) -> None:
    """Open the review UI: correct the model's readings of clips in the browser, with the keyboard.

    Prints a URL with a fresh random token; every request (pages, video bytes) needs it. The same app serves
    the JSON API of `humortune serve` under /v1 (same token).
    """
    try:
        import uvicorn

        from humortune.feedback import ReviewSecurity, create_review_app
        from humortune.feedback.security import loopback_hosts
    except ImportError as exc:  # fastapi, uvicorn and jinja2 come with the [ui] extra
        from humortune.errors import ConfigError

        raise ConfigError(
            f"humortune review needs {exc.name or 'fastapi/uvicorn'}", hint="pip install 'humortune[ui]'"
        ) from exc

    settings = state().settings(**({"offline": True} if offline else {}))
    loopback = host in loopback_hosts()
    allowed = None if host in _WILDCARD else loopback_hosts() | {host}
    security = ReviewSecurity(allowed_hosts=allowed)
    if not loopback:
        err_console.print(
            f"[yellow]warning:[/] binding to {host}: the review UI is reachable from the network, protected only by"
            " the token, over plain HTTP. Prefer 127.0.0.1 and an SSH tunnel."
        )
    if port == 0:
        port = _free_port("127.0.0.1" if host in _WILDCARD else host)
    app_ = create_review_app(settings, security=security)
    shown = "127.0.0.1" if host in _WILDCARD else (f"[{host}]" if ":" in host else host)
    console.print(f"review UI for workspace [bold]{settings.workspace}[/]")
    console.print(f"open: http://{shown}:{port}/review/?token={security.token}", soft_wrap=True)
    console.print("press ? in the page for keyboard shortcuts; Ctrl+C here to stop")
    # No access log: the first request carries the token in its query string.
    uvicorn.run(app_, host=host, port=port, log_level="warning", access_log=False)


_ATTENTION = {"over_budget", "leak"}  # outcomes that need the owner: non-zero exit for cron mail


def _print_outcome(label: str, outcome: object) -> None:
    from rich.markup import escape

    from humortune.feedback.retrain import RetrainOutcome

    assert isinstance(outcome, RetrainOutcome)
    colour = {"proposed": "green", "refused": "yellow", "over_budget": "red", "leak": "red"}.get(outcome.status, "")
    status = f"[{colour}]{outcome.status}[/]" if colour else outcome.status
    console.print(f"{escape(label)}: {status}: {escape(outcome.message)}", soft_wrap=True)
    if outcome.triggers is not None:
        for reason in outcome.triggers.reasons:
            console.print(f"  trigger: {escape(reason)}", soft_wrap=True)
    details = [
        ("dataset", outcome.dataset_id),
        ("tuned from", outcome.start_model),
        (
            "estimate",
            f"${outcome.estimate_usd[0]:.2f}–${outcome.estimate_usd[1]:.2f}" if outcome.estimate_usd else None,
        ),
        ("job", outcome.job_name),
        ("candidate", outcome.model_id),
        ("against", outcome.incumbent if outcome.model_id else None),
        ("report", outcome.report_path),
    ]
    for name, value in details:
        if value:
            console.print(f"  {name}: {escape(str(value))}", soft_wrap=True)
    for leak in outcome.leaks[:20]:
        err_console.print(f"  [red]leak:[/] {escape(leak)}", soft_wrap=True)


@app.command()
def retrain(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Submit without asking (cron).")] = False,
    budget: Annotated[
        float | None, typer.Option("--budget", help="Most this run may cost, USD (upper estimate).", min=0)
    ] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Tune and evaluate with FakeGemini.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Run even if no trigger fired (guards still apply).")] = False,
    start_from: Annotated[
        str | None, typer.Option("--from", help="current: continue the current tuned model; base: start over.")
    ] = None,
    niche: Annotated[str | None, typer.Option("--niche", help="Retrain this niche's model instead.")] = None,
    min_corrections: Annotated[
        int | None, typer.Option("--min-corrections", help="New corrections that trigger a run.", min=1)
    ] = None,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Submit and return; the next run continues.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check triggers, build, price; submit nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
    base_model: Annotated[
        str | None, typer.Option("--base-model", "-m", help="With --from base: the base model to start over on.")
    ] = None,
    allow_retiring: Annotated[
        bool, typer.Option("--allow-retiring", help="Tune on a base retiring within 30 days (recorded).")
    ] = False,
) -> None:
    """Turn new corrections into an evaluated candidate model; the owner confirms it in `humortune review`.

    Idempotent and safe from cron: nothing happens until enough corrections arrived (or the held-out score
    drifted), a rerun reuses the dataset, the job and the verdict, and overlapping runs do not collide.
    Exit code 2 when the owner must act (over budget, leakage).
    """
    import json

    from humortune.errors import ConfigError
    from humortune.feedback.retrain import Retrainer, RetrainPolicy

    if start_from not in (None, "current", "base"):
        raise ConfigError(
            f"--from must be current or base, not {start_from!r}", hint="use --from current or --from base"
        )
    overrides: dict[str, object] = {"offline": True} if offline else {}
    if base_model:
        overrides["base_model"] = base_model
    if allow_retiring:
        overrides["allow_retiring"] = True
    backends = state().app(**overrides)  # closed when the command ends
    settings = backends.settings
    policy = RetrainPolicy.from_settings(
        settings, budget_usd=budget, start_from=start_from, niche=niche, min_new_corrections=min_corrections
    )
    retrainer = Retrainer(backends.corpus, policy, settings=settings)
    outcome = retrainer.run(
        force=force,
        yes=yes,
        wait=not no_wait,
        dry_run=dry_run,
        progress=not as_json,
        confirm=None if yes else (lambda message: typer.confirm(message, default=False)),
    )
    if as_json:
        console.print_json(json.dumps(outcome.as_dict(), default=str))
    else:
        _print_outcome(policy.alias, outcome)
    if outcome.status in _ATTENTION:
        raise typer.Exit(2)


@app.command()
def niches(
    train: Annotated[bool, typer.Option("--train", help="Tune models for eligible niches (retrain policy).")] = False,
    compare: Annotated[
        bool, typer.Option("--compare", help="Run missing specialist-vs-generalist comparisons (costs calls).")
    ] = False,
    min_corrections: Annotated[
        int | None, typer.Option("--min-corrections", help="Corrections a niche needs for its own model.", min=1)
    ] = None,
    only: Annotated[str | None, typer.Option("--niche", help="Only this niche.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Submit without asking.")] = False,
    budget: Annotated[float | None, typer.Option("--budget", help="Most each niche run may cost, USD.", min=0)] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Tune and evaluate with FakeGemini.")] = False,
) -> None:
    """Per-niche models: which niches have enough corrections, their models, and where they beat the generalist."""
    from rich.markup import escape
    from rich.table import Table

    from humortune.feedback.niches import niche_report, train_niches
    from humortune.feedback.queue import short_model

    overrides: dict[str, object] = {"offline": True} if offline else {}
    if min_corrections is not None:
        overrides["niche_min_corrections"] = min_corrections
    backends = state().app(**overrides)  # closed when the command ends
    settings, corpus = backends.settings, backends.corpus
    if train:
        extra: dict[str, Any] = {"budget_usd": budget} if budget is not None else {}
        outcomes = train_niches(corpus, settings=settings, only=only, yes=yes, **extra)
        if not outcomes:
            console.print(f"no niche has {settings.niche_min_corrections} usable corrections yet")
        for name, outcome in outcomes.items():
            _print_outcome(f"niche:{name}", outcome)
    rows = niche_report(corpus, settings=settings, compare=compare)
    table = Table(title=f"niches (own model from {settings.niche_min_corrections} usable corrections)")
    for column in ("niche", "corrections", "usable", "eligible", "niche model", "vs generalist"):
        table.add_column(column, justify="right" if column in ("corrections", "usable") else "left")
    for row in rows:
        if only is not None and row.niche != only:
            continue
        model = row.promoted or row.candidate
        shown = short_model(model) + ("" if row.promoted else " (not promoted)") if model else "—"
        rate = (row.comparison or {}).get("win_rate") or {}
        figure = f" (win rate {rate['estimate']:.2f}, n={row.comparison.get('n')})" if "estimate" in rate else ""
        table.add_row(
            escape(row.niche), str(row.corrections), str(row.usable), "yes" if row.eligible else "no",
            escape(shown), row.verdict + figure,
        )  # fmt: skip
    console.print(table)
    console.print("clips of a niche without a promoted model go to the generalist 'current'")
