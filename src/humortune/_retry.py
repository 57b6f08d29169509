"""The retry policy for Vertex AI calls that are safe to repeat (never job creation): genai-free, so tests and
callers can build one without importing google-genai."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """The one retry policy for calls that are safe to repeat (never job creation).

    ``sleep`` is injectable so tests run without waiting.
    """

    attempts: int = 5
    initial_s: float = 1.0
    max_s: float = 30.0
    max_retry_after_s: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
