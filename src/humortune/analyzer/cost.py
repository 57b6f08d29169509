"""Estimated inference cost of an analysis, from the token usage the service reported.

Prices are USD per 1M tokens (input, output) for standard online requests, from `humortune.catalog` (each with
its source there; secondhand or third-party, see ``humortune models catalog``): override them with
``Settings.inference_price_per_mtok``. Tuned Gemini 2.x endpoints cost the same as
their base model; from Gemini 3 a tuned endpoint costs 1.5x its base. Batch prediction is half price.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import humortune.catalog as catalog
from humortune.schema import TokenUsage

__all__ = ["INFERENCE_PRICES_PER_MTOK", "estimate_cost"]

INFERENCE_PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    m.id: (m.input_price_per_mtok_usd, m.output_price_per_mtok_usd)
    for m in catalog.MODELS.values()
    if m.input_price_per_mtok_usd is not None and m.output_price_per_mtok_usd is not None
}
"""(input, output) USD per 1M tokens, standard online requests, from the catalog; verify before relying on it."""

_TUNED_MULTIPLIER_FROM_GEMINI_3 = 1.5
_BATCH_DISCOUNT = 0.5


def estimate_cost(
    usage: TokenUsage,
    base_model: str | None,
    *,
    tuned: bool = False,
    batch: bool = False,
    overrides: Mapping[str, Sequence[float]] | None = None,
) -> float | None:
    """USD for one call, or ``None`` when no price is known for ``base_model``."""
    if base_model is None:
        return None
    name = base_model.removeprefix("publishers/google/models/")
    table: dict[str, Sequence[float]] = {**INFERENCE_PRICES_PER_MTOK, **(overrides or {})}
    price = table.get(name)
    if price is None:  # versioned names such as gemini-2.5-flash-001 share their family's price
        family = max((k for k in table if name.startswith(k)), key=len, default=None)
        price = table.get(family) if family else None
    if price is None or len(price) != 2:
        return None
    usd = (usage.prompt_tokens * price[0] + usage.output_tokens * price[1]) / 1e6
    if tuned and name.startswith("gemini-") and not name.startswith(("gemini-1", "gemini-2")):
        usd *= _TUNED_MULTIPLIER_FROM_GEMINI_3
    if batch:
        usd *= _BATCH_DISCOUNT
    return round(usd, 8)
