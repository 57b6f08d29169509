"""The model catalog: lookups, lifecycle on a given day, the default choice, refusals and staleness."""

from __future__ import annotations

import ast
import datetime
import json
from pathlib import Path

import pytest

from humortune import catalog
from humortune.errors import HumortuneError, HyperparameterError, ModelLifecycleError, UnknownModelError

TODAY = datetime.date(2026, 12, 1)


def test_every_model_has_a_source_for_each_deciding_fact_checked_on_a_real_day() -> None:
    for model in catalog.MODELS.values():
        for fact in ("tunable", "video_tuning", "retirement", "training_price", "thinking"):
            source = model.sources[fact]
            assert source.url.startswith("https://"), (model.id, fact)
            assert source.checked <= catalog.CHECKED
        assert model.successor is None or model.successor in catalog.MODELS
        assert (model.thinking == "budget") == isinstance(model.lowest_thinking, int)


def test_get_accepts_publisher_paths_and_version_suffixes() -> None:
    assert catalog.get("publishers/google/models/gemini-3.5-flash").id == "gemini-3.5-flash"
    assert catalog.get("gemini-2.5-flash-001").id == "gemini-2.5-flash"
    assert catalog.get("gemini-2.5-flash-lite-001").id == "gemini-2.5-flash-lite"
    assert catalog.find("gemini-9-ultra") is None


def test_get_unknown_names_the_known_ids_and_why_a_near_miss_is_not_tunable() -> None:
    with pytest.raises(UnknownModelError) as info:
        catalog.get("gemini-1.5-flash")
    assert isinstance(info.value, HumortuneError) and isinstance(info.value, HyperparameterError)
    assert "gemini-3.5-flash" in str(info.value.hint) and info.value.item == "gemini-1.5-flash"
    with pytest.raises(UnknownModelError, match="not in the supervised-tuning model lists"):
        catalog.get("gemini-3.8-flash")


@pytest.mark.parametrize(
    ("today", "state", "days_left"),
    [
        (datetime.date(2026, 8, 1), "active", 80),
        (datetime.date(2026, 9, 20), "retiring", 30),
        (datetime.date(2026, 10, 20), "retired", 0),
        (TODAY, "retired", 0),
    ],
)
def test_lifecycle_of_gemini_2_5_flash_by_day(today: datetime.date, state: str, days_left: int) -> None:
    life = catalog.lifecycle("gemini-2.5-flash", today=today)
    assert (life.state, life.days_left, life.retirement) == (state, days_left, datetime.date(2026, 10, 20))
    assert "gemini-3.5-flash" in life.message() or state == "active"


def test_lifecycle_window_is_a_parameter_and_unknown_models_say_so() -> None:
    assert catalog.lifecycle("gemini-3.5-flash", today=datetime.date(2027, 3, 30), within_days=60).state == "retiring"
    assert catalog.lifecycle("gemini-3.5-flash", today=datetime.date(2027, 3, 30)).state == "active"
    unknown = catalog.lifecycle("gemini-9-ultra", today=TODAY)
    assert unknown.state == "unknown" and "not in the model catalog" in unknown.message()


def test_default_is_the_newest_ga_flash_tunable_with_video_in_the_region() -> None:
    chosen = catalog.default_base_model("us-central1", today=TODAY)
    assert chosen.id == "gemini-3.5-flash" and chosen.tier == "flash" and chosen.stage == "ga"
    assert chosen.video_tuning and "us-central1" in (chosen.tuning_regions or ())
    # Where 3.x cannot tune, while 2.5 Flash was current, 2.5 Flash was the choice; before 3.5 Flash existed too.
    assert catalog.default_base_model("asia-east1", today=datetime.date(2026, 6, 1)).id == "gemini-2.5-flash"
    assert catalog.default_base_model("us-central1", today=datetime.date(2026, 5, 1)).id == "gemini-2.5-flash"
    reason = catalog.default_reason("us-central1", today=TODAY)
    assert "gemini-3.5-flash" in reason and "https://" in reason and "gemini-3.8-flash" in reason


def test_default_refuses_when_nothing_current_is_tunable_in_the_region() -> None:
    with pytest.raises(ModelLifecycleError, match="asia-east1"):
        catalog.default_base_model("asia-east1", today=TODAY)


def test_check_tunable_refuses_retired_with_date_and_successor() -> None:
    with pytest.raises(ModelLifecycleError) as info:
        catalog.check_tunable("gemini-2.5-flash", region="us-central1", today=TODAY, allow_retiring=True)
    assert "2026-10-20" in str(info.value) and "--base-model gemini-3.5-flash" in str(info.value.hint)


def test_check_tunable_refuses_retiring_unless_allowed() -> None:
    day = datetime.date(2026, 10, 1)
    with pytest.raises(ModelLifecycleError) as info:
        catalog.check_tunable("gemini-2.5-pro", region="us-central1", today=day)
    assert "in 19 days" in str(info.value) and "--allow-retiring" in str(info.value.hint)
    assert catalog.check_tunable("gemini-2.5-pro", region="us-central1", today=day, allow_retiring=True).id == (
        "gemini-2.5-pro"
    )


def test_check_tunable_refuses_a_region_the_model_cannot_tune_in() -> None:
    with pytest.raises(HyperparameterError, match="us-central1, europe-west4, not asia-east1"):
        catalog.check_tunable("gemini-3.5-flash", region="asia-east1", today=TODAY)
    assert catalog.check_tunable("gemini-3.5-flash", region="europe-west4", today=TODAY).id == "gemini-3.5-flash"
    assert catalog.serving_location_for("gemini-3.5-flash", "europe-west4") == "eu"
    assert catalog.serving_location_for("gemini-3.5-flash", "us-central1") == "us"
    assert catalog.serving_location_for("gemini-2.5-flash", "us-central1") is None


def test_stale_warning_after_90_days() -> None:
    assert catalog.stale_warning(today=catalog.CHECKED + datetime.timedelta(days=90)) is None
    warning = catalog.stale_warning(today=catalog.CHECKED + datetime.timedelta(days=91))
    assert warning is not None and "91 days" in warning


def test_catalog_dict_is_json_with_lifecycle_and_sources() -> None:
    data = json.loads(json.dumps(catalog.catalog_dict(today=TODAY)))
    by_id = {m["id"]: m for m in data["models"]}
    assert by_id["gemini-2.5-flash"]["lifecycle"]["state"] == "retired"
    assert by_id["gemini-3.5-flash"]["sources"]["retirement"]["checked"] == "2026-12-01"
    assert data["checked"] == "2026-12-01" and "gemini-3.8-flash" in data["not_tunable"]


def test_catalog_imports_only_errors_and_the_standard_library() -> None:
    tree = ast.parse(Path(catalog.__file__).read_text("utf-8"))
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert {m for m in modules if m and m.startswith("humortune")} == {"humortune.errors"}


def test_a_retiring_model_without_successor_says_to_upgrade_not_to_use_itself() -> None:
    with pytest.raises(ModelLifecycleError) as info:
        catalog.check_tunable("gemini-3.5-flash", region="us-central1", today=datetime.date(2027, 5, 1))
    assert "names no successor" in str(info.value.hint) and "--base-model gemini-3.5-flash" not in str(info.value)
