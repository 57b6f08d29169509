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
    from humortune.testing.fake_gemini import FakeGemini

os.environ.setdefault("NO_GCE_CHECK", "true")  # google-auth must never probe the metadata server

TEST_ENGINE = os.environ.get("HUMORTUNE_TEST_ENGINE", "sqlite")
"""Where every test's workspace lives: ``sqlite`` (the file inside it) or ``postgresql`` (a fresh schema per test on
the session's server). Read before `_clean_environ` removes every ``HUMORTUNE_*`` variable."""

REPO = Path(__file__).resolve().parent.parent
SAMPLE_BATTERY = REPO / "datasets" / "sample_battery.json"
SAMPLE_VIDEOS = REPO / "datasets" / "sample_videos"


def subprocess_env() -> dict[str, str]:
    """The environment for a program a test starts: no ``HUMORTUNE_*``/``GOOGLE_*`` settings from the developer's
    shell, but this test's workspace database (``HUMORTUNE_DATABASE_URL``, under ``HUMORTUNE_TEST_ENGINE=postgresql``).
    """
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HUMORTUNE_", "GOOGLE_")) or k == "HUMORTUNE_DATABASE_URL"
    }


def pytest_configure(config: pytest.Config) -> None:
    # Block every socket except loopback, for every test (pytest-socket).
    config.option.disable_socket = True
    config.option.allow_hosts = "127.0.0.1,localhost,::1"
    if TEST_ENGINE not in ("sqlite", "postgresql"):
        raise pytest.UsageError(f"HUMORTUNE_TEST_ENGINE={TEST_ENGINE!r}: use sqlite (the default) or postgresql")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None and not (marker.args or marker.kwargs.get("reason")):
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.sqlite_only needs a reason")


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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if "engine" in metafunc.fixturenames and module.startswith(_BOTH_ENGINES):
        engines = ["sqlite", "postgresql"] if TEST_ENGINE == "sqlite" else ["postgresql"]  # sqlite ran already
        metafunc.parametrize("engine", engines, indirect=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole session (Debian's binaries, run as ``postgres``)."""
    with running_server() as server:
        yield server


def _keeps_sqlite(request: pytest.FixtureRequest) -> bool:
    """Whether this test runs on SQLite whatever `TEST_ENGINE` says: it is about SQLite itself (marked
    ``sqlite_only`` with a reason) or parametrized onto it."""
    callspec = getattr(request.node, "callspec", None)
    on_sqlite = callspec is not None and callspec.params.get("engine") == "sqlite"
    return on_sqlite or request.node.get_closest_marker("sqlite_only") is not None


@pytest.fixture(autouse=True)
def _workspace_engine(
    _clean_environ: None, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """``HUMORTUNE_TEST_ENGINE=postgresql``: every workspace of the test (``settings``, ``Settings(...)``, CliRunner,
    subprocesses, which inherit the variable) is a fresh migrated schema on the session's server."""
    if TEST_ENGINE != "postgresql" or _keeps_sqlite(request):
        yield
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    with server.migrated_schema() as url:
        monkeypatch.setenv("HUMORTUNE_DATABASE_URL", url)
        yield


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The workspace engine of this test: `TEST_ENGINE` unless the module runs on both (or it keeps SQLite)."""
    default = "sqlite" if _keeps_sqlite(request) else TEST_ENGINE
    return str(getattr(request, "param", default))


@pytest.fixture
def database_url(engine: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """``None`` (the SQLite file in the workspace) or a fresh PostgreSQL schema's URL."""
    if engine == "sqlite":
        yield None
        return
    if TEST_ENGINE == "postgresql":  # `_workspace_engine` made this test's schema already
        yield os.environ["HUMORTUNE_DATABASE_URL"]
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


@pytest.fixture
def fake() -> FakeGemini:
    """A strict FakeGemini: every request body must validate against the discovery documents."""
    from humortune.testing.fake_gemini import FakeGemini

    return FakeGemini(strict=True)


@pytest.fixture
def fake_gemini_client(settings: Settings, fake: FakeGemini) -> Iterator[GeminiClient]:
    """A GeminiClient on ``fake`` whose retry back-offs are recorded, not slept."""
    from tests._analyzer_support import Sleeps, fake_client

    client = fake_client(settings, fake, sleeps=Sleeps())
    yield client
    client.close()


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
