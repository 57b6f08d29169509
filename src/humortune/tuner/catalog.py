"""The project's hyperparameter ranges and label rules; the model facts live in `humortune.catalog`.

`TUNABLE_MODELS` and `spec_for` are kept for compatibility: they are views of the catalog (capabilities,
regions, training prices per million *training* tokens, each with its source there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import humortune.catalog as catalog
from humortune.errors import HyperparameterError

__all__ = [
    "ADAPTER_ENUM",
    "EPOCH_RANGE",
    "LR_MULTIPLIER_RANGE",
    "SEED_ADAPTER_SIZES",
    "TUNABLE_MODELS",
    "BaseModelSpec",
    "Hyperparameters",
    "is_tuned_model",
    "spec_for",
    "validate_hyperparameters",
    "validate_labels",
]

EPOCH_RANGE = (3, 5)
"""Epochs the project allows (the seed's range); unset lets Vertex pick from the dataset size."""
LR_MULTIPLIER_RANGE = (0.5, 2.0)
"""Learning-rate multipliers the project allows (the seed's range); Vertex's default is 1.0."""
SEED_ADAPTER_SIZES = (4, 8, 16)
"""Adapter sizes the project allows (the seed's 4–16), intersected with each model's own list."""

ADAPTER_ENUM = catalog.ADAPTER_ENUM
"""Adapter size → the REST enum value (from `humortune.catalog`)."""


@dataclass(frozen=True, slots=True)
class BaseModelSpec:
    """One tunable Gemini base model."""

    name: str
    adapter_sizes: tuple[int, ...]
    """Adapter sizes Vertex accepts for this model."""
    price_per_mtok_usd: float
    """Training price, USD per 1M training tokens (second-hand; override in settings)."""
    tuning_regions: tuple[str, ...] | None = None
    """Regions where tuning runs; ``None`` means most Vertex regions."""
    serving_location: str | None = None
    """Multi-region the tuned model is served from (``us``/``eu``), if not the job's region."""

    @property
    def allowed_adapter_sizes(self) -> tuple[int, ...]:
        """The model's adapter sizes within the project's range."""
        return tuple(a for a in self.adapter_sizes if a in SEED_ADAPTER_SIZES)


TUNABLE_MODELS: dict[str, BaseModelSpec] = {
    m.id: BaseModelSpec(m.id, m.adapter_sizes, m.training_price_per_mtok_usd, m.tuning_regions, m.serving_location)
    for m in catalog.MODELS.values()
    if m.video_tuning
}
"""Gemini base models Vertex AI supports for supervised fine-tuning (with video)."""

_TUNED = re.compile(r"^projects/[^/]+/locations/[^/]+/models/[^/@]+(@[^/]+)?$")
_LABEL = re.compile(r"^[\w-]{0,64}$")
_LABEL_KEY_START = re.compile(r"^[^\W\d_A-Z]")  # a lowercase letter (GCP allows international ones)


def is_tuned_model(name: str) -> bool:
    """Whether ``name`` is a tuned model resource (``projects/…/models/…[@version]``), i.e. continued tuning."""
    return bool(_TUNED.match(name))


def spec_for(base_model: str) -> BaseModelSpec:
    """The spec of a base model, accepting ``publishers/google/models/…`` spellings.

    Raises `UnknownModelError` (a `HyperparameterError`) naming the catalog's models.
    """
    entry = catalog.get(base_model)
    spec = TUNABLE_MODELS.get(entry.id)
    if spec is None:
        raise HyperparameterError(f"{entry.id} cannot be tuned with video", item=entry.id)
    return spec


@dataclass(frozen=True, slots=True)
class Hyperparameters:
    """Hyperparameters of one job. ``None`` lets Vertex choose (recommended for a first run)."""

    epochs: int | None = None
    learning_rate_multiplier: float | None = None
    adapter_size: int | None = None

    def as_dict(self) -> dict[str, int | float | None]:
        """JSON-ready form, the key of duplicate detection."""
        return {
            "epochs": self.epochs,
            "learning_rate_multiplier": self.learning_rate_multiplier,
            "adapter_size": self.adapter_size,
        }

    def describe(self) -> str:
        """``epochs=4 lr×1.0 adapter=8`` (``auto`` where Vertex chooses)."""

        def show(value: object) -> str:
            return "auto" if value is None else str(value)

        return f"epochs={show(self.epochs)} lr×{show(self.learning_rate_multiplier)} adapter={show(self.adapter_size)}"


def validate_hyperparameters(
    base_model: str, hp: Hyperparameters, *, location: str | None = None, family: str | None = None
) -> None:
    """Refuse hyperparameters the model (or the project's ranges) does not allow.

    ``family`` names the original base model when ``base_model`` is a tuned model (continued tuning).
    """
    spec = spec_for(family or base_model) if (family or not is_tuned_model(base_model)) else None
    low, high = EPOCH_RANGE
    if hp.epochs is not None and not (isinstance(hp.epochs, int) and low <= hp.epochs <= high):
        raise HyperparameterError(
            f"epochs={hp.epochs} is outside {low}–{high}",
            hint=f"pass an epoch count from {low} to {high}, or leave it unset to let Vertex choose",
        )
    lo_lr, hi_lr = LR_MULTIPLIER_RANGE
    lr = hp.learning_rate_multiplier
    if lr is not None and not lo_lr <= lr <= hi_lr:
        raise HyperparameterError(
            f"learning_rate_multiplier={lr} is outside {lo_lr}–{hi_lr}",
            hint=f"pass a multiplier from {lo_lr} to {hi_lr} (1.0 is Vertex's default)",
        )
    if hp.adapter_size is not None:
        allowed = spec.allowed_adapter_sizes if spec else SEED_ADAPTER_SIZES
        if hp.adapter_size not in allowed:
            name = spec.name if spec else base_model
            raise HyperparameterError(
                f"adapter size {hp.adapter_size} is not allowed for {name}",
                hint=f"choose one of {', '.join(map(str, allowed))}",
                item=name,
            )
    if spec and spec.tuning_regions and location and location not in spec.tuning_regions:
        raise HyperparameterError(
            f"{spec.name} can only be tuned in {', '.join(spec.tuning_regions)}, not {location}",
            hint=f"set HUMORTUNE_LOCATION={spec.tuning_regions[0]} (the tuned model is served from "
            f"the {spec.serving_location!r} multi-region)",
        )


def validate_labels(labels: dict[str, str], display_name: str | None = None) -> None:
    """GCP's rules: label keys and values ≤64 chars of lowercase letters, digits, ``_`` and ``-``; a key
    starts with a lowercase letter (GCP rejects ``1team`` or ``_team``), a value may be empty."""
    for key, value in labels.items():
        for part in (key, value):
            if not _LABEL.match(part) or part != part.lower() or (part is key and not _LABEL_KEY_START.match(key)):
                raise HyperparameterError(
                    f"label {key!r}={value!r} is not allowed",
                    hint="keys start with a lowercase letter; use at most 64 lowercase letters, digits, '_' or '-'"
                    " for keys and values",
                )
    if display_name is not None and len(display_name.encode("utf-8")) > 128:
        raise HyperparameterError(
            "the display name is longer than 128 bytes", hint="shorten it", item=display_name[:40]
        )
