"""Dataset commands: ``build``, ``validate``, ``estimate`` and ``datasets list|show|diff``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from humortune.cli._app import app, console, err_console, print_json, state
from humortune.errors import DatasetError, HumortuneError

if TYPE_CHECKING:
    from humortune.dataset import BuildResult, ValidationReport
    from humortune.schema import CostEstimate, DatasetVersion
    from humortune.settings import Settings
    from humortune.workspace import Corpus

datasets_app = typer.Typer(help="List, show and compare dataset versions.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")

_SPLIT_HELP = "Shares: train,validation or train,validation,test (held-out test is frozen once assigned)."


def parse_split(text: str) -> tuple[float, ...]:
    """``"0.8,0.2"`` → ``(0.8, 0.2)``; a `DatasetError` for anything else."""
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise DatasetError(f"invalid --split {text!r}", hint="e.g. --split 0.8,0.2 or 0.7,0.2,0.1") from None


@app.command()
def build(
    split: Annotated[str, typer.Option("--split", help=_SPLIT_HELP)] = "0.72,0.18,0.1",
    seed: Annotated[str, typer.Option("--seed", help="Seed for assigning clips not yet split.")] = "humortune",
    target: Annotated[
        str, typer.Option("--target", help="Model turn: narrative, or narrative+record (narrative then the JSON).")
    ] = "narrative",
    resolution: Annotated[
        str | None, typer.Option("--resolution", help="MEDIA_RESOLUTION_LOW|MEDIUM|HIGH (default: settings).")
    ] = None,
    niche: Annotated[str | None, typer.Option("--niche", help="Only corrections of this niche.")] = None,
    base_model: Annotated[str | None, typer.Option("--base-model", help="For limits and price.")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", help="Epochs for the cost estimate.")] = None,
    drop_invalid: Annotated[bool, typer.Option("--drop-invalid", help="Leave invalid examples out.")] = False,
    no_stratify: Annotated[bool, typer.Option("--no-stratify", help="Do not balance niches/categories.")] = False,
    request: Annotated[bool, typer.Option("--request", help="Also print the tuning request body.")] = False,
) -> None:
    """Build, validate and price a dataset version from the corpus (idempotent)."""
    from humortune.dataset import DatasetBuilder

    settings = state().settings()
    with state().corpus(settings) as corpus:
        result = DatasetBuilder(corpus, settings=settings).run(
            split=parse_split(split),
            seed=seed,
            target_format=target,  # type: ignore[arg-type]  # checked by the builder
            media_resolution=resolution,
            niche=niche,
            stratify=not no_stratify,
            base_model=base_model,
            epochs=epochs,
            drop_invalid=drop_invalid,
        )
        print_build_result(result)
        if request:
            print_request_preview(result.version, settings, corpus=corpus, base_model=base_model, epochs=epochs)


@app.command()
def validate(
    file: Annotated[Path | None, typer.Argument(help="A JSONL file to check (default: the latest dataset).")] = None,
    validation: Annotated[
        Path | None, typer.Option("--validation", help="The validation JSONL that goes with FILE.")
    ] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="Dataset version id (or prefix).")] = None,
    vertex: Annotated[
        bool | None,
        typer.Option("--vertex/--local", help="Require gs:// URIs (default: when storage is gs://)."),
    ] = None,
    base_model: Annotated[str | None, typer.Option("--base-model", help="Model whose limits apply.")] = None,
) -> None:
    """Check a dataset against Vertex AI's rules: per-line named errors and warnings. Exit 1 on errors."""
    settings = state().settings()
    with state().corpus(settings) as corpus:
        report, where = _validate(corpus, settings, file, validation, dataset, vertex, base_model)
    print_validation(report, where)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def estimate(
    file: Annotated[Path | None, typer.Argument(help="A JSONL file to price (default: the latest dataset).")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="Dataset version id (or prefix).")] = None,
    base_model: Annotated[str | None, typer.Option("--base-model", help="Model to price (default: settings).")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", help="Training epochs (default: 4, assumed).")] = None,
    validation: Annotated[Path | None, typer.Option("--validation", help="Validation JSONL for FILE.")] = None,
) -> None:
    """Training tokens and cost as a low/high range, per split and in total, with the assumptions."""
    from humortune.dataset import estimate_cost

    settings = state().settings()
    model = base_model or settings.base_model
    with state().corpus(settings) as corpus:
        report, _ = _validate(corpus, settings, file, validation, dataset, False, model)
    resolutions = [r for r in report.media_resolutions if r != "unset"]
    resolution = resolutions[0] if len(resolutions) == 1 else settings.media_resolution
    result = estimate_cost(
        report.tokens,
        base_model=model,
        media_resolution=resolution,
        epochs=epochs,
        settings=settings,
        unknown_durations=report.unknown_durations,
    )
    print_estimate(result)


