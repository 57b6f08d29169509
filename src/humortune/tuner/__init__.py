"""Tuning: submit, monitor and register Vertex AI supervised-tuning jobs; sweeps; the model registry.

Names load lazily (PEP 562) so that `humortune.gemini` can use `humortune.tuner.catalog` without importing
the tuner itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from humortune._lazy import lazy_getattr

if TYPE_CHECKING:  # pragma: no cover
    from humortune.tuner.catalog import TUNABLE_MODELS as TUNABLE_MODELS
    from humortune.tuner.catalog import BaseModelSpec as BaseModelSpec
    from humortune.tuner.catalog import Hyperparameters as Hyperparameters
    from humortune.tuner.jobs import TuningJob as TuningJob
    from humortune.tuner.registry import ModelRegistry as ModelRegistry
    from humortune.tuner.request import TuningRequest as TuningRequest
    from humortune.tuner.sweep import Sweep as Sweep
    from humortune.tuner.sweep import SweepReport as SweepReport
    from humortune.tuner.tuner import Tuner as Tuner

_LAZY = {
    "TUNABLE_MODELS": "humortune.tuner.catalog",
    "BaseModelSpec": "humortune.tuner.catalog",
    "Hyperparameters": "humortune.tuner.catalog",
    "TuningJob": "humortune.tuner.jobs",
    "TuningRequest": "humortune.tuner.request",
    "ModelRegistry": "humortune.tuner.registry",
    "Sweep": "humortune.tuner.sweep",
    "SweepReport": "humortune.tuner.sweep",
    "Tuner": "humortune.tuner.tuner",
}

__all__ = [
    "TUNABLE_MODELS",
    "BaseModelSpec",
    "Hyperparameters",
    "ModelRegistry",
    "Sweep",
    "SweepReport",
    "Tuner",
    "TuningJob",
    "TuningRequest",
]


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return __all__
