"""Settings precedence (arguments > env > .env > workspace toml > defaults) and redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from humortune.errors import ConfigError
from humortune.settings import Settings


def _write_toml(workspace: Path, text: str) -> None:
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "humortune.toml").write_text(text, "utf-8")


def test_defaults(tmp_path: Path) -> None:
    s = Settings(workspace=tmp_path)
    assert s.location == "us-central1"
    assert s.base_model == "gemini-3.5-flash"  # the catalog's choice: 2.5 Flash retired on 2026-10-20
    assert s.storage_uri == (tmp_path.resolve() / "storage").as_uri()
    assert s.provenance()["location"] == "default"


def test_precedence_argument_over_env_over_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_toml(tmp_path, 'location = "europe-west4"\nbase_model = "gemini-2.5-pro"\nproject = "from-toml"\n')
    monkeypatch.setenv("HUMORTUNE_LOCATION", "europe-west1")
    monkeypatch.setenv("HUMORTUNE_PROJECT", "from-env")
    s = Settings(workspace=tmp_path, project="from-arg")
    assert (s.project, s.location, s.base_model) == ("from-arg", "europe-west1", "gemini-2.5-pro")
    origin = s.provenance()
    assert origin["project"] == "argument"
    assert origin["location"] == "env HUMORTUNE_LOCATION"
    assert origin["base_model"] == str(tmp_path / "humortune.toml")


def test_workspace_from_env_selects_its_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_toml(tmp_path / "ws", 'base_model = "gemini-2.5-flash-lite"\n')
    monkeypatch.setenv("HUMORTUNE_WORKSPACE", str(tmp_path / "ws"))
    assert Settings().base_model == "gemini-2.5-flash-lite"


def test_dotenv_below_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (Path.cwd() / ".env").write_text("HUMORTUNE_PROJECT=from-dotenv\nHUMORTUNE_LOCATION=asia-east1\n")
    monkeypatch.setenv("HUMORTUNE_LOCATION", "us-east5")
    s = Settings(workspace=tmp_path)
    assert (s.project, s.location) == ("from-dotenv", "us-east5")
    assert s.provenance()["project"] == ".env"


def test_secrets_are_redacted_in_repr_and_describe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUMORTUNE_PROXY", "http://user:hunter2@proxy.example:8080")
    s = Settings(workspace=tmp_path, api_token="tok-s3cret")
    text = repr(s) + str(s) + repr(s.describe())
    assert "hunter2" not in text and "tok-s3cret" not in text
    shown = {name: value for name, value, _ in s.describe()}
    assert shown["api_token"] == shown["proxy"] == "**********"
    assert s.api_token is not None and s.api_token.get_secret_value() == "tok-s3cret"


def test_invalid_value_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUMORTUNE_STORAGE", "s3://bucket")
    with pytest.raises(ConfigError, match=r"invalid setting storage: .*file:// or gs://"):
        Settings(workspace=tmp_path)


def test_broken_toml_is_a_config_error(tmp_path: Path) -> None:
    _write_toml(tmp_path, "location = \n")
    with pytest.raises(ConfigError, match=r"humortune\.toml"):
        Settings(workspace=tmp_path)


def test_gs_storage_needs_a_bucket(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="bucket"):
        Settings(workspace=tmp_path, storage="gs://")
    assert Settings(workspace=tmp_path, storage="gs://b/p").storage_uri == "gs://b/p"
