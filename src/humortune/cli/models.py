"""``humortune models catalog`` and ``humortune models adopt``, plus the retirement warning other commands show."""

from __future__ import annotations

import datetime
import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from humortune import catalog
from humortune.cli._app import console, err_console, state
from humortune.cli.tune import OfflineOpt, _client, _print_model, _settings, models_app
from humortune.errors import ModelLifecycleError

__all__ = ["retirement_warning", "warn_if_base_retiring"]


def retirement_warning(base_model: str | None, *, today: datetime.date | None = None) -> str | None:
    """What to do when a tuned model's base retires within 60 days (or has retired), else ``None``."""
    if not base_model:
        return None
    life = catalog.lifecycle(base_model, today=today, within_days=catalog.WARN_WITHIN_DAYS)
    if life.state not in ("retiring", "retired"):
        return None
    successor = life.successor or catalog.default_base_model(today=today).id
    return (
        f"{life.message()}: models tuned on it stop answering then — run `humortune retrain --from base "
        f"--base-model {successor}`, then `humortune compare NEW CURRENT` and promote the winner"
    )


def warn_if_base_retiring(base_model: str | None, *, today: datetime.date | None = None) -> None:
    """Print `retirement_warning` (and the catalog's staleness) on stderr, if there is anything to say."""
    for line in (retirement_warning(base_model, today=today), catalog.stale_warning(today=today)):
        if line:
            err_console.print(f"[yellow]warning:[/] {escape(line)}", soft_wrap=True)


@models_app.command("catalog")
def models_catalog(
    as_json: Annotated[bool, typer.Option("--json", help="Print the catalog, lifecycle and sources as JSON.")] = False,
) -> None:
    """The base models humortune can tune: capabilities, lifecycle, prices, and where each fact came from."""
    settings = state().settings()
    data = catalog.catalog_dict()
    if as_json:
        console.print_json(json.dumps(data, ensure_ascii=False))
        return
    table = Table(title=f"model catalog (checked {catalog.CHECKED})")
    for column in ("model", "tier", "video", "tuning regions", "adapters", "thinking", "retires", "state", "$/1M"):
        table.add_column(column)
    for m in data["models"]:
        life = m["lifecycle"]
        table.add_row(
            m["id"],
            m["tier"],
            "yes" if m["video_tuning"] else "no",
            ", ".join(m["tuning_regions"] or ["most regions"]),
            ",".join(map(str, m["adapter_sizes"])),
            f"{m['thinking']} {m['lowest_thinking']}",
            m["retirement"] or "—",
            life["state"] + (f" ({life['days_left']} d)" if life["state"] == "retiring" else ""),
            f"{m['training_price_per_mtok_usd']:g}",
        )
    console.print(table)
    try:
        console.print(f"default: {escape(catalog.default_reason(settings.location))}", soft_wrap=True)
    except ModelLifecycleError as exc:
        err_console.print(f"[red]no default:[/] {escape(str(exc))}", soft_wrap=True)
    console.print("sources (fact: url — note):")
    for m in data["models"]:
        for fact, src in m["sources"].items():
            note = f" — {src['note']}" if src["note"] else ""
            console.print(f"  {m['id']} {fact}: {src['url']}{escape(note)}", soft_wrap=True, highlight=False)
    for mid, src in data["not_tunable"].items():
        console.print(f"  not tunable: {mid}: {src['url']} — {escape(src['note'])}", soft_wrap=True, highlight=False)
    if data["stale_warning"]:
        err_console.print(f"[yellow]warning:[/] {escape(data['stale_warning'])}", soft_wrap=True)


@models_app.command("adopt")
def models_adopt(
    name: Annotated[str, typer.Argument(help="A tuned model projects/…/models/ID@V, a tuning job, or its name.")],
    offline: OfflineOpt = False,
) -> None:
    """Register a model tuned outside humortune (lineage: external) so `eval` and `compare` can use it."""
    from humortune.tuner.adopt import adopt

    settings = _settings(offline)
    with state().corpus(settings) as corpus:
        model = adopt(name, client=_client(settings), corpus=corpus)
    hp = model.stats.get("hyperparameters") or {}
    console.print(f"adopted (external lineage), base {escape(model.base_model)}, hyperparameters {hp}", soft_wrap=True)
    for key in ("train_uri", "validation_uri"):
        if model.stats.get(key):
            console.print(f"  {key}: {escape(str(model.stats[key]))}", soft_wrap=True)
    _print_model(model)
    warn_if_base_retiring(model.base_model)
