"""docs/datasets.md ("Preparing a dataset") stays consistent with the code's rules, limits and prices."""

from __future__ import annotations

import re

from humortune.dataset.estimate import TRAINING_PRICE_PER_MTOK
from humortune.dataset.issues import rules_markdown
from humortune.dataset.limits import (
    AUDIO_TOKENS_PER_SECOND,
    PADDING_TOKENS_PER_RECORD,
    TOKENS_PER_FRAME,
    limits_markdown,
)

from .conftest import REPO

DOC = (REPO / "docs" / "datasets.md").read_text("utf-8")


def between(marker: str) -> str:
    match = re.search(rf"<!-- {marker}:start[^>]*-->\n(.*?)\n*<!-- {marker}:end -->", DOC, re.DOTALL)
    assert match, f"markers {marker}:start/end missing"
    return match.group(1).strip()


def test_rules_table_is_generated_from_the_validator() -> None:
    assert between("rules-table") == rules_markdown(), "paste humortune.dataset.issues.rules_markdown() into the doc"


def test_limits_table_is_generated_from_limits_py() -> None:
    assert between("limits-table") == limits_markdown(), "paste humortune.dataset.limits.limits_markdown()"


def test_cost_formula_and_prices_match_the_estimator() -> None:
    assert DOC.startswith("# Preparing a dataset")
    for model, price in TRAINING_PRICE_PER_MTOK.items():
        assert f"| {model} | {price:.2f} |" in DOC
    low, high = TOKENS_PER_FRAME["gemini-2.5"]["MEDIA_RESOLUTION_LOW"]
    assert f"| Gemini 2.5 | {low} … {high} |" in DOC
    assert f"| Gemini 3.x | {TOKENS_PER_FRAME['gemini-3']['MEDIA_RESOLUTION_LOW'][0]} |" in DOC
    assert f"ceil(duration_s × {AUDIO_TOKENS_PER_SECOND})" in DOC
    assert f"+ {PADDING_TOKENS_PER_RECORD}      (8 = padding" in DOC
