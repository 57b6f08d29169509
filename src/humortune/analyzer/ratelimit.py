"""A token-bucket rate limiter shared by threads and coroutines.

Each `acquire` takes one token; tokens refill at ``rate`` per second up to ``burst``. A caller that finds
the bucket empty *reserves* the next token (the count goes negative) and sleeps outside the lock until it
is due, so waiters are served in arrival order and the long-run rate never exceeds ``rate``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """Allow at most ``rate`` acquisitions per second on average, with bursts of up to ``burst``.

    ```python
    bucket = TokenBucket(5)          # 5 requests/s
    bucket.acquire()                 # blocks when over the rate (threads)
    await bucket.acquire_async()     # the same bucket from asyncio code
    ```
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive (requests per second)")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = float(rate)
        """Tokens added per second."""
        self.burst = burst
        """Largest number of tokens the bucket holds (how many calls may go at once after a pause)."""
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = threading.Lock()

    def _reserve(self) -> float:
        """Take a token, returning how long the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> float:
        """Block until a token is available; returns the seconds waited."""
        wait = self._reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    async def acquire_async(self) -> float:
        """Like `acquire`, without blocking the event loop."""
        wait = self._reserve()
        if wait > 0:
            await asyncio.sleep(wait)
        return wait
