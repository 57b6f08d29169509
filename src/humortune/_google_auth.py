"""Google credentials for the Vertex client (google-auth only, no google-genai): kept out of `humortune.gemini`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import google.auth
import google.auth.exceptions
import google.oauth2.credentials
import httpx

from humortune._gemini_errors import LOGIN_HINT
from humortune.errors import CredentialsError
from humortune.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from google.auth.credentials import Credentials

__all__ = ["OFFLINE_TOKEN", "SCOPES", "is_loopback", "load_credentials", "static_credentials"]

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
OFFLINE_TOKEN = "offline-fake-token"  # static: google-auth never refreshes it, nothing leaves the machine


def static_credentials() -> Credentials:
    """Fake static credentials for offline use: a fixed token google-auth never refreshes or sends anywhere real."""
    return google.oauth2.credentials.Credentials(token=OFFLINE_TOKEN)  # type: ignore[no-untyped-call]


def is_loopback(url: str | None) -> bool:
    host = httpx.URL(url).host if url else ""
    return host in {"127.0.0.1", "localhost", "::1"}


def load_credentials(settings: Settings) -> tuple[Credentials, str | None]:
    try:
        if settings.credentials_file is not None:
            from google.oauth2 import service_account

            key_file = str(settings.credentials_file)
            creds = service_account.Credentials.from_service_account_file(key_file, scopes=SCOPES)  # type: ignore[no-untyped-call]
            return creds, creds.project_id
        found, project = google.auth.default(scopes=SCOPES)
        return found, project
    except (google.auth.exceptions.GoogleAuthError, OSError, ValueError) as exc:
        where = f"the key file {settings.credentials_file}" if settings.credentials_file else "ADC"
        raise CredentialsError(
            f"no usable Google credentials ({where}): {type(exc).__name__}",
            hint=f"{LOGIN_HINT}, or use --offline to run against the bundled fake",
        ) from exc
