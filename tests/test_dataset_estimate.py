"""Token and cost estimates, checked against numbers worked out by hand."""

from __future__ import annotations

import pytest

from humortune.dataset import estimate_cost, example_tokens
from humortune.dataset.estimate import PRICE_SOURCE, training_price
from humortune.errors import DatasetError
from humortune.settings import Settings


def test_low_resolution_with_audio() -> None:
    # 10 s at 1 frame/s: video 10 × 64 (low) / 10 × 66 (high); audio 10 × 32 = 320; 120 chars → 30 / 40; +8.
    assert example_tokens(
        duration_s=10.0,
        has_audio=True,
        text_chars=120,
        media_resolution="MEDIA_RESOLUTION_LOW",
        base_model="gemini-2.5-flash",
    ) == (640 + 320 + 30 + 8, 660 + 320 + 40 + 8)


def test_low_resolution_without_audio() -> None:
    assert example_tokens(
        duration_s=10.0,
        has_audio=False,
        text_chars=120,
        media_resolution="MEDIA_RESOLUTION_LOW",
        base_model="gemini-2.5-flash",
    ) == (640 + 30 + 8, 660 + 40 + 8)


def test_medium_resolution_with_and_without_audio() -> None:
    # MEDIUM on 2.5: 256 (tuning page) / 258 (inference docs) tokens per frame.
    args = {
        "duration_s": 10.0,
        "text_chars": 120,
        "media_resolution": "MEDIA_RESOLUTION_MEDIUM",
        "base_model": "gemini-2.5-pro",
    }
    assert example_tokens(has_audio=True, **args) == (2560 + 320 + 30 + 8, 2580 + 320 + 40 + 8)  # type: ignore[arg-type]
    assert example_tokens(has_audio=False, **args) == (2560 + 30 + 8, 2580 + 40 + 8)  # type: ignore[arg-type]


def test_partial_seconds_round_up_and_gemini_3_rates() -> None:
    # 2.5 s → 3 frames; audio ceil(2.5 × 32) = 80; 7 chars → ceil(7/4)=2 / ceil(7/3)=3.
    assert example_tokens(
        duration_s=2.5,
        has_audio=True,
        text_chars=7,
        media_resolution="MEDIA_RESOLUTION_LOW",
        base_model="gemini-2.5-flash",
    ) == (3 * 64 + 80 + 2 + 8, 3 * 66 + 80 + 3 + 8)
    assert example_tokens(
        duration_s=10.0,
        has_audio=False,
        text_chars=0,
        media_resolution="MEDIA_RESOLUTION_HIGH",
        base_model="gemini-3.5-flash",
    ) == (2808, 2808)
    assert example_tokens(
        duration_s=10.0,
        has_audio=False,
        text_chars=0,
        media_resolution="MEDIA_RESOLUTION_MEDIUM",
        base_model="gemini-3.1-flash-lite",
    ) == (708, 708)


def test_cost_range_per_split_and_total() -> None:
    per_example = (998, 1028)  # the LOW + audio example above
    estimate = estimate_cost(
        {"train": [per_example] * 100, "validation": [per_example] * 20, "test": [per_example] * 10},
        base_model="gemini-2.5-flash",
        media_resolution="MEDIA_RESOLUTION_LOW",
        epochs=3,
    )
    assert estimate.tokens_per_epoch_low == 99_800  # train only
    assert estimate.tokens_per_epoch_high == 102_800 + 20_560  # train + validation at the high rate
    assert estimate.usd_low == pytest.approx(99_800 * 3 / 1e6 * 5.0)  # $1.497
    assert estimate.usd_high == pytest.approx(123_360 * 3 / 1e6 * 5.0)  # $1.8504
    assert estimate.per_split["train"] == {
        "examples": 100, "tokens_low": 99_800, "tokens_high": 102_800, "usd_low": 1.497, "usd_high": 1.542,
    }  # fmt: skip
    assert estimate.per_split["validation"]["usd_low"] == 0.0
    assert estimate.per_split["validation"]["usd_high"] == pytest.approx(20_560 * 3 / 1e6 * 5.0)
    assert estimate.per_split["test"]["usd_low"] == estimate.per_split["test"]["usd_high"] == 0.0
    assert estimate.examples == 120 and estimate.epochs == 3
    assert estimate.training_tokens_high == 123_360 * 3
    assert estimate.price_source == PRICE_SOURCE and "2026-11" in PRICE_SOURCE
    assert any("64–66 tokens per frame at MEDIA_RESOLUTION_LOW" in a for a in estimate.assumptions)
    assert not any("epochs not set" in a for a in estimate.assumptions)


def test_unset_epochs_are_an_assumption() -> None:
    estimate = estimate_cost(
        {"train": [(1000, 1000)]}, base_model="gemini-2.5-flash", media_resolution="MEDIA_RESOLUTION_LOW"
    )
    assert estimate.epochs == 4
    assert "epochs not set: 4 assumed (Vertex picks its own default by dataset size)" in estimate.assumptions
    with pytest.raises(DatasetError, match="epochs must be at least 1"):
        estimate_cost({"train": []}, base_model="gemini-2.5-flash", media_resolution="MEDIA_RESOLUTION_LOW", epochs=0)


def test_price_table_override_and_versioned_names() -> None:
    assert training_price("gemini-2.5-flash") == (5.0, PRICE_SOURCE)
    assert training_price("gemini-2.5-pro")[0] == 25.0
    assert training_price("gemini-2.5-flash-lite-001")[0] == 1.5  # longest match, not gemini-2.5-flash
    assert training_price("publishers/google/models/gemini-3.5-flash")[0] == 10.0
    assert training_price("gemini-3.1-flash-lite")[0] == 3.0
    settings = Settings(training_price_per_mtok={"gemini-2.5-flash": 4.0})
    assert training_price("gemini-2.5-flash", settings) == (4.0, "settings override (training_price_per_mtok)")
    estimate = estimate_cost(
        {"train": [(250_000, 250_000)]}, base_model="gemini-2.5-flash", media_resolution="MEDIA_RESOLUTION_LOW",
        epochs=2, settings=settings,
    )  # fmt: skip
    assert estimate.usd_low == pytest.approx(2.0)


def test_unknown_model_says_how_to_price_it() -> None:
    with pytest.raises(DatasetError) as info:
        training_price("gemini-9-ultra")
    assert "no training price known for 'gemini-9-ultra'" in str(info.value)
    assert 'training_price_per_mtok = {"gemini-9-ultra" = <USD per 1M tokens>}' in str(info.value)
