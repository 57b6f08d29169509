"""``humortune tune``, ``humortune sweep``, ``humortune jobs …`` and ``humortune models …``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from humortune.cli._app import app, console, err_console, print_json, state
from humortune.cli._render import JobSpinner, sweep_table
from humortune.errors import HumortuneError

if TYPE_CHECKING:  # pragma: no cover
    from humortune.gemini import GeminiClient
    from humortune.schema import DatasetVersion, TunedModel
    from humortune.settings import Settings
    from humortune.tuner import TuningJob
    from humortune.tuner.registry import JobRow, ModelRegistry
    from humortune.workspace import Corpus

jobs_app = typer.Typer(help="Tuning jobs: list, show, wait, cancel.", no_args_is_help=True)
models_app = typer.Typer(help="Tuned models and their lineage (no subcommand: list them).")
app.add_typer(jobs_app, name="jobs")
app.add_typer(models_app, name="models")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON array instead of a table.")]
OfflineOpt = Annotated[bool, typer.Option("--offline", help="Use the bundled FakeGemini (no credentials, no cost).")]
AllowRetiringOpt = Annotated[
    bool,
    typer.Option("--allow-retiring", help="Tune on a base model retiring within 30 days (recorded on the job)."),
]
DatasetArg = Annotated[
    str | None, typer.Argument(help="Dataset version id (prefix ok; default: latest) or a gs://…/train.jsonl URI.")
]


def _settings(offline: bool) -> Settings:
    return state().settings(offline=True) if offline else state().settings()


def _client(settings: Settings) -> GeminiClient:

    from humortune.app import default_client

    return default_client(settings)


def _preflight(settings: Settings, target: DatasetVersion | str) -> None:
    """`humortune doctor`'s checks that tuning needs, stopping at the first failure in one line.

    A local dataset is left to the tuner's own refusal (it says how to move it to gs://); the base model is
    checked by the tuner (it may come from --base-model); an explicit gs:// dataset may live outside the
    configured storage, so the bucket checks are skipped for it.
    """
    from humortune.doctor import TUNE_CHECKS, preflight

    explicit = isinstance(target, str)
    in_gcs = target.startswith("gs://") if isinstance(target, str) else target.in_gcs
    if not (settings.offline or in_gcs):
        return
    skipped = {"base-model"} | ({"bucket", "service-agent"} if explicit else set())
    preflight(settings, [c for c in TUNE_CHECKS if c not in skipped])


def _dataset(corpus: Corpus, ref: str | None) -> DatasetVersion | str:
    if ref and ref.startswith(("gs://", "file://")):
        return ref
    from humortune.dataset.registry import resolve_version

    return resolve_version(corpus, ref)


def _labels(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"expected key=value, got {pair!r}", param_hint="--label")
        out[key.strip()] = value.strip()
    return out


def catalog_reason(settings: Settings) -> str:
    """Why the settings' base model: the catalog's reasoning when it is the catalog's default."""
    from humortune import catalog

    try:
        if catalog.default_base_model(settings.location).id == catalog.normalize(settings.base_model):
            return catalog.default_reason(settings.location)
    except HumortuneError:
        pass
    return f"{settings.base_model} (from settings; see `humortune models catalog`)"


def _warn_if_catalog_stale() -> None:
    from humortune import catalog

    stale = catalog.stale_warning()
    if stale:
        err_console.print(f"[yellow]warning:[/] {escape(stale)}", soft_wrap=True)


def _offline_banner(settings: Settings) -> None:
    if settings.offline:
        err_console.print("[bold magenta]offline:[/] FakeGemini answers instead of Vertex AI; nothing is billed")