def _validate(
    corpus: Corpus,
    settings: Settings,
    file: Path | None,
    validation: Path | None,
    dataset: str | None,
    vertex: bool | None,
    base_model: str | None,
) -> tuple[ValidationReport, str]:
    from humortune.dataset import validate_jsonl
    from humortune.dataset.registry import resolve_version, storage_key, video_facts
    from humortune.storage import open_storage

    storage = open_storage(settings=settings)
    for_vertex = vertex if vertex is not None else settings.storage_uri.startswith("gs://")
    facts = video_facts(corpus, storage)
    model = base_model or settings.base_model
    files: dict[str, Path | bytes] = {}
    if file is not None:
        if not file.is_file():
            raise DatasetError("no such file", hint="give the path of a .jsonl file", item=str(file))
        name = file.name.lower()
        files["validation" if "valid" in name or name.startswith("val") else "train"] = file
        if validation is not None:
            files["validation"] = validation
        where = ", ".join(str(p) for p in files.values())
    else:
        version = resolve_version(corpus, dataset)
        for split, uri in (("train", version.train_uri), ("validation", version.validation_uri)):
            key = storage_key(storage, uri) if uri else None
            if uri and key is None:
                raise DatasetError(
                    f"the dataset's files are not in the configured storage ({settings.storage_uri})",
                    hint=f"validate the file directly: humortune validate {uri}",
                    item=version.id,
                )
            if key is not None:
                files[split] = storage.read_bytes(key)
        where = f"dataset {version.id}"
    return validate_jsonl(files, base_model=model, for_vertex=for_vertex, facts=facts), where


# -- datasets list | show | diff ------------------------------------------------------------------------


@datasets_app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array instead of a table.")] = False,
) -> None:
    """Every dataset version, newest first (split: train/validation/test examples).

    ``--json``: an array of `DatasetVersion` objects (id, counts, URIs, validity, estimate, …).
    """
    from humortune.dataset import list_versions

    with state().corpus() as corpus:
        versions = list_versions(corpus)
    if as_json:
        print_json([v.model_dump(mode="json") for v in versions])
        return
    if not versions:
        console.print("no dataset versions yet: run `humortune build` (or `humortune prepare`)")
        return
    # Fits an 80-column terminal: no box, short headers; the media resolution is in `datasets show`/--json.
    table = Table(title="dataset versions", box=None, pad_edge=False, header_style="bold")
    for column in ("id", "created", "split", "target", "valid", "GCS", "USD"):
        table.add_column(column, no_wrap=True, justify="right" if column == "split" else "left")
    for v in versions:
        cost = f"{v.estimate.usd_low:.2f}–{v.estimate.usd_high:.2f}" if v.estimate else "?"
        table.add_row(
            v.id,
            v.created_at.strftime("%m-%d %H:%M"),
            "/".join(str(v.counts.get(s, 0)) for s in ("train", "validation", "test")),
            v.target_format,
            "yes" if v.valid else "[red]no[/]",
            "yes" if v.in_gcs else "no",
            cost,
        )
    console.print(table)


