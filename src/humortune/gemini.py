"""The one door to Vertex AI: the only module that imports ``google.genai``.

`GeminiClient` wraps a Vertex-mode ``google.genai.Client`` and gives the rest of humortune plain results
(`Generation`, `TuningJobInfo`, `BatchJobInfo`) and humortune errors. Everything foreign (google-genai's
``APIError``, google-auth's credential errors, the transport errors of httpx, httpx2 or aiohttp) is translated here into
`TuningError`/`AnalysisError` subclasses whose messages say what to do.

Retries live in one tenacity policy (`RetryPolicy`): 429 (honouring ``Retry-After``), 5xx, resets and
timeouts are retried with exponential backoff for calls that are safe to repeat. Creating a tuning job or a
batch job is **not** idempotent on the server and is never retried.

```python
client = GeminiClient.from_settings(Settings(project="my-proj"))
gen = client.generate(model="gemini-3.5-flash", prompt="Analysera denna video.", video_uri="gs://b/v.mp4")
print(gen.text, gen.usage.total_tokens)
```
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import warnings
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import google.auth.exceptions
import httpx
import pydantic
import tenacity
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from humortune._gemini_errors import (
    LOGIN_HINT,
    MAYBE_CREATED_HINT,
    api_error,
    gave_up,
    is_transport_error,
    parse_retry_after,
)
from humortune._gemini_results import (
    BatchJobInfo,
    Generation,
    TuningJobInfo,
    batch_info,
    generation_from,
    tuning_info,
)
from humortune._google_auth import is_loopback, load_credentials, static_credentials
from humortune._retry import RetryPolicy
from humortune.catalog import ADAPTER_ENUM
from humortune.errors import (
    AnalysisRequestError,
    AnalysisServiceError,
    CredentialsError,
    HumortuneError,
    TuningRequestError,
    TuningServiceError,
)
from humortune.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from google.auth.credentials import Credentials

    from humortune.analyzer.request import BatchRequest, GenerationRequest
    from humortune.tuner.request import TuningRequest

__all__ = [
    "BatchJobInfo",
    "GeminiClient",
    "Generation",
    "RetryPolicy",
    "TuningJobInfo",
    "render_tuning_body",
]

log = logging.getLogger(__name__)
T = TypeVar("T")
Op = Literal["tuning", "analysis"]

_LOCATION_IN_NAME = re.compile(r"^projects/[^/]+/locations/([^/]+)/")


class GeminiClient:
    """Vertex AI access for generation, tuning jobs and batch prediction.

    Build it with `from_settings`; pass a ``google.genai.Client`` directly only in special setups.
    """

    def __init__(
        self,
        client: genai.Client,
        *,
        settings: Settings,
        retry: RetryPolicy | None = None,
        offline: bool = False,
        sibling: Callable[[str], genai.Client] | None = None,
    ) -> None:
        self._client = client
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self.offline = offline
        """Whether this client talks to the bundled FakeGemini instead of Vertex AI."""
        self.fake: Any = None
        """The `humortune.testing.FakeGemini` behind an offline client, else ``None``."""
        self._sibling = sibling
        self._by_location: dict[str, genai.Client] = {}

    # -- construction -------------------------------------------------------------------------------

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        base_url: str | None = None,
        credentials: Credentials | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 300.0,
    ) -> GeminiClient:
        """A Vertex-mode client for ``settings.project`` / ``settings.location``.

        Credentials: ``credentials`` if given; static fake ones when a test ``transport`` or a loopback
        ``base_url`` is given; else ``settings.credentials_file``; else Application Default Credentials.
        Offline clients (over the bundled `FakeGemini`) come from `humortune.app.default_client`.
        """
        if async_transport is None and isinstance(transport, httpx.AsyncBaseTransport):
            async_transport = transport  # MockTransport serves both
        test_double = transport is not None or async_transport is not None or is_loopback(base_url)
        project = settings.project
        if credentials is None and test_double:
            credentials = static_credentials()
            project = project or "offline-project"
        elif credentials is None:
            credentials, found_project = load_credentials(settings)
            project = project or found_project
        if not project:
            raise CredentialsError(
                "no Google Cloud project is configured",
                hint="set HUMORTUNE_PROJECT (or `project = …` in humortune.toml), or use --offline",
            )

        def build(location: str) -> genai.Client:
            options = types.HttpOptions(base_url=base_url, timeout=int(timeout_s * 1000))
            if transport is not None:
                options.httpx_client = httpx.Client(transport=transport, timeout=timeout_s)
            if async_transport is not None:
                options.httpx_async_client = httpx.AsyncClient(transport=async_transport, timeout=timeout_s)
            return genai.Client(
                vertexai=True, project=project, location=location, credentials=credentials, http_options=options
            )

        return cls(build(settings.location), settings=settings, retry=retry, sibling=build)

    @property
    def project(self) -> str:
        """The Google Cloud project requests go to."""
        return str(self._client._api_client.project)

    @property
    def location(self) -> str:
        """The Vertex AI region requests go to."""
        return str(self._client._api_client.location)

    def _for_model(self, model: str) -> genai.Client:
        # A tuned endpoint must be called through a client of its own location (3.x models are served
        # from the us/eu multi-regions while the job ran in us-central1).
        match = _LOCATION_IN_NAME.match(model)
        if not match or match.group(1) == self.location or self._sibling is None:
            return self._client
        location = match.group(1)
        if location not in self._by_location:
            self._by_location[location] = self._sibling(location)
        return self._by_location[location]

    # -- generation ---------------------------------------------------------------------------------

    def generate(
        self,
        request: GenerationRequest | None = None,
        *,
        model: str = "",
        prompt: str = "",
        video_uri: str | None = None,
        mime_type: str = "video/mp4",
        media_resolution: str | None = None,
        system_instruction: str | None = None,
        response_schema: type[pydantic.BaseModel] | None = None,
        temperature: float = 0.0,
        max_output_tokens: int | None = None,
        thinking_budget: int | None = None,
        thinking_level: str | None = None,
    ) -> Generation:
        """Ask ``model`` (a base model id or a tuned endpoint resource) about one video.

        Sends a `humortune.analyzer.request.GenerationRequest` as is, or the keywords. Raises `SafetyBlockedError`,
        `EmptyResponseError`, `TruncatedOutputError`, `ModelNotFoundError`, `RateLimitedError` (after retries) etc.
        """
        if request is not None:
            return self.generate(**request.generate_kwargs())
        contents, config = _generate_args(
            prompt, video_uri, mime_type, media_resolution, system_instruction, response_schema,
            temperature, max_output_tokens, thinking_budget, thinking_level,
        )  # fmt: skip
        api = self._for_model(model)

        def call() -> Generation:
            started = time.perf_counter()
            response = api.models.generate_content(model=model, contents=contents, config=config)
            return generation_from(response, time.perf_counter() - started, item=model)

        return self._call(call, op="analysis", item=model)

    async def agenerate(
        self,
        request: GenerationRequest | None = None,
        *,
        model: str = "",
        prompt: str = "",
        video_uri: str | None = None,
        mime_type: str = "video/mp4",
        media_resolution: str | None = None,
        system_instruction: str | None = None,
        response_schema: type[pydantic.BaseModel] | None = None,
        temperature: float = 0.0,
        max_output_tokens: int | None = None,
        thinking_budget: int | None = None,
        thinking_level: str | None = None,
    ) -> Generation:
        """Async `generate` (same arguments, same errors, same retry policy)."""
        if request is not None:
            return await self.agenerate(**request.generate_kwargs())
        contents, config = _generate_args(
            prompt, video_uri, mime_type, media_resolution, system_instruction, response_schema,
            temperature, max_output_tokens, thinking_budget, thinking_level,
        )  # fmt: skip
        api = self._for_model(model)

        async def call() -> Generation:
            started = time.perf_counter()
            response = await api.aio.models.generate_content(model=model, contents=contents, config=config)
            return generation_from(response, time.perf_counter() - started, item=model)

        return await self._acall(call, op="analysis", item=model)

    # -- tuning ------------------------------------------------------------------------------------

    def tuning_request(
        self,
        *,
        base_model: str,
        train_uri: str,
        validation_uri: str | None = None,
        epochs: int | None = None,
        learning_rate_multiplier: float | None = None,
        adapter_size: int | None = None,
        display_name: str | None = None,
        labels: dict[str, str] | None = None,
        description: str | None = None,
        checkpoint_id: str | None = None,
        export_last_checkpoint_only: bool | None = None,
    ) -> dict[str, Any]:
        """The exact REST body `create_tuning_job` would POST (built by google-genai itself, sent nowhere)."""
        args = _tune_args(
            base_model, train_uri, validation_uri, epochs, learning_rate_multiplier, adapter_size,
            display_name, labels, description, checkpoint_id, export_last_checkpoint_only,
            self.settings.service_account,
        )  # fmt: skip
        return _captured_body(self.project, self.location, args, item=base_model)

    def create_tuning_job(
        self,
        request: TuningRequest | None = None,
        *,
        base_model: str = "",
        train_uri: str = "",
        validation_uri: str | None = None,
        epochs: int | None = None,
        learning_rate_multiplier: float | None = None,
        adapter_size: int | None = None,
        display_name: str | None = None,
        labels: dict[str, str] | None = None,
        description: str | None = None,
        checkpoint_id: str | None = None,
        export_last_checkpoint_only: bool | None = None,
    ) -> TuningJobInfo:
        """Submit a supervised-tuning job. Never retried: a lost response may still have created a job.

        With a `humortune.tuner.request.TuningRequest` it sends exactly `render_tuning_body(request)` (the
        request must name this client's project and region); the keywords remain for direct calls.
        """
        if request is not None:
            if (request.project, request.location) != (self.project, self.location):
                where = f"{request.project}/{request.location}, this client {self.project}/{self.location}"
                raise TuningRequestError(f"the request is for {where}", hint="build it with Tuner(client=…).build")
            args, base_model = _request_args(request), request.base_model
        else:
            args = _tune_args(
                base_model, train_uri, validation_uri, epochs, learning_rate_multiplier, adapter_size,
                display_name, labels, description, checkpoint_id, export_last_checkpoint_only,
                self.settings.service_account,
            )  # fmt: skip

        def call() -> TuningJobInfo:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # google-genai's ExperimentalWarning on every tune()
                return tuning_info(self._client.tunings.tune(**args))

        return self._call(call, op="tuning", item=base_model, retry=False, creating=True)

    def get_tuning_job(self, name: str) -> TuningJobInfo:
        """The job's current state (retried on transient errors)."""
        return self._call(lambda: tuning_info(self._client.tunings.get(name=name)), op="tuning", item=name)

    def list_tuning_jobs(self, *, limit: int = 100) -> list[TuningJobInfo]:
        """The project's tuning jobs in this region, newest first as the service returns them."""

        def call() -> list[TuningJobInfo]:
            out: list[TuningJobInfo] = []
            for job in self._client.tunings.list(config=types.ListTuningJobsConfig(page_size=min(limit, 100))):
                out.append(tuning_info(job))
                if len(out) >= limit:
                    break
            return out

        return self._call(call, op="tuning", item=self.location)

    def cancel_tuning_job(self, name: str) -> None:
        """Ask Vertex to cancel (best effort; the job keeps its record with state CANCELLED)."""
        self._call(lambda: self._client.tunings.cancel(name=name), op="tuning", item=name)

    # -- batch prediction --------------------------------------------------------------------------

    def get_base_model(self, model: str) -> dict[str, Any]:
        """Read a publisher model: a cheap call proving credentials, API and model (404: `ModelNotFoundError`)."""
        return self._call(lambda: self._client.models.get(model=model), op="analysis", item=model).model_dump()

    def create_batch_job(
        self,
        request: BatchRequest | None = None,
        *,
        model: str = "",
        src_uri: str = "",
        dest_uri: str = "",
        display_name: str | None = None,
    ) -> BatchJobInfo:
        """Start a batch prediction job from a `BatchRequest` (rows already at its src) or keywords. Never retried."""
        if request is not None:
            return self.create_batch_job(**request.job_kwargs())
        # Typed source/destination: the SDK accepts only gs:// or bq:// *strings*, which would keep the offline
        # fake (file:// storage) out; the typed objects serialise to the same REST body for gs:// URIs.
        src = types.BatchJobSource(format="jsonl", gcs_uri=[src_uri])
        dest = types.BatchJobDestination(format="jsonl", gcs_uri=dest_uri)
        config = types.CreateBatchJobConfig(dest=dest, display_name=display_name)
        return self._call(
            lambda: batch_info(self._client.batches.create(model=model, src=src, config=config)),
            op="analysis",
            item=model,
            retry=False,
            creating=True,
        )

    def get_batch_job(self, name: str) -> BatchJobInfo:
        """A batch job's current state (retried on transient errors)."""
        return self._call(lambda: batch_info(self._client.batches.get(name=name)), op="analysis", item=name)

    def cancel_batch_job(self, name: str) -> None:
        """Ask Vertex to cancel a batch job (best effort)."""
        self._call(lambda: self._client.batches.cancel(name=name), op="analysis", item=name)

    # -- the one retry policy ----------------------------------------------------------------------

    def _retrying(self, *, attempts: int) -> dict[str, Any]:
        policy = self.retry
        backoff = tenacity.wait_exponential_jitter(initial=policy.initial_s, max=policy.max_s)

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            after = getattr(exc, "retry_after", None)
            if isinstance(after, int | float):
                return float(min(after, policy.max_retry_after_s))
            return float(backoff(state))

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning("retrying after %s (attempt %d of %d)", exc, state.attempt_number, attempts)

        return {
            "stop": tenacity.stop_after_attempt(attempts),
            "wait": wait,
            "retry": tenacity.retry_if_exception(lambda e: isinstance(e, HumortuneError) and e.transient),
            "reraise": True,
            "before_sleep": before_sleep,
        }

    def _call(self, fn: Callable[[], T], *, op: Op, item: str, retry: bool = True, creating: bool = False) -> T:
        attempts = self.retry.attempts if retry else 1
        try:
            for attempt in tenacity.Retrying(sleep=self.retry.sleep, **self._retrying(attempts=attempts)):
                with attempt:
                    try:
                        return fn()
                    except HumortuneError:
                        raise
                    except Exception as exc:
                        raise translate(exc, op=op, item=item, creating=creating) from exc
        except HumortuneError as exc:
            raise gave_up(exc, attempts) from exc.__cause__
        raise AssertionError("unreachable")  # pragma: no cover

    async def _acall(self, fn: Callable[[], Awaitable[T]], *, op: Op, item: str) -> T:
        attempts = self.retry.attempts
        retrying = tenacity.AsyncRetrying(sleep=self.retry.async_sleep, **self._retrying(attempts=attempts))
        try:
            async for attempt in retrying:
                with attempt:
                    try:
                        return await fn()
                    except HumortuneError:
                        raise
                    except Exception as exc:
                        raise translate(exc, op=op, item=item) from exc
        except HumortuneError as exc:
            raise gave_up(exc, attempts) from exc.__cause__
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close the HTTP connections."""
        for client in (self._client, *self._by_location.values()):
            client.close()


# -- helpers: credentials, requests, responses ---------------------------------------------------------


def _generate_args(
    prompt: str,
    video_uri: str | None,
    mime_type: str,
    media_resolution: str | None,
    system_instruction: str | None,
    response_schema: type[pydantic.BaseModel] | None,
    temperature: float,
    max_output_tokens: int | None,
    thinking_budget: int | None,
    thinking_level: str | None,
) -> tuple[list[types.Content], types.GenerateContentConfig]:
    # Video first, then the prompt: the order the training rows use.
    parts = [types.Part.from_uri(file_uri=video_uri, mime_type=mime_type)] if video_uri else []
    parts.append(types.Part.from_text(text=prompt))
    config = types.GenerateContentConfig(
        temperature=temperature,
        max_output_tokens=max_output_tokens,
        system_instruction=system_instruction,
        media_resolution=types.MediaResolution(media_resolution) if media_resolution else None,
        response_mime_type="application/json" if response_schema else None,
        response_schema=response_schema,
        thinking_config=_thinking_config(thinking_budget, thinking_level),
    )
    return [types.Content(role="user", parts=parts)], config


def _thinking_config(budget: int | None, level: str | None) -> types.ThinkingConfig | None:
    # Gemini 2.5 takes a budget, 3.x a level; sending the other one is a 400 (see humortune.catalog).
    if budget is None and level is None:
        return None
    return types.ThinkingConfig(
        thinking_budget=budget, thinking_level=types.ThinkingLevel(level) if level is not None else None
    )


def render_tuning_body(request: TuningRequest) -> dict[str, Any]:
    """The exact REST body submitting ``request`` POSTs, built by google-genai itself and sent nowhere.

    Needs no client and no credentials: the one dry-run path of ``tune --dry-run``, ``build --request`` and
    ``prepare``; `GeminiClient.create_tuning_job` sends this body for the same request.
    """
    return _captured_body(request.project, request.location, _request_args(request), item=request.base_model)


_DRY: dict[tuple[str, str], tuple[genai.Client, list[bytes]]] = {}
_DRY_LOCK = threading.Lock()


def _captured_body(project: str, location: str, args: dict[str, Any], *, item: str) -> dict[str, Any]:
    with _DRY_LOCK:  # one capturing client per project and region, reused: building a genai.Client costs ~40 ms
        if (project, location) not in _DRY:
            captured: list[bytes] = []

            def capture(request: httpx.Request) -> httpx.Response:
                captured.append(request.content)
                return httpx.Response(200, json={"name": "projects/p/locations/l/tuningJobs/0"})

            transport = httpx.MockTransport(capture)
            options = types.HttpOptions(httpx_client=httpx.Client(transport=transport))
            dry = genai.Client(
                vertexai=True,
                project=project,
                location=location,
                credentials=static_credentials(),
                http_options=options,
            )
            _DRY[project, location] = (dry, captured)
        dry, captured = _DRY[project, location]
        captured.clear()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dry.tunings.tune(**args)
        except (pydantic.ValidationError, ValueError) as exc:
            raise TuningRequestError(f"invalid tuning request: {exc}", item=item) from exc
        body: dict[str, Any] = json.loads(captured[0])
    return body


def _request_args(request: TuningRequest) -> dict[str, Any]:
    hp = request.hyperparameters
    return _tune_args(
        request.base_model, request.train_uri, request.validation_uri, hp.epochs, hp.learning_rate_multiplier,
        hp.adapter_size, request.display_name, request.label_dict, request.description, request.checkpoint_id,
        request.export_last_checkpoint_only, request.service_account,
    )  # fmt: skip


def _tune_args(
    base_model: str,
    train_uri: str,
    validation_uri: str | None,
    epochs: int | None,
    learning_rate_multiplier: float | None,
    adapter_size: int | None,
    display_name: str | None,
    labels: dict[str, str] | None,
    description: str | None,
    checkpoint_id: str | None,
    export_last_checkpoint_only: bool | None,
    service_account: str | None,
) -> dict[str, Any]:
    if adapter_size is not None and adapter_size not in ADAPTER_ENUM:
        raise TuningRequestError(f"adapter size {adapter_size} does not exist", hint="use 1, 2, 4, 8 or 16")
    config = types.CreateTuningJobConfig(
        validation_dataset=types.TuningValidationDataset(gcs_uri=validation_uri) if validation_uri else None,
        tuned_model_display_name=display_name,
        description=description,
        epoch_count=epochs,
        learning_rate_multiplier=learning_rate_multiplier,
        adapter_size=types.AdapterSize(ADAPTER_ENUM[adapter_size]) if adapter_size else None,
        export_last_checkpoint_only=export_last_checkpoint_only,
        pre_tuned_model_checkpoint_id=checkpoint_id,
        labels=labels or None,
        # CreateTuningJobConfig has no service-account field in google-genai 2.x: merge it into the body.
        http_options=types.HttpOptions(extra_body={"serviceAccount": service_account}) if service_account else None,
    )
    return {
        "base_model": base_model,
        "training_dataset": types.TuningDataset(gcs_uri=train_uri),
        "config": config,
    }


# -- error translation ---------------------------------------------------------------------------------


def translate(exc: BaseException, *, op: Op, item: str | None = None, creating: bool = False) -> HumortuneError:
    """Turn a google-genai / google-auth / transport exception into the matching humortune error."""
    tuning = op == "tuning"
    if isinstance(exc, google.auth.exceptions.GoogleAuthError):
        return CredentialsError(
            f"Google credentials could not be used: {type(exc).__name__}", hint=LOGIN_HINT, item=item
        )
    if is_transport_error(exc):
        cls = TuningServiceError if tuning else AnalysisServiceError
        hint = MAYBE_CREATED_HINT if creating else "check the network and retry"
        return cls(f"could not reach Vertex AI: {type(exc).__name__}: {exc}", hint=hint, item=item)
    if isinstance(exc, genai_errors.APIError):
        headers = getattr(exc.response, "headers", None)
        return api_error(
            int(exc.code or 0),
            exc.status,
            exc.message,
            tuning=tuning,
            item=item,
            creating=creating,
            retry_after=parse_retry_after(headers.get("retry-after") if headers is not None else None),
        )
    if isinstance(exc, pydantic.ValidationError | ValueError | TypeError):
        cls_req = TuningRequestError if tuning else AnalysisRequestError
        return cls_req(f"invalid request: {exc}", item=item)
    cls_svc = TuningServiceError if tuning else AnalysisServiceError
    err = cls_svc(f"unexpected error from google-genai: {type(exc).__name__}: {exc}", item=item)
    err.transient = False  # unknown failures are not retried blindly
    return err