@app.command()
def tune(
    dataset: DatasetArg = None,
    base_model: Annotated[str | None, typer.Option("--base-model", "-m", help="Base or tuned model.")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", help="3–5; default: Vertex chooses.")] = None,
    lr: Annotated[float | None, typer.Option("--lr", help="Learning-rate multiplier 0.5–2.0.")] = None,
    adapter_size: Annotated[int | None, typer.Option("--adapter-size", help="4, 8 or 16 (Pro: 4 or 8).")] = None,
    checkpoint: Annotated[str | None, typer.Option("--checkpoint", help="Continue from this checkpoint.")] = None,
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="key=value, repeatable.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the exact request body; send nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before costly jobs.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Submit even if the same job exists.")] = False,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for the job and register the model.")] = True,
    allow_retiring: AllowRetiringOpt = False,
    offline: OfflineOpt = False,
) -> None:
    """Submit a dataset version to Vertex AI supervised tuning (shows the cost; asks above the threshold)."""
    from humortune.tuner import Tuner

    settings = _settings(offline)
    _offline_banner(settings)
    with state().corpus(settings) as corpus:
        target = _dataset(corpus, dataset)
        if not dry_run:
            _preflight(settings, target)
        tuner = Tuner(
            base_model,
            epochs=epochs,
            learning_rate_multiplier=lr,
            adapter_size=adapter_size,
            checkpoint_id=checkpoint,
            display_name=display_name,
            labels=_labels(label or []),
            # No client here: built lazily by submit, so a local dataset is refused before credentials are looked
            # for; a dry run never builds one (the body comes from the request value alone).
            corpus=corpus,
            settings=settings,
            allow_retiring=allow_retiring or None,
        )
        tuner.check_lifecycle()  # before anything is printed: a retired base is refused with its successor
        _warn_if_catalog_stale()
        estimate = tuner.estimate(target)
        if dry_run:
            if base_model is None:
                err_console.print(f"[dim]base model: {escape(catalog_reason(settings))}[/]", soft_wrap=True)
            from humortune.gemini import render_tuning_body

            request = tuner.build(target)
            console.print(f"POST …/projects/{request.project}/locations/{request.location}/tuningJobs")
            console.print_json(json.dumps(render_tuning_body(request), ensure_ascii=False))
            _print_estimate(estimate)
            if isinstance(target, str) or not target.in_gcs:
                err_console.print("[yellow]note:[/] `humortune tune` (without --offline) needs the dataset in gs://")
            return
        _print_estimate(estimate)
        job = tuner.submit(target, force=force, yes=yes, confirm=lambda message: typer.confirm(message, default=False))
        verb = "already submitted (not paying twice; --force to resubmit)" if job.reused else "submitted"
        console.print(f"[bold]{escape(job.name)}[/] {verb}: {job.state}", soft_wrap=True)
        if wait:
            with JobSpinner(err_console) as spinner:
                model = job.wait(on_progress=spinner, console=err_console)
            _print_model(model)
        else:
            console.print(f"watch it with: humortune jobs wait {job.name}", soft_wrap=True)


