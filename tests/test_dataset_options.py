"""`BuildOptions`: one frozen value for a build's choices; keyword calls keep working and override it."""

from __future__ import annotations

import dataclasses

import pytest

from humortune import BuildOptions
from humortune.dataset import DatasetBuilder
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.workspace import Corpus

from ._dataset_support import RECORD, add_clip


@pytest.fixture
def storage(settings: Settings) -> LocalStorage:
    return LocalStorage(settings.workspace / "storage")


def fill(corpus: Corpus, storage: LocalStorage, n: int = 12) -> None:
    for i in range(n):
        add_clip(corpus, storage, i, niche=("mat", "katter")[i % 2], record=RECORD)


def test_options_are_frozen_and_refuse_unknown_names() -> None:
    options = BuildOptions(split=(0.8, 0.2), seed=7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.seed = 8  # type: ignore[misc]
    assert BuildOptions.of(options, niche="mat") == BuildOptions(split=(0.8, 0.2), seed=7, niche="mat")
    assert BuildOptions.of() == BuildOptions()
    with pytest.raises(TypeError, match=r"unknown build option.*colour"):
        BuildOptions.of(options, colour="red")


def test_options_and_keywords_build_the_same_version(corpus: Corpus, storage: LocalStorage, settings: Settings) -> None:
    fill(corpus, storage)
    builder = DatasetBuilder(corpus, storage, settings=settings)
    by_keywords = builder.build(split=(0.8, 0.2), target_format="narrative+record", seed="s1")
    by_value = builder.build(BuildOptions(split=(0.8, 0.2), target_format="narrative+record", seed="s1"))
    assert by_value.id == by_keywords.id and by_value.target_format == "narrative+record"


def test_keywords_override_the_options_value(corpus: Corpus, storage: LocalStorage, settings: Settings) -> None:
    fill(corpus, storage)
    builder = DatasetBuilder(corpus, storage, settings=settings)
    options = BuildOptions(split=(0.8, 0.2), niche="katter")
    overridden = builder.run(options, niche="mat").version
    assert overridden.niche == "mat" and overridden.id == builder.build(split=(0.8, 0.2), niche="mat").id
    with pytest.raises(TypeError, match="unknown build option"):
        builder.build(options, colour="red")  # type: ignore[call-arg]
