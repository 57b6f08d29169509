"""Evaluation commands: ``eval``, ``compare``, ``promote``, ``rollback``, ``report``, ``calibrate``, ``aliases``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from humortune.cli._app import app, console, err_console, print_json, state
from humortune.errors import EvaluationError, PromotionRefusedError
from humortune.settings import Settings

if TYPE_CHECKING:
    from humortune.evaluator import Evaluator, GateDecision
    from humortune.evaluator.results import EvaluationReport
    from humortune.workspace import Corpus
    from humortune.workspace.stores import EvaluationRecord

_Offline = Annotated[bool, typer.Option("--offline", help="Use the bundled FakeGemini instead of Vertex AI.")]
_On = Annotated[
    str | None,
    typer.Option(
        "--on",
        help="Clips to evaluate: a dataset version id (its test split), 'test' (the held-out split) or 'all' "
        "(every correction: NOT held out). Default: the newest dataset version's test split.",
    ),
]
_Niche = Annotated[str | None, typer.Option("--niche", help="Only clips of this niche.")]
_NoJudge = Annotated[
    bool, typer.Option("--no-judge", help="Reference metrics only: no model judge (and no judge costs).")
]
_Json = Annotated[bool, typer.Option("--json", help="Print the JSON summary instead of tables.")]
_Alias = Annotated[str, typer.Option("--alias", help="Registry alias, e.g. current or niche:restaurant.")]


def _settings(offline: bool) -> Settings:
    return state().settings(**({"offline": True} if offline else {}))


def _evaluator(
    settings: Settings, corpus: Corpus, *, no_judge: bool = False, progress: EvalProgressBar | None = None
) -> Evaluator:
    from humortune.evaluator import Evaluator

    return Evaluator(corpus, settings=settings, judges=not no_judge, progress=progress)


class EvalProgressBar:
    """A rich progress bar (on stderr) driven by the `Evaluator`'s progress callback: one row per stage."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._progress is None:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
            )
            self._progress.start()
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(escape(stage), total=total)
        self._progress.update(self._tasks[stage], completed=done, total=total)

    def __enter__(self) -> EvalProgressBar:
        return self

    def __exit__(self, *_: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def _show(report: EvaluationReport, as_json: bool) -> None:
    from humortune.cli._render import print_summary

    if as_json:
        print(json.dumps(report.summary_dict(), ensure_ascii=False, indent=1, default=str))
    else:
        print_summary(report.as_dict(), console)


@app.command("eval")
def eval_(
    model: Annotated[
        str | None,
        typer.Argument(
            help="Alias, model id, endpoint or base model \\[default: current, else the newest tuned model]."
        ),
    ] = None,
    on: _On = None,
    base: Annotated[
        str | None, typer.Option("--base", help="Baseline model (default: the model's base model).")
    ] = None,
    no_base: Annotated[bool, typer.Option("--no-base", help="Do not evaluate a base model beside it.")] = False,
    niche: _Niche = None,
    no_judge: _NoJudge = False,
    as_json: _Json = False,
    offline: _Offline = False,
) -> None:
    """Score a model against the owner on the held-out clips, beside its base model and the old answers.

    Cached analyses are reused; only missing clips are analysed. Writes report.json and a self-contained
    report.html under the workspace's reports/ folder.
    """
    settings = _settings(offline)
    with state().corpus(settings) as corpus, EvalProgressBar() as bar:
        model = model or _default_model(corpus)
        evaluator = _evaluator(settings, corpus, no_judge=no_judge, progress=bar)
        try:
            report = evaluator.evaluate(model, on=on, base=False if no_base else base, niche=niche)
        finally:
            evaluator.close()
    _show(report, as_json)


def _default_model(corpus: Corpus) -> str:
    """``current`` once something is promoted; before that, the newest tuned model (said out loud)."""
    from humortune.evaluator.registry import AliasRegistry
    from humortune.tuner.registry import ModelRegistry

    if AliasRegistry(corpus).current() is not None:
        return "current"
    tuned = [m for m in ModelRegistry(corpus).models() if m.job_name]
    if not tuned:
        return "current"  # the evaluator's own error says what to do
    err_console.print(f"note: nothing is promoted yet; evaluating the newest tuned model {escape(tuned[0].id)}")
    return tuned[0].id


@app.command()
def compare(
    candidate: Annotated[str, typer.Argument(help="The model that would be promoted.")],
    incumbent: Annotated[str, typer.Argument(help="The model it must beat.")] = "current",
    on: _On = None,
    niche: _Niche = None,
    no_judge: _NoJudge = False,
    as_json: _Json = False,
    offline: _Offline = False,
) -> None:
    """A/B two models on the same held-out clips: win/tie/loss, bootstrap CI, sign test, slices, gate verdict."""
    settings = _settings(offline)
    with state().corpus(settings) as corpus, EvalProgressBar() as bar:
        evaluator = _evaluator(settings, corpus, no_judge=no_judge, progress=bar)
        try:
            report = evaluator.compare(candidate, incumbent, on=on, niche=niche)
        finally:
            evaluator.close()
    _show(report, as_json)


def _print_gate(decision: GateDecision) -> None:
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for check in decision.checks:
        result = "[green]pass[/]" if check.passed else ("[yellow]overridden[/]" if check.overridden else "[red]fail[/]")
        table.add_row(check.name, result, escape(check.detail))
    console.print(table)
    for note in decision.notes:
        console.print(f"[dim]{escape(note)}[/]")


@app.command()
def promote(
    model: Annotated[str, typer.Argument(help="The candidate model (id, endpoint or base model name).")],
    alias: _Alias = "current",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Confirm without asking (you are the owner).")] = False,
    override_judge: Annotated[
        bool, typer.Option("--override-judge", help="Let an uncalibrated judge gate (recorded in the evidence).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Promote even if the gate refuses (recorded as forced).")
    ] = False,
    on: _On = None,
    offline: _Offline = False,
) -> None:
    """Compare a candidate with the alias's model, apply the promotion gate, and move the alias if you confirm.

    Every outcome (refused, proposed, promoted) is recorded with its evidence; `humortune aliases` shows them.
    """
    settings = _settings(offline)

    def confirm(decision: GateDecision, report: EvaluationReport) -> bool:
        _print_gate(decision)
        console.print(f"report: {report.report_path}")
        return typer.confirm(f"Make {decision.candidate} {alias!r} (replacing {decision.incumbent})?", default=False)

    with state().corpus(settings) as corpus:
        evaluator = _evaluator(settings, corpus)
        try:
            event = evaluator.promote(
                model, alias=alias, on=on, yes=yes, confirm=confirm, override_judge=override_judge, force=force
            )
        except PromotionRefusedError as exc:
            if exc.decision is not None:
                _print_gate(exc.decision)  # type: ignore[arg-type]
            raise
        finally:
            evaluator.close()
    if event.action == "propose":
        console.print(f"[yellow]not promoted[/]: recorded as a proposal (#{event.id}); {alias!r} is unchanged")
        raise typer.Exit(1)
    console.print(
        f"[green]promoted[/] {escape(event.model_id or '')} to {alias!r}"
        + (f" (was {escape(event.previous_id)})" if event.previous_id else "")
        + "; undo with `humortune rollback`"
    )


@app.command()
def rollback(
    alias: _Alias = "current",
    to: Annotated[
        str | None, typer.Option("--to", help="A model that held the alias before (default: the previous one).")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why, for the record.")] = None,
) -> None:
    """Restore the model that held the alias before the current one (recorded with the reason)."""
    settings = state().settings()
    with state().corpus(settings) as corpus:
        evaluator = _evaluator(settings, corpus)
        event = evaluator.rollback(alias=alias, to=to, reason=reason)
    console.print(f"{alias!r}: {escape(event.previous_id or '')} → [bold]{escape(event.model_id or '')}[/]")


def _report_data(corpus: Corpus, settings: Settings, ref: str) -> dict[str, Any]:
    from humortune.evaluator.report import load_report

    path = Path(ref)
    if ref not in ("latest",) and path.exists():
        return load_report(path)
    from humortune.workspace import Stores

    evaluations = Stores.of(corpus.db).evaluations
    found = evaluations.latest() if ref == "latest" else next(iter(evaluations.matching(ref)), None)
    if found is None:
        raise EvaluationError(
            f"no evaluation {ref!r} in this workspace", hint="run humortune eval or compare; --list shows them"
        )
    data: dict[str, Any] = dict(found.summary)
    data["clips"] = [{k: v for k, v in item.scores.items() if k != "score"} for item in evaluations.items(found.id)]
    return data


@app.command()
def report(
    ref: Annotated[
        str, typer.Argument(help="Evaluation id (or prefix), 'latest', or a report.json / report folder.")
    ] = "latest",
    list_: Annotated[bool, typer.Option("--list", help="List the stored evaluations instead.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --list: print a JSON array.")] = False,
) -> None:
    """Show an evaluation's summary and (re)write its self-contained HTML report.

    ``--list --json``: an array of {id, created_at, kind, model, incumbent, clips, win_rate, gate_allowed}.
    """
    from humortune.cli._render import print_summary
    from humortune.evaluator.report import write_report

    settings = state().settings()
    with state().corpus(settings) as corpus:
        if list_:
            _list_evaluations(corpus, as_json=as_json)
            return
        data = _report_data(corpus, settings, ref)
    folder = settings.workspace / "reports" / data["id"]
    data["report_path"] = str(folder / "report.html")
    write_report(data, folder)
    print_summary(data, console)


def _list_evaluations(corpus: Corpus, *, as_json: bool = False) -> None:
    table = Table(show_edge=False, pad_edge=False)
    for column in ("id", "when", "kind", "model", "vs", "clips", "win rate", "gate"):
        table.add_column(column)
    from humortune.workspace import Stores

    records = Stores.of(corpus.db).evaluations.all(limit=50)
    if as_json:
        print_json([_evaluation_json(record) for record in records])
        return
    for record in records:
        s = record.summary
        comparison, gate = s.get("comparison") or {}, s.get("gate")
        wr = (comparison.get("win_rate") or {}).get("estimate")
        table.add_row(
            record.id,
            _stored_time(record)[:16],
            s.get("kind", ""),
            escape(record.model),
            escape(record.incumbent or ""),
            str(s.get("test_set", {}).get("n", "")),
            f"{wr:.3f}" if isinstance(wr, float) else "",
            "" if gate is None else ("[green]allowed[/]" if gate["allowed"] else "[red]refused[/]"),
        )
    console.print(table if records else "no evaluations yet: run humortune eval or compare")


def _stored_time(record: EvaluationRecord) -> str:
    return record.created_at.isoformat(timespec="microseconds")


def _evaluation_json(record: EvaluationRecord) -> dict[str, Any]:
    s = record.summary
    gate = s.get("gate")
    return {
        "id": record.id,
        "created_at": _stored_time(record),
        "kind": s.get("kind"),
        "model": record.model,
        "incumbent": record.incumbent,
        "clips": s.get("test_set", {}).get("n"),
        "win_rate": ((s.get("comparison") or {}).get("win_rate") or {}).get("estimate"),
        "gate_allowed": None if gate is None else gate["allowed"],
    }


@app.command()
def calibrate(
    labels: Annotated[
        Path | None, typer.Option("--labels", help="A JSON/JSONL labels file (default: the owner's labels).")
    ] = None,
    store: Annotated[bool, typer.Option("--import", help="Also store the file's labels in the workspace.")] = False,
    offline: _Offline = False,
) -> None:
    """Check the judges against the owner's own PASS/FAIL marks and blind A/B choices.

    A judge below the configured agreement (judge_min_agreement, on at least judge_min_labels labels)
    cannot gate a promotion unless overridden.
    """
    from humortune.evaluator.calibration import import_labels

    settings = _settings(offline)
    with state().corpus(settings) as corpus:
        if labels is not None and store:
            added = import_labels(corpus, labels)
            console.print(f"stored {added} new owner label(s) from {escape(str(labels))}")
        evaluator = _evaluator(settings, corpus)
        try:
            reports = evaluator.calibrate(None if store else labels)
        finally:
            evaluator.close()
    table = Table(show_edge=False, pad_edge=False)
    for column in ("judge", "labels", "agreement", "κ", "false-pass", "false-fail", "status"):
        table.add_column(column)

    def fmt(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    for name, r in reports.items():
        colour = "green" if r.calibrated else "red"
        table.add_row(
            name,
            str(r.n),
            fmt(r.agreement),
            fmt(r.kappa),
            fmt(r.false_pass_rate),
            fmt(r.false_fail_rate),
            f"[{colour}]{escape(r.status)}[/]",
        )
    console.print(table)
    if not any(r.n for r in reports.values()):
        err_console.print(
            "[yellow]no owner labels yet:[/] mark PASS/FAIL and make blind A/B choices in `humortune review`,"
            " or pass --labels FILE",
            soft_wrap=True,
        )


@app.command()
def aliases(
    alias: Annotated[str | None, typer.Option("--alias", help="Only this alias's history.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="History rows to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Registry aliases (current, niche:…) and the recorded history of promotions, refusals and rollbacks.

    ``--json``: {"aliases": {alias: model id}, "history": [{id, created_at, alias, action, model_id,
    previous_id, evidence}]}.
    """
    from humortune.evaluator.registry import AliasRegistry

    with state().corpus() as corpus:
        registry = AliasRegistry(corpus)
        current = registry.aliases()
        history = registry.history(alias, limit=limit)
    if as_json:
        events = [
            {
                "id": e.id,
                "created_at": e.created_at,
                "alias": e.name,
                "action": e.action,
                "model_id": e.model_id,
                "previous_id": e.previous_id,
                "evidence": e.evidence,
            }
            for e in history
        ]
        print_json({"aliases": current, "history": events})
        return
    for name, model_id in current.items():
        console.print(f"[bold]{escape(name)}[/] → {escape(model_id)}")
    if not current:
        console.print("no alias yet: promote a model with `humortune promote MODEL`")
    table = Table(show_edge=False, pad_edge=False)
    for column in ("#", "when", "alias", "action", "model", "previous", "evidence"):
        table.add_column(column, overflow="fold")
    for event in history:
        gate = event.evidence.get("gate") or {}
        detail = event.evidence.get("summary") or gate.get("summary") or event.evidence.get("reason") or ""
        table.add_row(
            str(event.id),
            event.created_at[:16],
            escape(event.name),
            event.action,
            escape(event.model_id or ""),
            escape(event.previous_id or ""),
            escape(str(detail)),
        )
    if history:
        console.print(table)
