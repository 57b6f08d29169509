"""Test doubles shipped with the package: fakes for offline mode, tests, docs and examples.

`FakeGemini` loads lazily (it pulls in httpx); nothing here imports google.genai.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from humortune.testing.fake_gemini import DATASET_ERROR_MESSAGE, FakeGemini, FakeRequest

_LAZY = {
    "DATASET_ERROR_MESSAGE": "humortune.testing.fake_gemini",
    "FakeGemini": "humortune.testing.fake_gemini",
    "FakeRequest": "humortune.testing.fake_gemini",
}

__all__ = ["DATASET_ERROR_MESSAGE", "FakeGemini", "FakeRequest"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'humortune.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
