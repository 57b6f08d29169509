"""One `Settings` object for the whole library.

Precedence, highest first: explicit arguments, ``HUMORTUNE_*`` environment variables, a ``.env`` file in
the current directory, ``humortune.toml`` in the workspace, then the defaults below. `Settings.provenance`
says where each effective value came from; `Settings.describe` shows them with secrets redacted.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

import humortune.catalog as catalog
from humortune.errors import ConfigError

__all__ = ["CONFIG_FILE", "MediaResolution", "Settings"]

CONFIG_FILE = "humortune.toml"
"""The optional settings file, looked up inside the workspace directory."""
ENV_PREFIX = "HUMORTUNE_"
DEFAULT_WORKSPACE = Path(".humortune")

MediaResolution = Literal["MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM", "MEDIA_RESOLUTION_HIGH"]


def _workspace_from(init_kwargs: dict[str, Any]) -> Path:
    raw = init_kwargs.get("workspace") or os.environ.get(f"{ENV_PREFIX}WORKSPACE") or DEFAULT_WORKSPACE
    return Path(raw).expanduser()


class Settings(BaseSettings):
    """Effective configuration. Construct with keyword arguments to override everything else.

    ```python
    settings = Settings(workspace="work", storage="gs://my-bucket/humortune")
    ```
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    workspace: Path = Field(DEFAULT_WORKSPACE, description="Directory holding the corpus and local storage.")
    storage: str | None = Field(
        None,
        description="Where videos and datasets live: file://… or gs://bucket[/prefix]. "
        "Default: file://<workspace>/storage.",
    )
    project: str | None = Field(None, description="Google Cloud project id for Vertex AI.")
    location: str = Field("us-central1", description="Vertex AI region for tuning and inference.")
    base_model: str = Field(
        default_factory=lambda: catalog.default_base_model().id,
        description="Base model to tune and compare against (default: the catalog's choice, "
        "`humortune models catalog`).",
    )
    media_resolution: MediaResolution = Field(
        "MEDIA_RESOLUTION_LOW",
        description="Tokens per frame for tuning and inference (LOW tunes ~4x faster, allows 20-min clips).",
    )
    credentials_file: Path | None = Field(
        None, description="Service-account JSON; default: Application Default Credentials."
    )
    service_account: str | None = Field(None, description="Service account the tuning job runs as.")
    api_token: SecretStr | None = Field(None, description="Bearer token for `humortune serve`.")
    database_url: SecretStr | None = Field(
        None,
        description="The workspace database: sqlite:///path or postgresql://user:password@host/db "
        "(shared by several machines). Default: the SQLite file inside the workspace.",
    )
    cookies_file: Path | None = Field(None, description="Netscape cookies file for yt-dlp (never logged).")
    proxy: SecretStr | None = Field(None, description="Proxy URL for downloads (may hold credentials).")
    download_concurrency: int = Field(8, ge=1, le=64, description="Parallel downloads during ingest.")
    max_video_mb: int = Field(100, ge=1, description="Largest video accepted (Vertex's limit is 100 MB).")
    download_timeout_s: float = Field(30.0, gt=0, description="Socket timeout for video downloads.")
    download_attempts: int = Field(
        3, ge=1, le=20, description="Tries per source for transient failures (rate limits, 5xx, resets)."
    )
    download_backoff_s: float = Field(
        2.0, ge=0, description="First wait between tries; doubles each time (with jitter)."
    )
    confirm_cost_above_usd: float = Field(5.0, ge=0, description="Ask before submitting jobs costing more.")
    allow_retiring: bool = Field(
        False, description="Tune on a base model that retires within 30 days (recorded on the job)."
    )
    training_price_per_mtok: dict[str, float] = Field(
        default_factory=dict,
        description="Override training prices, USD per 1M tokens, by base model.",
    )
    inference_price_per_mtok: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="Override inference prices, USD per 1M (input, output) tokens, by base model.",
    )
    offline: bool = Field(False, description="Use the bundled FakeGemini instead of Vertex AI.")
    judge_model: str | None = Field(None, description="Base model that judges evaluations (default: base_model).")
    judge_min_agreement: float = Field(
        0.8, ge=0, le=1, description="Agreement with the owner's labels a judge needs before it may gate a promotion."
    )
    judge_min_labels: int = Field(20, ge=1, description="Owner labels a judge must be checked on before it may gate.")
    gate_slice_margin: float = Field(
        0.05, ge=0, le=1, description="How far a niche or category slice may regress before it blocks a promotion."
    )
    gate_min_slice_size: int = Field(10, ge=1, description="Slices smaller than this are reported but never block.")

    retrain_min_corrections: int = Field(
        20, ge=1, description="New corrections since the current model's dataset that make `humortune retrain` run."
    )
    retrain_drift: float = Field(
        0.05,
        ge=0,
        description="Drop in the current model's mean held-out score (promotion vs latest evaluation) that makes "
        "`humortune retrain` run.",
    )
    retrain_from: Literal["current", "base"] = Field(
        "current", description="Continue tuning the current tuned model, or retrain from the base model."
    )
    retrain_budget_usd: float | None = Field(
        None, ge=0, description="Most a retrain may cost (upper estimate); within it no confirmation is asked."
    )
    niche_min_corrections: int = Field(
        50, ge=1, description="Corrections a niche needs before `humortune niches --train` tunes it its own model."
    )

    _provenance: dict[str, str] = PrivateAttr(default_factory=dict)

    @field_validator("storage")
    @classmethod
    def _storage_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("file://", "gs://")):
            raise ValueError("must start with file:// or gs://")
        if value is not None and value.startswith("gs://") and not value[5:].strip("/"):
            raise ValueError("gs:// needs a bucket name, e.g. gs://my-bucket/humortune")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        init_kwargs = getattr(init_settings, "init_kwargs", {})
        toml_path = _workspace_from(init_kwargs) / CONFIG_FILE
        toml = TomlConfigSettingsSource(settings_cls, toml_file=toml_path)
        return (init_settings, env_settings, dotenv_settings, toml)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise ConfigError(
                f"invalid setting {field}: {first['msg']}",
                hint=f"fix it in the arguments, {ENV_PREFIX}{field.upper()} or {CONFIG_FILE}",
            ) from None
        except tomllib.TOMLDecodeError as exc:
            path = _workspace_from(values) / CONFIG_FILE
            raise ConfigError(f"cannot read {path}: {exc}", hint="fix the TOML syntax or remove the file") from None
        self._provenance = self._trace_sources(values)

    def _trace_sources(self, init_kwargs: dict[str, Any]) -> dict[str, str]:
        toml_path = self.config_file
        toml_keys: set[str] = set()
        if toml_path.is_file():
            try:
                toml_keys = set(tomllib.loads(toml_path.read_text("utf-8")))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(
                    f"cannot read {toml_path}: {exc}", hint="fix the TOML syntax or remove the file"
                ) from None
        dotenv = _dotenv_keys(Path(".env"))
        origin: dict[str, str] = {}
        for name in type(self).model_fields:
            env_name = f"{ENV_PREFIX}{name.upper()}"
            if name in init_kwargs:
                origin[name] = "argument"
            elif env_name in os.environ:
                origin[name] = f"env {env_name}"
            elif env_name in dotenv:
                origin[name] = ".env"
            elif name in toml_keys:
                origin[name] = str(toml_path)
            else:
                origin[name] = "default"
        return origin

    @property
    def config_file(self) -> Path:
        """Path of the optional ``humortune.toml`` for this workspace."""
        return self.workspace / CONFIG_FILE

    @property
    def database_path(self) -> Path:
        """The SQLite corpus inside the workspace."""
        return self.workspace / "humortune.db"

    @property
    def database_target(self) -> str | Path:
        """What `humortune.workspace.Database` opens: ``database_url`` when set, else ``database_path``."""
        return self.database_url.get_secret_value() if self.database_url else self.database_path

    @property
    def storage_uri(self) -> str:
        """The effective storage URI (the default is local storage inside the workspace)."""
        return self.storage or (self.workspace.resolve() / "storage").as_uri()

    def provenance(self) -> dict[str, str]:
        """Where each field's effective value came from: argument, env, .env, toml file or default."""
        return dict(self._provenance)

    def describe(self) -> list[tuple[str, str, str]]:
        """(name, value, origin) for every field, with secrets redacted."""
        rows = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                shown = "**********" if value.get_secret_value() else ""
            elif name == "storage" and value is None:
                shown = f"{self.storage_uri} (derived)"
            else:
                shown = "" if value is None else str(value)
            rows.append((name, shown, self._provenance.get(name, "default")))
        return rows


def _dotenv_keys(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    keys = set()
    for line in path.read_text("utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            keys.add(line.split("=", 1)[0].removeprefix("export ").strip())
    return keys
