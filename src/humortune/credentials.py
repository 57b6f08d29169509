"""Where Google credentials would come from, found without touching the network.

google-auth's Application Default Credentials fall back to probing the GCE metadata server
(169.254.169.254) when no key file and no gcloud login exist; off Google Cloud that probe costs seconds per
call (or hangs behind some firewalls), and every clip or check would pay it. `find_credentials` answers
from the environment and the file system only, and `require_credentials` turns "none" into one clear
`CredentialsError` before any client is built. The metadata server is only consulted where it exists
(Cloud Run, GCE, GKE …: `on_google_cloud`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from humortune.errors import CredentialsError

__all__ = [
    "LOGIN_COMMAND",
    "CredentialSource",
    "adc_file",
    "find_credentials",
    "load_credentials",
    "on_google_cloud",
    "project_of",
    "require_credentials",
]

LOGIN_COMMAND = "gcloud auth application-default login"

_CLOUD_ENV = (
    "K_SERVICE",  # Cloud Run
    "CLOUD_RUN_JOB",
    "FUNCTION_TARGET",  # Cloud Functions
    "GAE_ENV",  # App Engine
    "GCE_METADATA_HOST",  # set explicitly: the user knows where the metadata server is
    "KUBERNETES_SERVICE_HOST",  # GKE (workload identity)
)
_DMI_PRODUCT = Path("/sys/class/dmi/id/product_name")


@dataclass(frozen=True, slots=True)
class CredentialSource:
    """Where credentials come from (never the secret itself)."""

    kind: Literal["key-file", "adc-file", "metadata-server"]
    path: Path | None = None

    def describe(self) -> str:
        """``key file /path``, ``gcloud ADC /path`` or ``the metadata server``."""
        if self.kind == "key-file":
            return f"key file {self.path}"
        if self.kind == "adc-file":
            return f"Application Default Credentials {self.path}"
        return "the Google Cloud metadata server"


def adc_file() -> Path | None:
    """The ADC file google-auth would read: ``GOOGLE_APPLICATION_CREDENTIALS``, else gcloud's login file."""
    explicit = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if explicit:
        return Path(explicit).expanduser()
    config = os.environ.get("CLOUDSDK_CONFIG")
    if config:
        folder = Path(config).expanduser()
    elif os.name == "nt":  # pragma: no cover - the owner's machines are Linux and macOS
        folder = Path(os.environ.get("APPDATA", "~")).expanduser() / "gcloud"
    else:
        folder = Path.home() / ".config" / "gcloud"
    path = folder / "application_default_credentials.json"
    return path if path.is_file() else None


def on_google_cloud() -> bool:
    """Whether a metadata server can be expected (Cloud Run, Cloud Functions, App Engine, GKE, GCE)."""
    if os.environ.get("NO_GCE_CHECK", "").lower() == "true":
        return False
    if any(os.environ.get(name) for name in _CLOUD_ENV):
        return True
    try:
        return _DMI_PRODUCT.read_text(encoding="utf-8").strip().startswith("Google")
    except OSError:
        return False


def find_credentials(credentials_file: Path | None = None) -> CredentialSource | None:
    """The credentials `GeminiClient` and `GCSStorage` would use, or ``None`` (no network, no secret read).

    ``credentials_file`` is ``settings.credentials_file`` (a service-account key), which wins over ADC.
    """
    if credentials_file is not None:
        return CredentialSource("key-file", Path(credentials_file).expanduser())
    found = adc_file()
    if found is not None:
        return CredentialSource("adc-file", found)
    if on_google_cloud():
        return CredentialSource("metadata-server")
    return None


def require_credentials(credentials_file: Path | None = None) -> CredentialSource:
    """`find_credentials`, or a `CredentialsError` saying what to run (fast: never probes the network)."""
    found = find_credentials(credentials_file)
    if found is None:
        raise CredentialsError(
            "no Google Cloud credentials found",
            hint=f"run `{LOGIN_COMMAND}` (or set HUMORTUNE_CREDENTIALS_FILE to a service-account key), "
            "or use --offline",
        )
    if found.path is not None and not found.path.is_file():
        raise CredentialsError(
            f"the credentials file {found.path} does not exist",
            hint=f"point HUMORTUNE_CREDENTIALS_FILE / GOOGLE_APPLICATION_CREDENTIALS at a key file, or run "
            f"`{LOGIN_COMMAND}`",
        )
    return found


def load_credentials(credentials_file: Path | None = None) -> tuple[Any, str | None]:
    """``(google-auth credentials, project from them)`` for direct REST calls (IAM); `require_credentials`
    first, so a machine without any fails fast. Raises `CredentialsError`."""
    import google.auth
    from google.auth import exceptions

    require_credentials(credentials_file)
    scopes = ["https://www.googleapis.com/auth/cloud-platform"]
    try:
        if credentials_file is not None:
            from google.oauth2 import service_account

            key = service_account.Credentials.from_service_account_file(str(credentials_file), scopes=scopes)  # type: ignore[no-untyped-call]
            return key, key.project_id
        found, project = google.auth.default(scopes=scopes)
        return found, project
    except (exceptions.GoogleAuthError, OSError, ValueError) as exc:
        raise CredentialsError(
            f"the Google credentials could not be loaded ({type(exc).__name__})",
            hint=f"run `{LOGIN_COMMAND}` again, or point HUMORTUNE_CREDENTIALS_FILE at a valid key file",
        ) from None


def project_of(source: CredentialSource) -> str | None:
    """The project named in a key file (``project_id``) or an ADC file (``quota_project_id``), if any."""
    if source.path is None:
        return None
    try:
        data = json.loads(source.path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("project_id") or data.get("quota_project_id") if isinstance(data, dict) else None
    return str(value) if value else None
