"""The composition root: lazy backends, offline decided once, one close in reverse order, the service's App."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from humortune import App
from humortune.analyzer import Analyzer
from humortune.app import default_client
from humortune.dataset import DatasetBuilder
from humortune.errors import ConfigError, CredentialsError
from humortune.evaluator import Evaluator
from humortune.feedback.retrain import Retrainer
from humortune.gemini import GeminiClient
from humortune.ingest import Ingestor
from humortune.service import create_app
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.testing.fake_gemini import FakeGemini
from humortune.tuner import Tuner


@pytest.fixture
def no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No Application Default Credentials anywhere (a real client would raise CredentialsError)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))


def test_nothing_is_built_until_used(settings: Settings) -> None:
    app = App(settings)
    assert app.built == []
    assert not settings.database_path.exists()  # the corpus is not even opened
    app.storage  # noqa: B018
    assert app.built == ["storage"]
    app.close()


def test_building_the_app_loads_no_heavy_dependency(tmp_path: Path) -> None:
    code = (
        "import sys, json; from humortune import App; app = App.from_env(workspace=sys.argv[1], offline=True); "
        "app.corpus; app.close(); print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ws")], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert not [m for m in loaded if m.startswith(("google.genai", "humortune.testing", "yt_dlp", "fastapi"))]


def test_offline_is_decided_once_and_the_settings_agree(settings: Settings) -> None:
    assert App(settings).offline is False
    forced = App(settings, offline=True)
    assert forced.offline and forced.settings.offline  # every layer reading settings sees the same answer
    assert settings.offline is False  # the caller's settings are not changed
    configured = settings.model_copy(update={"offline": True})
    assert App(configured).offline and not App(configured, offline=False).settings.offline


def test_from_env_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUMORTUNE_OFFLINE", "true")
    monkeypatch.setenv("HUMORTUNE_WORKSPACE", str(tmp_path / "from-env"))
    app = App.from_env()
    assert app.offline and app.settings.workspace == tmp_path / "from-env"
    assert App.from_env(workspace=tmp_path / "flag", offline=False).settings.workspace == tmp_path / "flag"
    assert App.from_env(offline=False).offline is False


def test_offline_gemini_needs_no_credentials(settings: Settings, no_credentials: None) -> None:
    with App(settings, offline=True) as app:
        client = app.gemini
        assert isinstance(client, GeminiClient) and client.offline and isinstance(client.fake, FakeGemini)
        assert client.generate(model="gemini-2.5-flash", prompt="x").text
        assert app.gemini is client  # built once


def test_real_gemini_is_never_replaced_by_the_fake(settings: Settings, no_credentials: None) -> None:
    project = settings.model_copy(update={"project": "demo-proj"})
    with App(project) as app, pytest.raises(CredentialsError):
        app.gemini  # noqa: B018
    with pytest.raises(CredentialsError):  # from_settings no longer picks FakeGemini for offline settings
        GeminiClient.from_settings(project.model_copy(update={"offline": True}))


def test_default_client_follows_settings_or_flag(settings: Settings, no_credentials: None) -> None:
    offline = settings.model_copy(update={"offline": True})
    assert default_client(offline).offline
    assert default_client(settings, offline=True).fake is not None
    with pytest.raises(CredentialsError):
        default_client(offline.model_copy(update={"project": "demo-proj"}), offline=False)


class _Closing:
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    def close(self) -> None:
        self.log.append(self.name)


def test_close_closes_only_what_was_built_in_reverse_order_once(settings: Settings) -> None:
    log: list[str] = []
    app = App(settings)
    app.__dict__["storage"] = _Closing(log, "storage")  # as if built: App closes what it built
    app.corpus  # noqa: B018
    app.__dict__["gemini"] = _Closing(log, "gemini")
    corpus = app.corpus
    app.close()
    assert log == ["gemini", "storage"]  # reverse of corpus, stores, storage, gemini, downloader
    with pytest.raises(Exception, match="closed"):
        corpus.db.query_one("SELECT 1")
    app.close()
    assert log == ["gemini", "storage"]  # idempotent
    with pytest.raises(ConfigError, match="closed"):
        app.stores  # noqa: B018


def test_close_leaves_borrowed_parts_open(settings: Settings) -> None:
    log: list[str] = []
    given: Any = _Closing(log, "given")
    with App(settings, client=given, storage=LocalStorage(settings.workspace / "s")) as app:
        assert app.gemini is given
    assert log == []


def test_library_classes_from_app_share_its_backends(settings: Settings, no_credentials: None) -> None:
    with App(settings, offline=True) as app:
        analyzer = Analyzer.from_app(app)
        assert analyzer.corpus is app.corpus and analyzer.storage is app.storage
        assert "gemini" not in app.built  # the client is the App's, built only when a model call needs it
        assert analyzer.client is app.gemini
        analyzer.close()  # borrowed: the App's client stays usable
        assert app.gemini.generate(model="gemini-2.5-flash", prompt="x").text
        ingestor = Ingestor.from_app(app, concurrency=3)
        assert ingestor.corpus is app.corpus and ingestor.storage is app.storage and ingestor.concurrency == 3
        builder = DatasetBuilder.from_app(app)
        assert builder.corpus is app.corpus and builder.settings is app.settings
        tuner = Tuner.from_app(app, epochs=3)
        assert tuner.client is app.gemini and tuner.corpus is app.corpus
        evaluator = Evaluator.from_app(app)
        assert evaluator.client is app.gemini and evaluator.settings is app.settings
        evaluator.close()
        retrainer = Retrainer.from_app(app)
        assert retrainer.client is app.gemini and retrainer.corpus is app.corpus
        retrainer.close()
        assert app.gemini.generate(model="gemini-2.5-flash", prompt="x").text


def test_the_service_closes_its_app_on_shutdown(settings: Settings) -> None:
    app = App(settings, offline=True)
    served = create_app(app, token="t" * 24)
    assert served.state.service.app is app
    with TestClient(served) as http:
        assert http.get("/healthz").status_code == 200
        corpus = app.corpus
    with pytest.raises(Exception, match="closed"):
        corpus.db.query_one("SELECT 1")
    with pytest.raises(ConfigError, match="closed"):
        app.gemini  # noqa: B018


def test_the_service_builds_and_closes_an_app_from_settings(settings: Settings) -> None:
    served = create_app(settings.model_copy(update={"offline": True}), token="t" * 24)
    app = served.state.service.app
    with TestClient(served) as http:
        assert http.get("/healthz").json()["offline"] is True
    with pytest.raises(Exception, match="closed"):  # the corpus the App opened is closed with it
        app.corpus.db.query_one("SELECT 1")
    with pytest.raises(ConfigError, match="closed"):
        app.gemini  # noqa: B018


def test_a_cli_command_builds_one_app_and_closes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import humortune.app
    from humortune.cli import main

    from .conftest import SAMPLE_BATTERY

    built: list[App] = []

    class Recorded(App):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(humortune.app, "App", Recorded)
    clip = str(SAMPLE_BATTERY.parent / "sample_videos" / "clip03.mp4")
    assert main(["-w", str(tmp_path / "ws"), "analyze", clip, "--offline", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["analysis"]["narrative"]
    assert len(built) == 1 and built[0].offline
    assert "gemini" in built[0].built and built[0]._closed
    with pytest.raises(ConfigError, match="closed"):
        built[0].downloader  # noqa: B018
