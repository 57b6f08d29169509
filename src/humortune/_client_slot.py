"""Who owns a Gemini client: one helper instead of a copied "build on first use, close if owned" block.

```python
slot = ClientSlot.for_settings(client, settings)   # client given: borrowed; None: built on first use
slot.get()                                         # the client (built here once, thread-safe)
slot.close()                                       # closes it only if this slot built it
ClientSlot.borrowed(lambda: app.gemini)            # lazily from the composition root, which closes it
```
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from humortune.gemini import GeminiClient
    from humortune.settings import Settings

__all__ = ["ClientSlot"]


class ClientSlot:
    """A client that is either borrowed (given by the caller, never closed here) or built on first use and owned."""

    def __init__(
        self, client: GeminiClient | None, factory: Callable[[], GeminiClient], *, owned: bool | None = None
    ) -> None:
        self._client = client
        self._factory = factory
        self.owned = client is None if owned is None else owned
        """Whether this slot closes its client (it built it); a borrowed client belongs to someone else."""
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, client: GeminiClient | None, settings: Settings) -> ClientSlot:
        """A slot whose default client is the composition root's `default_client` for ``settings``."""

        def build() -> GeminiClient:
            from humortune.app import default_client  # lazily: the root imports gemini (and its fakes)

            return default_client(settings)

        return cls(client, build)

    @classmethod
    def borrowed(cls, get: Callable[[], GeminiClient]) -> ClientSlot:
        """A slot that asks ``get`` (say ``lambda: app.gemini``) on first use and never closes the answer."""
        return cls(None, get, owned=False)

    def get(self) -> GeminiClient:
        """The client, built now if it was neither given nor built yet."""
        with self._lock:
            if self._client is None:
                self._client = self._factory()
            return self._client

    def peek(self) -> GeminiClient | None:
        """The client if it exists (given or already built), without building one."""
        return self._client

    def close(self) -> None:
        """Close the client if this slot built it (idempotent; a later `get` builds a new one)."""
        if not self.owned:
            return
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
