"""Shared fixtures. No test reaches the network: sockets are blocked except loopback (pytest-socket)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from humortune.settings import Settings
from humortune.workspace import Corpus

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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a fresh workspace in a temp dir."""
    return Settings(workspace=tmp_path / "ws")


@pytest.fixture
def corpus(settings: Settings) -> Iterator[Corpus]:
    """A fresh, migrated corpus."""
    with Corpus.open(settings=settings) as c:
        yield c
