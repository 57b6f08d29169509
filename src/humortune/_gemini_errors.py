"""How Vertex AI's HTTP errors become humortune errors (used by `humortune.gemini`; no google.genai here).

Each message says what happened (status and Vertex's own text, verbatim) and what to do about it: which IAM
role or bucket permission is missing, which base models are tunable, how to log in.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import httpx

import humortune.catalog as catalog
from humortune.errors import (
    AnalysisPermissionError,
    AnalysisRequestError,
    AnalysisServiceError,
    HumortuneError,
    ModelNotFoundError,
    RateLimitedError,
    TuningJobNotFoundError,
    TuningPermissionError,
    TuningQuotaError,
    TuningRequestError,
    TuningServiceError,
)

__all__ = [
    "LOGIN_HINT",
    "MAYBE_CREATED_HINT",
    "api_error",
    "gave_up",
    "is_transport_error",
    "parse_retry_after",
    "tunable_hint",
]

LOGIN_HINT = "run `gcloud auth application-default login` (or set HUMORTUNE_CREDENTIALS_FILE to a key file)"
MAYBE_CREATED_HINT = (
    "the job may have been created anyway: list the jobs (`humortune jobs list --remote` for tuning) before "
    "submitting again"
)
_TUNING_IAM = (
    "grant the caller roles/aiplatform.user, and give the Vertex AI Service Agent "
    "(service-PROJECT_NUMBER@gcp-sa-aiplatform.iam.gserviceaccount.com) roles/storage.objectViewer on the "
    "bucket holding the dataset and videos; with a custom service account: give it "
    "roles/aiplatform.tuningServiceAgent, give the Vertex AI tuning service agent "
    "(service-PROJECT_NUMBER@gcp-sa-vertex-tune.iam.gserviceaccount.com) roles/iam.serviceAccountTokenCreator "
    "on it, and the caller needs iam.serviceAccounts.actAs on it (see docs/tuning.md)"
)
_ANALYSIS_IAM = (
    "grant the caller roles/aiplatform.user, and let the Vertex AI Service Agent read the video's bucket "
    "(roles/storage.objectViewer); batch prediction also needs it to write the output prefix "
    "(roles/storage.objectCreator on the bucket holding analysis/batches/)"
)


def tunable_hint() -> str:
    """The hint for an unknown or untunable base model."""
    return "tunable base models are " + ", ".join(m.id for m in catalog.MODELS.values() if m.video_tuning)


def api_error(
    code: int,
    status: str | None,
    message: str | None,
    *,
    tuning: bool,
    item: str | None,
    creating: bool = False,
    retry_after: float | None = None,
) -> HumortuneError:
    """The humortune error for an HTTP error answer from Vertex AI."""
    text = f"Vertex AI answered {code} {status or ''}".rstrip()
    if message:
        text = f"{text}: {message}"
    low = (message or "").lower()
    if code == 429:
        cls429 = TuningQuotaError if tuning else RateLimitedError
        err: HumortuneError = cls429(
            text,
            hint="wait and retry, or ask for more quota (IAM & Admin → Quotas, Vertex AI "
            "generate_content / tuning quotas)",
            item=item,
        )
        err.retry_after = retry_after  # type: ignore[attr-defined]
        return err
    if code in (401, 403):
        if "service_disabled" in low or "has not been used" in low or "is disabled" in low:
            hint = "enable the API: `gcloud services enable aiplatform.googleapis.com`"
        elif code == 401:
            hint = f"the credentials expired or are invalid: {LOGIN_HINT}"
        else:
            hint = _TUNING_IAM if tuning else _ANALYSIS_IAM
        return (TuningPermissionError if tuning else AnalysisPermissionError)(text, hint=hint, item=item)
    if code == 404:
        if not tuning:
            return ModelNotFoundError(
                text,
                hint="check the model id or endpoint name (`humortune models list`) and that the client's "
                "location matches the endpoint's",
                item=item,
            )
        if creating:
            return TuningRequestError(text, hint=tunable_hint(), item=item)
        return TuningJobNotFoundError(
            text, hint="check the job name and the project/location (`humortune jobs list`)", item=item
        )
    if code >= 500 and code != 501:
        cls5 = TuningServiceError if tuning else AnalysisServiceError
        hint = MAYBE_CREATED_HINT if creating else "Vertex AI is having trouble; retry later"
        return cls5(text, hint=hint, item=item)
    if not tuning:
        return AnalysisRequestError(
            text, hint="check the video URI (gs:// or public https), its MIME type and the prompt", item=item
        )
    hint = "fix the request"
    if "adapter size" in low:
        hint = (
            "choose an adapter size the base model allows (gemini-2.5-pro: 4 or 8; others: 4, 8 or 16; "
            "`humortune models catalog` lists them)"
        )
    elif "base model" in low or ("model" in low and "not supported" in low):
        hint = tunable_hint()
    elif "gs://" in low or "dataset" in low or "uri" in low:
        hint = "check that the dataset is in Cloud Storage and that the Vertex AI Service Agent can read it"
    elif "state" in low and ("cancel" in low or "precondition" in (status or "").lower()):
        hint = "the job has already ended; `humortune jobs show NAME` shows its final state"
    return TuningRequestError(text, hint=hint, item=item)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


# google-genai 3 sends through httpx2 by default (httpx when an httpx client is injected, aiohttp when
# installed): their exceptions share names, not classes, so a transport failure is recognised by name
# within those packages, or by what it is underneath (a refused, reset or timed-out connection).
_TRANSPORT_PACKAGES = frozenset({"httpx", "httpx2", "httpcore", "httpcore2", "aiohttp"})
_TRANSPORT_CLASSES = frozenset(
    {
        "TransportError",
        "NetworkError",
        "TimeoutException",
        "ProtocolError",
        "ClientConnectionError",
        "ServerTimeoutError",
    }
)


def is_transport_error(exc: BaseException) -> bool:
    """Whether ``exc`` means the server could not be reached or stopped answering, whatever the HTTP backend."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, httpx.TransportError | ConnectionError | TimeoutError):
            return True
        if any(
            cls.__module__.split(".", 1)[0] in _TRANSPORT_PACKAGES and cls.__name__ in _TRANSPORT_CLASSES
            for cls in type(current).__mro__
        ):
            return True
        current = current.__cause__  # only explicit wrapping: an unrelated error raised while handling one is not
    return False


def gave_up(exc: HumortuneError, attempts: int) -> HumortuneError:
    # Say how hard we tried, once, on the error that finally escapes.
    if exc.transient and attempts > 1 and "attempts)" not in exc.message:
        exc.message = f"{exc.message} (after {attempts} attempts)"
        exc.args = (exc.message,)
    return exc
