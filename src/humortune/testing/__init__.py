"""Test doubles shipped with the package: fakes for offline mode, tests, docs and examples.

`FakeGemini` loads lazily (it pulls in httpx); nothing here imports google.genai.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from humortune._lazy import lazy_getattr

if TYPE_CHECKING:  # pragma: no cover
    from humortune.testing.fake_gemini import DATASET_ERROR_MESSAGE, FakeGemini, FakeRequest

_LAZY = {
    "DATASET_ERROR_MESSAGE": "humortune.testing.fake_gemini",
    "FakeGemini": "humortune.testing.fake_gemini",
    "FakeRequest": "humortune.testing.fake_gemini",
}

__all__ = ["DATASET_ERROR_MESSAGE", "FakeGemini", "FakeRequest"]


__getattr__ = lazy_getattr(__name__, _LAZY, globals())