@app.command()
def sweep(
    dataset: DatasetArg = None,
    max_cost: Annotated[float, typer.Option("--max-cost", help="Refuse if the estimated total is above (USD).")] = 20.0,
    epochs: Annotated[str | None, typer.Option("--epochs", help="Comma list, e.g. 3,5.")] = None,
    lr: Annotated[str | None, typer.Option("--lr", help="Comma list, e.g. 0.5,1.0.")] = None,
    adapter_size: Annotated[str | None, typer.Option("--adapter-size", help="Comma list, e.g. 4,8.")] = None,
    base_model: Annotated[str | None, typer.Option("--base-model", "-m")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y")] = False,
    wait: Annotated[bool, typer.Option("--wait/--no-wait")] = True,
    allow_retiring: AllowRetiringOpt = False,
    offline: OfflineOpt = False,
) -> None:
    """Submit a grid of jobs (epochs × lr × adapter size) under a cost cap; report them side by side."""
    from humortune.schema import DatasetVersion
    from humortune.tuner import Tuner

    settings = _settings(offline)
    _offline_banner(settings)
    grid: dict[str, list[Any]] = {}
    for key, text, cast in (
        ("epochs", epochs, int),
        ("learning_rate_multiplier", lr, float),
        ("adapter_size", adapter_size, int),
    ):
        if text:
            grid[key] = [cast(v) for v in text.split(",") if v.strip()]
    with state().corpus(settings) as corpus:
        target = _dataset(corpus, dataset)
        if not isinstance(target, DatasetVersion):
            raise typer.BadParameter("a sweep needs a built dataset version (its estimate caps the cost)")
        allowed = allow_retiring or None
        tuner = Tuner(base_model, client=_client(settings), corpus=corpus, settings=settings, allow_retiring=allowed)
        tuner.check_lifecycle()
        result = tuner.sweep(
            target, grid, max_cost=max_cost, yes=yes, confirm=lambda m: typer.confirm(m, default=False)
        )
        console.print(f"sweep [bold]{result.id}[/]: {len(result.jobs)} job(s), up to ${result.total_usd_high:.2f}")
        if wait:
            with JobSpinner(err_console) as spinner:
                result.wait(on_progress=spinner, console=err_console)
        console.print(sweep_table(result.report()))


@jobs_app.command("list")
def jobs_list(
    remote: Annotated[bool, typer.Option("--remote", help="Also list the project's jobs on Vertex AI.")] = False,
    as_json: JsonOpt = False,
    offline: OfflineOpt = False,
) -> None:
    """Tuning jobs known to the workspace (newest first).

    ``--json``: an array of {name, state, base_model, dataset_id, hyperparameters, estimate_usd, created_at}.
    """
    from humortune.tuner import Tuner

    settings = _settings(offline)
    with state().corpus(settings) as corpus:
        if as_json and not remote:
            print_json([_job_json(row) for row in _registry(corpus).jobs()])
            return
        client = _client(settings) if remote else None
        jobs = Tuner(client=client, corpus=corpus, settings=settings).jobs(remote=remote) if remote else None
        if as_json and jobs is not None:
            print_json([{"name": j.name, "state": j.state, "context": j.context} for j in jobs])
            return
        table = Table(title="tuning jobs")
        for column in ("job", "state", "base model", "dataset", "hyperparameters", "est. $", "created"):
            table.add_column(column)
        if jobs is None:
            from humortune.tuner.registry import ModelRegistry

            for row in ModelRegistry(corpus).jobs():
                hp = row.hyperparams
                table.add_row(
                    escape(row.name.rsplit("/", 1)[-1]),
                    row.state.removeprefix("JOB_STATE_"),
                    escape(row.base_model.rsplit("/", 1)[-1]),
                    escape(str(hp.get("dataset_id") or hp.get("train_uri") or "")),
                    _hp_text(hp),
                    f"{row.estimate_usd:.2f}" if row.estimate_usd is not None else "—",
                    row.created_at.strftime("%Y-%m-%d %H:%M"),
                )
        else:
            for job in jobs:
                info = job.info
                table.add_row(
                    escape(job.name.rsplit("/", 1)[-1]),
                    job.state or "?",
                    escape(str(info.base_model if info else "")),
                    escape(str(job.context.get("dataset_id") or (info.train_uri if info else ""))),
                    _hp_text(job.context or (info.hyperparameters if info else {})),
                    "—",
                    escape(str(info.create_time if info else "")),
                )
    console.print(table)


def _registry(corpus: Corpus) -> ModelRegistry:
    from humortune.tuner.registry import ModelRegistry

    return ModelRegistry(corpus)


def _job_json(row: JobRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "state": row.state,
        "base_model": row.base_model,
        "dataset_id": row.dataset_id,
        "hyperparameters": row.hyperparams,
        "estimate_usd": row.estimate_usd,
        "created_at": row.created_at.isoformat(),
    }


def _hp_text(hp: dict[str, Any]) -> str:
    def show(key: str) -> str:
        value = hp.get(key)
        return "auto" if value is None else str(value)

    return f"epochs {show('epochs')}, lr× {show('learning_rate_multiplier')}, adapter {show('adapter_size')}"


def _job(name: str, settings: Settings, corpus: Corpus) -> TuningJob:
    from humortune.tuner import TuningJob

    return TuningJob.from_name(name, settings=settings, corpus=corpus, client=_client(settings))


@jobs_app.command("show")
def jobs_show(name: Annotated[str, typer.Argument(help="Job name or id.")], offline: OfflineOpt = False) -> None:
    """The job's current state on Vertex AI (and the registered model once it succeeded)."""
    settings = _settings(offline)
    with state().corpus(settings) as corpus:
        job = _job(name, settings, corpus)
        info = job.refresh()
        console.print_json(json.dumps(info.to_dict(), ensure_ascii=False, default=str))
        if job.model is not None:
            _print_model(job.model)


@jobs_app.command("wait")
def jobs_wait(
    name: Annotated[str, typer.Argument(help="Job name or id.")],
    poll: Annotated[float | None, typer.Option("--poll", help="First poll interval, seconds.")] = None,
    offline: OfflineOpt = False,
) -> None:
    """Wait for a job (Ctrl-C stops waiting; the job keeps running) and register its model."""
    settings = _settings(offline)
    _offline_banner(settings)
    with state().corpus(settings) as corpus:
        with JobSpinner(err_console) as spinner:
            model = _job(name, settings, corpus).wait(poll_s=poll, on_progress=spinner, console=err_console)
        _print_model(model)


@jobs_app.command("cancel")
def jobs_cancel(
    name: Annotated[str, typer.Argument(help="Job name or id.")],
    yes: Annotated[bool, typer.Option("--yes", "-y")] = False,
    offline: OfflineOpt = False,
) -> None:
    """Cancel a running job (best effort; Vertex keeps its record as CANCELLED)."""
    settings = _settings(offline)
    with state().corpus(settings) as corpus:
        job = _job(name, settings, corpus)
        if not yes and not typer.confirm(f"Cancel {job.name}?", default=False):
            raise typer.Exit(1)
        info = job.cancel()
        console.print(f"{escape(job.name)}: {info.short_state}", soft_wrap=True)


@models_app.callback(invoke_without_command=True)
def models(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Tuned models and their lineage; without a subcommand, the same as `models list`."""
    if ctx.invoked_subcommand is None:
        models_list(as_json=as_json)


@models_app.command("list")
def models_list(as_json: JsonOpt = False) -> None:
    """Registered tuned models (newest first). The short id works wherever a model is named.

    ``--json``: an array of objects with every `TunedModel` field plus ``short_id`` and ``aliases``.
    """
    from humortune.tuner.registry import ModelRegistry, short_id
    from humortune.workspace import Stores

    with state().corpus() as corpus:
        models = ModelRegistry(corpus).models()
        aliases: dict[str, list[str]] = {}
        for alias in Stores.of(corpus.db).aliases.all():
            aliases.setdefault(alias.model_id, []).append(alias.name)
    if as_json:
        print_json(
            [
                {**m.model_dump(mode="json"), "short_id": short_id(m.id), "aliases": aliases.get(m.id, [])}
                for m in models
            ]
        )
        return
    if not models:
        console.print("no tuned models yet: run `humortune tune` (or `humortune tune --offline`)")
        return
    # Fits 80 columns: no box; full ids, prompt and resolution are in `models show` and --json.
    table = Table(title="tuned models", box=None, pad_edge=False, header_style="bold")
    for column in ("short id", "alias", "base", "dataset", "created"):
        table.add_column(column, no_wrap=True)
    for m in models:
        table.add_row(
            escape(short_id(m.id)),
            escape(", ".join(aliases.get(m.id, []))),
            escape(m.base_model),
            escape(m.dataset_id or str(m.stats.get("train_uri") or "")),
            m.created_at.strftime("%m-%d %H:%M"),
        )
    console.print(table)
    from humortune.cli.models import warn_if_base_retiring

    for base in sorted({m.base_model for m in models}):
        warn_if_base_retiring(base)


@models_app.command("show")
def models_show(
    ref: Annotated[str, typer.Argument(help="Model id, endpoint, job name or a unique fragment.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full lineage as JSON.")] = False,
) -> None:
    """A model's lineage: job, hyperparameters, dataset version, prompt version, training videos."""
    from humortune.tuner.registry import ModelRegistry

    with state().corpus() as corpus:
        lineage = ModelRegistry(corpus).lineage(ref)
    if as_json:
        console.print_json(json.dumps(lineage, ensure_ascii=False, default=str))
        return
    model, job, dataset = lineage["model"], lineage["job"] or {}, lineage["dataset"] or {}
    console.print(f"[bold]{escape(model['id'])}[/]", soft_wrap=True)
    rows = [
        ("endpoint", model.get("endpoint")),
        ("base model", model.get("base_model")),
        ("continued from", lineage.get("parent")),
        ("job", job.get("name")),
        ("hyperparameters", _hp_text(job.get("hyperparameters") or {})),
        ("dataset", dataset.get("id")),
        ("prompt version", lineage.get("prompt_version")),
        ("media resolution", model.get("media_resolution")),
        ("examples", f"{len(lineage['examples'])} ({len(lineage['videos'])} training/validation videos)"),
        ("checkpoints", ", ".join(str(c.get("checkpoint_id")) for c in model.get("checkpoints", []))),
    ]
    rec = (model.get("stats") or {}).get("reconciliation") or {}
    if rec.get("ratio_to_low") is not None:
        rows.append(
            (
                "tokens",
                f"billable {rec['billable_tokens']:,}/epoch vs estimated {rec['estimated_tokens_low']:,}–"
                f"{rec['estimated_tokens_high']:,} (×{rec['ratio_to_low']} of the low end); billed ≈ "
                f"${rec['billed_usd']:.2f}",
            )
        )
    for key, value in rows:
        if value:
            console.print(f"  {key:>16}: {escape(str(value))}", soft_wrap=True)


def _print_estimate(estimate: dict[str, Any] | None) -> None:
    if estimate is None:
        err_console.print("[yellow]cost:[/] unknown (no dataset estimate)")
        return
    assumed = " (assumed; Vertex picks)" if estimate["epochs_assumed"] else ""
    console.print(
        f"estimated cost: [bold]${estimate['usd_low']:.2f}–${estimate['usd_high']:.2f}[/] = "
        f"{estimate['tokens_per_epoch_low']:,}–{estimate['tokens_per_epoch_high']:,} tokens/epoch × "
        f"{estimate['epochs']} epochs{assumed} × ${estimate['price_per_mtok_usd']:g}/1M tokens",
        soft_wrap=True,
    )


def _print_model(model: TunedModel) -> None:
    console.print(f"model [bold]{escape(model.id)}[/]", soft_wrap=True)
    console.print(f"  endpoint: {escape(model.endpoint or '—')}", soft_wrap=True)
    rec = model.stats.get("reconciliation") or {}
    if rec.get("ratio_to_low") is not None:
        console.print(
            f"  billable tokens {rec['billable_tokens']:,}/epoch = ×{rec['ratio_to_low']} the low estimate "
            f"(×{rec['ratio_to_high']} the high); billed ≈ ${rec['billed_usd']:.2f}",
            soft_wrap=True,
        )
    console.print(f"  lineage: humortune models show {escape(model.id)}", soft_wrap=True)