@datasets_app.command("show")
def show(
    version_id: Annotated[str, typer.Argument(help="Version id, unique prefix, or 'latest'.")] = "latest",
    request: Annotated[bool, typer.Option("--request", help="Also print the tuning request body.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the version and manifest as JSON.")] = False,
) -> None:
    """One version: files, counts, warnings, estimate and lineage."""
    from humortune.dataset.registry import resolve_version, version_manifest

    settings = state().settings()
    with state().corpus(settings) as corpus:
        version = resolve_version(corpus, version_id)
        recorded = version_manifest(corpus, version.id)
        body = _preview(version, settings, corpus=corpus) if request else None
        missing = _file_problems(corpus, settings, version.id)
    if as_json:
        payload = {"version": version.model_dump(mode="json"), **recorded}
        console.print_json(json.dumps(payload, ensure_ascii=False))
        return
    manifest = recorded["manifest"]
    print_version(version)
    for split, problem in missing.items():
        fix = "run `humortune build` with the same options to restore it"
        console.print(f"  [red]{split}: {escape(problem)}[/] — {fix}", soft_wrap=True)
    console.print(f"built with: {escape(json.dumps(recorded['settings'], ensure_ascii=False))}")
    console.print(f"prompt {manifest['prompt']['version']}: {escape(manifest['prompt']['text'])}")
    if manifest.get("split", {}).get("strata"):
        table = Table(title="clips per stratum (niche/category)")
        for column in ("stratum", "train", "validation", "test"):
            table.add_column(column)
        for stratum, counts in manifest["split"]["strata"].items():
            table.add_row(escape(stratum or "—"), *(str(counts.get(s, 0)) for s in ("train", "validation", "test")))
        console.print(table)
    if version.estimate:
        print_estimate(version.estimate)
    if body is not None:
        print_request_body(body, version, settings)


def _file_problems(corpus: Corpus, settings: Settings, version_id: str) -> dict[str, str]:
    """A recorded version is only as good as its files: check them in the configured storage."""
    from humortune.dataset.registry import verify_files
    from humortune.storage import open_storage

    try:
        return verify_files(corpus, open_storage(settings=settings), version_id)
    except HumortuneError as exc:
        return {"files": f"could not be checked: {exc}"}


@datasets_app.command("diff")
def diff(
    old: Annotated[str, typer.Argument(help="The earlier version (id or prefix).")],
    new: Annotated[str, typer.Argument(help="The later version (id or prefix, or 'latest').")] = "latest",
) -> None:
    """Added, removed, changed and moved examples between two versions, by correction id."""
    from humortune.dataset import diff_versions

    with state().corpus() as corpus:
        result = diff_versions(corpus, old, new)
    console.print(
        f"{result.old} → {result.new}: {len(result.added)} added, {len(result.removed)} removed, "
        f"{len(result.changed)} changed, {len(result.moved)} moved, {result.unchanged} unchanged"
    )
    for ref in result.added:
        console.print(f"  [green]+[/] {escape(ref.correction_id)} ({ref.split})")
    for ref in result.removed:
        console.print(f"  [red]-[/] {escape(ref.correction_id)} ({ref.split})")
    for before, after in result.changed:
        console.print(f"  [yellow]~[/] {escape(after.correction_id)} ({before.split}): row changed")
    for before, after in result.moved:
        console.print(f"  [yellow]>[/] {escape(after.correction_id)}: {before.split} → {after.split}")


# -- rendering (also used by `humortune prepare`) ---------------------------------------------------------


def print_build_result(result: BuildResult) -> None:
    """The outcome of a build: new or existing version, counts, skipped corrections, warnings, estimate."""
    version = result.version
    verb = "built" if result.created else "already built (nothing written)"
    if result.restored:
        verb = f"already built; restored its missing {', '.join(f'{s}.jsonl' for s in result.restored)}"
    console.print(f"dataset [bold]{version.id}[/] {verb}")
    print_version(version)
    if result.skipped:
        err_console.print(f"[yellow]{len(result.skipped)} correction(s) not in the dataset:[/]")
        for item in result.skipped[:20]:
            err_console.print(
                f"  [yellow]•[/] {escape(item.correction_id)}: {escape(item.reason)} — {escape(item.hint)}",
                soft_wrap=True,
            )
        if len(result.skipped) > 20:
            err_console.print(f"  … and {len(result.skipped) - 20} more (see `humortune datasets show`)")
    if version.estimate:
        print_estimate(version.estimate)


