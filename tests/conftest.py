"""Shared fixtures. No test reaches the network: sockets are blocked except loopback (pytest-socket)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from humortune.settings import Settings
from humortune.workspace import Corpus
from tests._postgres import PostgresServer, running_server

if TYPE_CHECKING:
    from humortune.gemini import GeminiClient

os.environ.setdefault("NO_GCE_CHECK", "true")  # google-auth must never probe the metadata server

REPO = Path(__file__).resolve().parent.parent
SAMPLE_BATTERY = REPO / "datasets" / "sample_battery.json"
SAMPLE_VIDEOS = REPO / "datasets" / "sample_videos"


def pytest_configure(config: pytest.Config) -> None:
    # Block every socket except loopback, for every test (pytest-socket).
    config.option.disable_socket = True
    config.option.allow_hosts = "127.0.0.1,localhost,::1"


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No HUMORTUNE_* or Google variables leak in from the developer's shell."""
    for name in list(os.environ):
        if name.startswith(("HUMORTUNE_", "GOOGLE_", "STORAGE_EMULATOR")):
            monkeypatch.delenv(name, raising=False)
    # pydantic-settings reads .env from the current directory: run each test from an empty one.
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


# -- the two workspace engines ------------------------------------------------------------------------------

_BOTH_ENGINES = ("test_workspace", "test_battery", "test_feedback_queue", "test_feedback_review")
"""Test modules whose workspace runs on SQLite and on PostgreSQL (the store and concurrency tests)."""

_SQLITE_ONLY: set[str] = set()
"""Test functions of those modules that run on SQLite only (none left)."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if "engine" in metafunc.fixturenames and module.startswith(_BOTH_ENGINES):
        both = metafunc.function.__name__ not in _SQLITE_ONLY
        metafunc.parametrize("engine", ["sqlite", "postgresql"] if both else ["sqlite"], indirect=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole session (Debian's binaries, run as ``postgres``)."""
    with running_server() as server:
        yield server


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The workspace engine of this test: ``sqlite`` unless the module runs on both."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def database_url(engine: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """``None`` (the SQLite file in the workspace) or a fresh PostgreSQL schema's URL."""
    if engine == "sqlite":
        yield None
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    with server.schema() as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    """Settings for a fresh workspace in a temp dir (on PostgreSQL when the test runs on both engines)."""
    if database_url is None:
        return Settings(workspace=tmp_path / "ws")
    return Settings(workspace=tmp_path / "ws", database_url=database_url)


@pytest.fixture
def corpus(settings: Settings) -> Iterator[Corpus]:
    """A fresh, migrated corpus."""
    with Corpus.open(settings=settings) as c:
        yield c


# -- Vertex AI contract tests (vcrpy cassettes, replay only) ------------------------------------------------


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    """pytest-recording: replay only, match the body too, never store credentials or client headers."""
    return {
        "record_mode": "none",  # an unknown request fails; nothing reaches the network
        "match_on": ["method", "scheme", "host", "port", "path", "query", "body"],
        "filter_headers": ["authorization", "x-goog-api-client", "user-agent", "x-goog-user-project"],
        "decode_compressed_response": True,
    }


@pytest.fixture
def demo(tmp_path: Path) -> Settings:
    """Settings for the project and region the cassettes were written for."""
    return Settings(workspace=tmp_path / "ws", project="demo-proj", location="us-central1")


@pytest.fixture
def vertex(demo: Settings) -> GeminiClient:
    """A real google-genai client in Vertex mode (httpx, patched by vcrpy) with static fake credentials
    (google-auth never refreshes them) and no retries, so a cassette mismatch fails at once."""
    from humortune.gemini import GeminiClient, RetryPolicy, static_credentials

    return GeminiClient.from_settings(demo, credentials=static_credentials(), retry=RetryPolicy(attempts=1))
