"""The one lookup of a model name (alias, id, endpoint, job name, short id, fragment) over the stores.

It lives with the stores, under every layer that names models (tuner, analyzer, evaluator, feedback, cli), so
none of them has to import another to resolve a name; `humortune.tuner.registry` re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from humortune.errors import ModelNotFoundError
from humortune.schema import TunedModel
from humortune.workspace.db import Database
from humortune.workspace.stores.aliases import AliasStore
from humortune.workspace.stores.models import ModelStore

__all__ = ["CURRENT", "ModelMatch", "match_model", "short_id"]

CURRENT = "current"
"""The alias that names the model in use; before any promotion it falls back to the newest tuned model."""


def short_id(model_id: str) -> str:
    """The last part of a model's resource name (``1629…@1``): what the CLI shows and accepts."""
    return model_id.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class ModelMatch:
    """A registered model found by `match_model`, and how it was reached."""

    model: TunedModel
    alias: str | None = None
    """The alias it was named by, if any."""
    note: str | None = None
    """Set when ``current`` fell back to the newest tuned model: callers say it out loud."""


def match_model(db: Database, ref: str) -> ModelMatch | None:
    """The one lookup of a model name: alias, id, endpoint, job name, short id, or a unique id fragment.

    ``current`` before anything was promoted means the newest tuned model (with a `ModelMatch.note`).
    ``None`` when nothing matches; an ambiguous fragment raises `ModelNotFoundError`.
    """
    models_store = ModelStore(db)
    target = AliasStore(db).target(ref)
    if target is not None:
        aliased = models_store.get(target)
        return ModelMatch(aliased, alias=ref) if aliased is not None else None
    found = models_store.find(ref)
    if found is not None:
        return ModelMatch(found)
    models = models_store.all()  # newest first
    if ref == CURRENT:
        return _newest_tuned(models)
    fragment = _by_fragment(models, ref)
    return ModelMatch(fragment) if fragment is not None else None


def _newest_tuned(models: list[TunedModel]) -> ModelMatch | None:
    model = next((m for m in models if m.job_name is not None), None)
    if model is None:
        return None
    note = f"nothing is promoted as 'current' yet; using the newest tuned model {short_id(model.id)}"
    return ModelMatch(model, note=note)


def _by_fragment(models: list[TunedModel], ref: str) -> TunedModel | None:
    """A short id (exact, prefix, or ``prefix…suffix`` as the CLI abbreviates it), else a unique substring."""
    if not ref or ref.startswith(("projects/", "publishers/")):
        return None
    head, ellipsis, tail = ref.partition("…")
    for matches in (
        [m for m in models if short_id(m.id) == ref],
        [m for m in models if ellipsis and short_id(m.id).startswith(head) and short_id(m.id).endswith(tail)],
        [m for m in models if not ellipsis and short_id(m.id).startswith(ref)],
        [m for m in models if not ellipsis and ref in m.id],
    ):
        if len(matches) > 1:
            raise ModelNotFoundError(
                f"{ref!r} matches {len(matches)} models",
                hint="give more of the id (see humortune models list)",
                item=ref,
            )
        if matches:
            return matches[0]
    return None