def print_version(version: DatasetVersion) -> None:
    """Counts, files and warnings of a version."""
    counts = ", ".join(f"{version.counts.get(s, 0)} {s}" for s in ("train", "validation", "test"))
    state_text = "[green]valid[/]" if version.valid else "[red]invalid[/]"
    console.print(
        f"{counts} · {version.target_format} · {version.media_resolution} · {state_text}"
        + ("" if version.in_gcs else " · local files (not submittable to Vertex until stored in GCS)"),
        soft_wrap=True,
    )
    for label, uri in (
        ("train", version.train_uri),
        ("validation", version.validation_uri),
        ("test", version.test_uri),
    ):
        if uri:
            console.print(f"  {label:<10} {escape(uri)}", soft_wrap=True)  # never broken mid-URI
    for warning in version.warnings:
        err_console.print(f"  [yellow]•[/] {escape(warning)}", soft_wrap=True)


def print_validation(report: ValidationReport, where: str) -> None:
    """Every issue, errors first, with a one-line verdict."""
    rows = ", ".join(f"{n} {split}" for split, n in report.rows.items())
    for issue in report.errors + report.warnings:
        colour = "red" if issue.severity == "error" else "yellow"
        (err_console if issue.severity == "error" else console).print(
            f"[{colour}]{escape(str(issue))}[/]", soft_wrap=True
        )
    verdict = "[green]valid[/]" if report.ok else f"[red]{len(report.errors)} error(s)[/]"
    console.print(f"{escape(where)}: {rows or 'no rows'} → {verdict}, {len(report.warnings)} warning(s)")


def print_estimate(estimate: CostEstimate) -> None:
    """The cost range per split and in total, and the assumptions behind it."""
    table = Table(title=f"estimated training cost: {estimate.base_model}, {estimate.epochs} epoch(s)")
    for column in ("split", "examples", "tokens/epoch (low–high)", "USD (low–high)"):
        table.add_column(column, justify="left" if column == "split" else "right")
    for split, numbers in estimate.per_split.items():
        table.add_row(
            split,
            str(int(numbers["examples"])),
            f"{int(numbers['tokens_low']):,}–{int(numbers['tokens_high']):,}",
            f"{numbers['usd_low']:.2f}–{numbers['usd_high']:.2f}" if split != "test" else "not sent",
        )
    table.add_row(
        "[bold]total[/]",
        str(estimate.examples),
        f"{estimate.tokens_per_epoch_low:,}–{estimate.tokens_per_epoch_high:,}",
        f"[bold]{estimate.usd_low:.2f}–{estimate.usd_high:.2f}[/]",
    )
    console.print(table)
    for assumption in estimate.assumptions:
        console.print(f"  · {escape(assumption)}", soft_wrap=True)


def print_request_preview(version: DatasetVersion, settings: Settings, **options: Any) -> None:
    """The exact REST body `humortune tune` would POST for this version (nothing is sent)."""
    body = _preview(version, settings, **options)
    if body is not None:
        print_request_body(body, version, settings)


def _preview(version: DatasetVersion, settings: Settings, **options: Any) -> dict[str, Any] | None:
    from humortune.errors import HumortuneError
    from humortune.tuner.request import tuning_request_preview

    try:
        return tuning_request_preview(version, settings, **{k: v for k, v in options.items() if v is not None})
    except HumortuneError as exc:  # the dataset is built either way; say why there is no preview
        err_console.print(f"[yellow]no tuning request preview:[/] {escape(str(exc))}", soft_wrap=True)
        return None


def print_request_body(body: dict[str, Any], version: DatasetVersion, settings: Settings) -> None:
    """Print a tuning request body, and why `humortune tune` would refuse a local dataset."""
    console.print(f"tuning request body (POST …/locations/{settings.location}/tuningJobs; nothing was sent):")
    console.print_json(json.dumps(body, ensure_ascii=False))
    if not version.in_gcs:
        err_console.print(
            '  [yellow]note:[/] the dataset is in local storage; set storage = "gs://bucket/prefix", run '
            "`humortune ingest` and `humortune build` again before `humortune tune`",
            soft_wrap=True,
        )
