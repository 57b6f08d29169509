"""`BuildOptions`: the choices a dataset build takes, as one frozen value.

`humortune.dataset.DatasetBuilder.build` and ``.run`` take ``options`` and/or the same names as keywords
(``builder.build(split=(0.8, 0.2))`` keeps working): keywords override the fields of ``options``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import TypedDict

from humortune.dataset.split import DEFAULT_SPLIT
from humortune.schema import TargetFormat

__all__ = ["BuildOptions", "BuildOverrides"]


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """How to build a dataset version from the corpus.

    ``split`` is ``(train, validation)`` or ``(train, validation, test)``; ``media_resolution`` and
    ``base_model`` (token limits and price) default to the settings'; ``drop_invalid`` leaves invalid
    examples out instead of failing the build.
    """

    split: Sequence[float] = DEFAULT_SPLIT
    seed: str | int = "humortune"
    target_format: TargetFormat = "narrative"
    media_resolution: str | None = None
    niche: str | None = None
    stratify: bool = True
    base_model: str | None = None
    epochs: int | None = None
    drop_invalid: bool = False

    @classmethod
    def of(cls, options: BuildOptions | None = None, /, **overrides: object) -> BuildOptions:
        """``options`` (default: the defaults) with ``overrides`` applied; an unknown name is a `TypeError`."""
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown build option(s): {', '.join(sorted(unknown))}")
        return replace(options or cls(), **overrides)  # type: ignore[arg-type]


class BuildOverrides(TypedDict, total=False):
    """The fields of `BuildOptions`, as keywords of `DatasetBuilder.build`/``.run``."""

    split: Sequence[float]
    seed: str | int
    target_format: TargetFormat
    media_resolution: str | None
    niche: str | None
    stratify: bool
    base_model: str | None
    epochs: int | None
    drop_invalid: bool
