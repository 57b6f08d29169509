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
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    from humortune.workspace.stores.offline_state import OfflineStateStore

__all__ = ["App", "WorkspaceFakeState", "default_client"]

_T = TypeVar("_T")

_BACKENDS = ("corpus", "stores", "storage", "gemini", "downloader")
"""The cached properties, in the order they depend on each other (closed in reverse)."""


def default_client(settings: Settings, *, offline: bool | None = None, **options: Any) -> GeminiClient:
    """The Gemini client for ``settings``: over FakeGemini's transport when offline, else real Vertex AI.

    ``offline`` defaults to ``settings.offline``; ``options`` (``retry``, ``timeout_s``, …) go to
    `GeminiClient.from_settings`. An offline client keeps its jobs in the workspace database
    (`WorkspaceFakeState`), so another process, or another machine sharing ``HUMORTUNE_DATABASE_URL``, sees
    them; it reads datasets from local files and from the workspace's storage (gs:// too).
    """
    from humortune.gemini import GeminiClient

    if not (settings.offline if offline is None else offline):
        return GeminiClient.from_settings(settings, **options)
    from humortune.testing.fake_gemini import FakeGemini

    fake = FakeGemini.for_settings(settings, state=WorkspaceFakeState(settings), reader=_StorageReader(settings))
    client = GeminiClient.from_settings(
        settings, transport=fake.transport(), async_transport=fake.async_transport(), **options
    )
    client.offline = True
    client.fake = fake
    return client


class WorkspaceFakeState:
    """The offline FakeGemini's jobs in the workspace database (a `humortune.testing.StateBackend`).

    Every process on the same database (``HUMORTUNE_DATABASE_URL``) shares them, so a job submitted on the
    laptop can be waited for, and its tuned model served, anywhere. The database opens on first use. A
    workspace that kept them in ``<workspace>/offline/fake_gemini.json`` (before they moved here) has that
    file imported once, when the database holds none yet; the file is then renamed ``….imported``.
    """

    def __init__(self, settings: Settings) -> None:
        from humortune.testing.fake_gemini import LEGACY_STATE

        self.settings = settings
        self.key = f"fake_gemini:{settings.project or 'offline-project'}"
        self.legacy = settings.workspace / LEGACY_STATE
        self._store: OfflineStateStore | None = None
        self._lock = threading.Lock()

    def _opened(self) -> OfflineStateStore:
        with self._lock:
            if self._store is None:
                from humortune.workspace.db import Database
                from humortune.workspace.stores.offline_state import OfflineStateStore

                db = Database(self.settings.database_target)
                weakref.finalize(self, db.close)
                self._store = OfflineStateStore(db)
            return self._store

    def read(self) -> dict[str, Any] | None:
        found = self._opened().get(self.key)
        if found is None and self.legacy.is_file():
            with self.edit() as imported:
                return dict(imported)
        return found

    @contextmanager
    def edit(self) -> Iterator[dict[str, Any]]:
        imported: list[Path] = []

        def legacy() -> dict[str, Any]:
            import json

            if not self.legacy.is_file():
                return {}
            imported.append(self.legacy)
            value = json.loads(self.legacy.read_text("utf-8"))
            return dict(value) if isinstance(value, dict) else {}

        with self._opened().edit(self.key, default=legacy) as state:
            yield state
        for path in imported:  # committed: the database is the source of truth from now on
            path.replace(path.with_name(path.name + ".imported"))


class _StorageReader:
    """The offline fake's reader: local ``file://`` URIs, and objects under the workspace's storage root."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._storage: Storage | None = None

    def __call__(self, uri: str) -> bytes | None:
        from humortune.testing.fake_gemini import read_local

        if uri.startswith("file://"):
            return read_local(uri)
        root = self.settings.storage_uri.rstrip("/") + "/"
        if not uri.startswith(root):
            return None
        if self._storage is None:
            from humortune.storage import open_storage

            self._storage = open_storage(settings=self.settings)
        from humortune.errors import HumortuneError

        try:
            return self._storage.read_bytes(uri.removeprefix(root))
        except HumortuneError:  # absent or unreadable: the fake answers as Vertex would without the rows
            return None


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
