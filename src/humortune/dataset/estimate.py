"""Training tokens and cost, as a low/high range with the assumptions written out.

Per example (one video, its prompt and the owner's answer)::

    frames       = max(1, ceil(duration_s × 1 fps))
    video_tokens = frames × tokens_per_frame(model family, media resolution)       low / high rate
    audio_tokens = ceil(duration_s × 32)            if the clip has an audio track, else 0
    text_tokens  = ceil(chars / 4)   (low)   …   ceil(chars / 3)   (high)         prompt + system + target
    tokens       = video_tokens + audio_tokens + text_tokens + 8                  8 = padding per record

    cost_low  = Σ_train tokens_low × epochs / 1e6 × price_per_mtok
    cost_high = Σ_(train+validation) tokens_high × epochs / 1e6 × price_per_mtok

The high end also counts the validation split because the docs do not say whether validation passes are
billed. The test split is never sent to Vertex. Prices come from a dated table (secondhand; verify on
Google's pricing page) and can be overridden with ``training_price_per_mtok`` in the settings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import humortune.catalog as catalog
from humortune.dataset.limits import (
    AUDIO_TOKENS_PER_SECOND,
    FRAMES_PER_SECOND,
    PADDING_TOKENS_PER_RECORD,
    TOKENS_PER_FRAME,
    model_family,
)
from humortune.errors import DatasetError
from humortune.schema import CostEstimate
from humortune.settings import Settings

__all__ = [
    "DEFAULT_EPOCHS",
    "PRICE_SOURCE",
    "TRAINING_PRICE_PER_MTOK",
    "estimate_cost",
    "example_tokens",
    "text_tokens",
    "training_price",
]

PRICE_SOURCE = (
    "secondhand 2026-11: two third-party quotes of "
    "https://cloud.google.com/gemini-enterprise-agent-platform/pricing (verify there)"
)
"""Where `TRAINING_PRICE_PER_MTOK` comes from, and when (`humortune.catalog` keeps it per model)."""

TRAINING_PRICE_PER_MTOK: dict[str, float] = {m.id: m.training_price_per_mtok_usd for m in catalog.MODELS.values()}
"""USD per 1M training tokens by base model, from the catalog (see `PRICE_SOURCE`)."""

DEFAULT_EPOCHS = 4
"""Epochs assumed when none are given (Vertex chooses its own default from the dataset size)."""

CHARS_PER_TOKEN_LOW = 4.0
CHARS_PER_TOKEN_HIGH = 3.0


def text_tokens(chars: int) -> tuple[int, int]:
    """(low, high) tokens for ``chars`` characters of text: 4 characters per token, or 3."""
    return math.ceil(chars / CHARS_PER_TOKEN_LOW), math.ceil(chars / CHARS_PER_TOKEN_HIGH)


def example_tokens(
    *,
    duration_s: float | None,
    has_audio: bool,
    text_chars: int,
    media_resolution: str,
    base_model: str,
    fps: float = FRAMES_PER_SECOND,
) -> tuple[int, int]:
    """(low, high) tokens of one example; see the module docstring for the formula.

    An unknown ``duration_s`` (``None``) counts no video tokens; callers say so in the assumptions.
    """
    rates = TOKENS_PER_FRAME[model_family(base_model)]
    if media_resolution not in rates:
        raise DatasetError(
            f"unknown media resolution {media_resolution!r}",
            hint=f"use one of {', '.join(rates)}",
        )
    low_rate, high_rate = rates[media_resolution]
    text_low, text_high = text_tokens(text_chars)
    if duration_s is None:
        return text_low + PADDING_TOKENS_PER_RECORD, text_high + PADDING_TOKENS_PER_RECORD
    frames = max(1, math.ceil(duration_s * fps - 1e-9))
    audio = math.ceil(duration_s * AUDIO_TOKENS_PER_SECOND - 1e-9) if has_audio else 0
    fixed = audio + PADDING_TOKENS_PER_RECORD
    return frames * low_rate + fixed + text_low, frames * high_rate + fixed + text_high


def _normalise_model(base_model: str) -> str:
    name = base_model.rsplit("/", 1)[-1].lower()
    return name.split("@", 1)[0]


def training_price(base_model: str, settings: Settings | None = None) -> tuple[float, str]:
    """(USD per 1M training tokens, source) for a base model; settings override the table.

    Versioned names (``gemini-2.5-flash-001``) use the longest matching table entry.
    """
    name = _normalise_model(base_model)
    overrides = {_normalise_model(k): v for k, v in (settings.training_price_per_mtok if settings else {}).items()}
    for table, source in (
        (overrides, "settings override (training_price_per_mtok)"),
        (TRAINING_PRICE_PER_MTOK, PRICE_SOURCE),
    ):
        matches = [k for k in table if name == k or name.startswith(k + "-")]
        if matches:
            return float(table[max(matches, key=len)]), source
    raise DatasetError(
        f"no training price known for {base_model!r}",
        hint=f'set training_price_per_mtok = {{"{name}" = <USD per 1M tokens>}} in humortune.toml '
        f"(known: {', '.join(TRAINING_PRICE_PER_MTOK)})",
        item=base_model,
    )


def estimate_cost(
    tokens: Mapping[str, Sequence[tuple[int, int]]],
    *,
    base_model: str,
    media_resolution: str,
    epochs: int | None = None,
    settings: Settings | None = None,
    unknown_durations: int = 0,
) -> CostEstimate:
    """Price per-example (low, high) tokens grouped by split (``train``, ``validation``, ``test``)."""
    price, source = training_price(base_model, settings)
    assumed_epochs = epochs is None
    n_epochs = DEFAULT_EPOCHS if epochs is None else epochs
    if n_epochs < 1:
        raise DatasetError(f"epochs must be at least 1, got {n_epochs}", hint="pass --epochs 1 or more")
    per_split: dict[str, dict[str, float]] = {}
    for split, items in tokens.items():
        low = sum(t[0] for t in items)
        high = sum(t[1] for t in items)
        billed_low = split == "train"
        billed_high = split in ("train", "validation")
        per_split[split] = {
            "examples": len(items),
            "tokens_low": low,
            "tokens_high": high,
            "usd_low": round(low * n_epochs / 1e6 * price, 4) if billed_low else 0.0,
            "usd_high": round(high * n_epochs / 1e6 * price, 4) if billed_high else 0.0,
        }
    train = per_split.get("train", {})
    validation = per_split.get("validation", {})
    per_epoch_low = int(train.get("tokens_low", 0))
    per_epoch_high = int(train.get("tokens_high", 0) + validation.get("tokens_high", 0))
    low_rate, high_rate = TOKENS_PER_FRAME[model_family(base_model)].get(media_resolution, (0, 0))
    assumptions = [
        f"{FRAMES_PER_SECOND:g} frame/s sampled; {low_rate}–{high_rate} tokens per frame at {media_resolution} "
        f"({model_family(base_model)})",
        f"audio {AUDIO_TOKENS_PER_SECOND} tokens/s when the clip has an audio track",
        f"text ≈ chars/{CHARS_PER_TOKEN_LOW:g} (low) to chars/{CHARS_PER_TOKEN_HIGH:g} (high) tokens",
        f"{PADDING_TOKENS_PER_RECORD} padding tokens per example",
        "low end bills the train split only; high end also bills the validation split (undocumented)",
        f"price ${price:g} per 1M training tokens for {base_model}: {source}",
    ]
    if assumed_epochs:
        assumptions.append(f"epochs not set: {n_epochs} assumed (Vertex picks its own default by dataset size)")
    if unknown_durations:
        assumptions.append(f"{unknown_durations} video(s) of unknown duration counted as text only")
    return CostEstimate(
        base_model=base_model,
        epochs=n_epochs,
        media_resolution=media_resolution,
        examples=int(train.get("examples", 0) + validation.get("examples", 0)),
        tokens_per_epoch_low=per_epoch_low,
        tokens_per_epoch_high=per_epoch_high,
        price_per_mtok_usd=price,
        price_source=source,
        usd_low=round(per_epoch_low * n_epochs / 1e6 * price, 4),
        usd_high=round(per_epoch_high * n_epochs / 1e6 * price, 4),
        per_split=per_split,
        assumptions=assumptions,
    )
