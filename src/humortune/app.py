"""The composition root: the one place that decides offline vs real and wires a workspace's backends.

```python
from humortune import App

with App.from_env(offline=True) as app:      # nothing is opened yet
    analyzer = Analyzer.from_app(app)         # opens the corpus, storage and Gemini client on first use
    print(analyzer.analyze("clip.mp4").narrative)
```                                           # closed once, in reverse order, on leaving the block

Everything is built lazily (`functools.cached_property`), so ``humortune --help`` and ``import humortune`` stay
cheap; `close` closes only what was built. `default_client` is the only production code importing
`humortune.testing`: an offline client is a `GeminiClient` over the bundled `FakeGemini`'s transport.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from humortune.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from humortune.gemini import GeminiClient
    from humortune.sources.base import Downloader
    from humortune.storage.base import Storage
    from humortune.workspace import Corpus, Stores

__all__ = ["App", "default_client"]

_T = TypeVar("_T")

_BACKENDS = ("corpus", "stores", "storage", "gemini", "downloader")
"""The cached properties, in the order they depend on each other (closed in reverse)."""


def default_client(settings: Settings, *, offline: bool | None = None, **options: Any) -> GeminiClient:
    """The Gemini client for ``settings``: over FakeGemini's transport when offline, else real Vertex AI.

    ``offline`` defaults to ``settings.offline``; ``options`` (``retry``, ``timeout_s``, …) go to
    `GeminiClient.from_settings`. An offline client keeps its jobs under ``<workspace>/offline/``, so another
    process (a new client) sees them.
    """
    from humortune.gemini import GeminiClient

    if not (settings.offline if offline is None else offline):
        return GeminiClient.from_settings(settings, **options)
    from humortune.testing.fake_gemini import FakeGemini

    fake = FakeGemini.for_settings(settings)
    client = GeminiClient.from_settings(
        settings, transport=fake.transport(), async_transport=fake.async_transport(), **options
    )
    client.offline = True
    client.fake = fake
    return client


class App:
    """One workspace's settings and backends, built on first use and closed once.

    ``offline`` is decided here only: the explicit flag, else ``settings.offline``; ``settings.offline`` is
    then made to agree, so every layer reading the settings sees the same answer. ``client``, ``storage`` and
    ``downloader`` given here are borrowed: `close` leaves them open.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        offline: bool | None = None,
        client: GeminiClient | None = None,
        storage: Storage | None = None,
        downloader: Downloader | None = None,
    ) -> None:
        settings = settings if settings is not None else Settings()
        if offline is not None and offline != settings.offline:
            settings = settings.model_copy(update={"offline": offline})
        self.settings: Settings = settings
        self.offline: bool = settings.offline
        """Whether Gemini is the bundled FakeGemini (decided once, at construction)."""
        self._given: dict[str, Any] = {"gemini": client, "storage": storage, "downloader": downloader}
        self._lock = threading.RLock()
        self._closed = False

    @classmethod
    def from_env(cls, *, offline: bool | None = None, workspace: Path | None = None, **settings: Any) -> App:
        """An App over the effective settings (env, toml, defaults); ``workspace`` and ``settings`` win."""
        if workspace is not None:
            settings["workspace"] = workspace
        return cls(Settings(**settings), offline=offline)

    # -- backends (built on first use) ----------------------------------------------------------------

    @cached_property
    def corpus(self) -> Corpus:
        """The workspace database (opened, and migrated if needed, on first use)."""
        from humortune.workspace import Corpus

        return self._built("corpus", lambda: Corpus.open(settings=self.settings))

    @cached_property
    def stores(self) -> Stores:
        """The typed stores over the corpus's database."""
        from humortune.workspace import Stores

        return self._built("stores", lambda: Stores.of(self.corpus.db))

    @cached_property
    def storage(self) -> Storage:
        """Where videos and datasets live (``settings.storage_uri``)."""
        from humortune.storage import open_storage

        return self._built("storage", lambda: self._given["storage"] or open_storage(settings=self.settings))

    @cached_property
    def gemini(self) -> GeminiClient:
        """The Gemini client: FakeGemini-backed when offline (no credentials needed), else Vertex AI."""
        return self._built(
            "gemini", lambda: self._given["gemini"] or default_client(self.settings, offline=self.offline)
        )

    @cached_property
    def downloader(self) -> Downloader:
        """The downloader for sources never ingested (yt-dlp)."""
        from humortune.sources.ytdlp import YtDlpDownloader

        return self._built("downloader", lambda: self._given["downloader"] or YtDlpDownloader(self.settings))

    def _built(self, name: str, build: Callable[[], _T]) -> _T:
        # One build per backend even when two threads ask first at once (cached_property does not lock).
        with self._lock:
            if name in self.__dict__:
                built: _T = self.__dict__[name]
                return built
            if self._closed:
                from humortune.errors import ConfigError

                raise ConfigError("this App is closed", hint="build a new App (App.from_env()) for more work")
            return build()

    @property
    def built(self) -> list[str]:
        """The backends built so far, in dependency order."""
        return [name for name in _BACKENDS if name in self.__dict__]

    # -- lifetime -------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close what this App built, in reverse order, once (later calls do nothing; borrowed parts stay open)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            built = self.built
        for name in reversed(built):
            value = self.__dict__[name]
            close = getattr(value, "close", None)
            if value is not self._given.get(name) and callable(close):
                close()

    def __enter__(self) -> App:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
