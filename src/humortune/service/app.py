"""The JSON API behind ``humortune serve``: how an app that is not Python asks for analyses.

```
POST /v1/analyze            {"video": "gs://…" | "https://www.tiktok.com/@u/video/…" | "<sha256>", "model"?, "mode"?}
GET  /v1/analyses/{id}      a stored analysis
GET  /healthz               liveness (no token needed)
GET  /docs, /openapi.json   OpenAPI
```

Every ``/v1`` route needs ``Authorization: Bearer <token>`` (``settings.api_token``, or the random token
printed when the server starts). Request bodies are capped (``max_body_bytes``, 413 beyond), invalid ones get
a 422 naming the fields, and humortune errors come back as ``{"error", "message", "hint", "item"}`` with a
status that says whose fault it was. The review UI mounts its own routers on the same app
(``create_app(routers=[…])``) and can reuse `require_token`.
"""

from __future__ import annotations

import functools
import secrets
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

import humortune
from humortune._util import SHA256_HEX
from humortune.errors import AnalysisError, HumortuneError, ModelNotFoundError, SourceError
from humortune.schema import OutputMode, VideoAsset
from humortune.service.docs_assets import add_swagger_ui
from humortune.service.memo import DEFAULT_RECHECK_S, AnswerKey, ServiceMemo
from humortune.service.openapi import (
    ANALYSIS_ID_PATTERN,
    AnalysisResponse,
    AnalyzeRequest,
    ErrorBody,
    Health,
    error_responses,
)
from humortune.settings import Settings
from humortune.urls import parse_source, redact
from humortune.workspace.corpus import Corpus
from humortune.workspace.stores import Stores

if TYPE_CHECKING:  # pragma: no cover
    from humortune.analyzer.analyzer import Analyzer
    from humortune.analyzer.resolve import ResolvedModel
    from humortune.app import App
    from humortune.feedback.router import ReviewContext
    from humortune.feedback.security import ReviewSecurity
    from humortune.gemini import GeminiClient
    from humortune.storage.base import Storage

__all__ = ["AnalyzeRequest", "ErrorBody", "Service", "create_app", "require_token"]

DEFAULT_MAX_BODY_BYTES = 16 * 1024
"""A request names a video; it never uploads one. 16 KiB is far more than any valid body needs."""

_ANALYSIS_ID = ANALYSIS_ID_PATTERN
_BEARER = "The token printed by `humortune serve` or HUMORTUNE_API_TOKEN"
_bearer = HTTPBearer(auto_error=False, description=_BEARER)


@dataclass
class Service:
    """What the routes share: the App (settings, corpus, one Gemini client, storage), the default model and mode."""

    settings: Settings
    corpus: Corpus
    token: str
    app: App
    model: str | None = None
    mode: OutputMode = "two-stage"
    client: GeminiClient | None = None
    storage: Storage | None = None
    analyzer_factory: Callable[[str | None, OutputMode], Analyzer] | None = None
    fetch_urls: bool = True
    """Download TikTok URLs that were never ingested (other sites must be ingested first)."""
    owns_corpus: bool = False
    """Close ``corpus`` on shutdown although it was given (the App closes only what it opened itself)."""
    owns_client: bool = False
    """Close ``client`` on shutdown although it was given (as `create_app(client=…)` always did)."""
    recheck_s: float = DEFAULT_RECHECK_S
    """How long what was read from the workspace (the model an alias names, an analysis) is trusted."""
    memo: ServiceMemo = field(init=False, repr=False)  # analyzers and answers between requests
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.memo = ServiceMemo(recheck_s=self.recheck_s)

    def analyzer(self, model: str | None, mode: OutputMode | None, *, fetch_urls: bool = False) -> Analyzer:
        """A new analyzer sharing the service's corpus and client ("current" is resolved now). Requests
        share one per (model, mode), resolved again after `recheck_s` (`request_analyzer`)."""
        chosen_model, chosen_mode = model or self.model, mode or self.mode
        if self.analyzer_factory is not None:
            return self.analyzer_factory(chosen_model, chosen_mode)
        from humortune.analyzer.analyzer import Analyzer

        with self._lock:  # one client and one storage for the whole service (connection pools, GCS client)
            if self.client is None:
                self.client = self.app.gemini
            if self.storage is None:
                self.storage = self.app.storage
        return Analyzer(
            chosen_model,
            client=self.client,
            settings=self.settings,
            corpus=self.corpus,
            storage=self.storage,
            mode=chosen_mode,
            fetch_urls=fetch_urls,
        )

    def request_analyzer(
        self, model: str | None, mode: OutputMode | None, *, fetch_urls: bool
    ) -> tuple[Analyzer, float, bool]:
        """The analyzer a request uses, when its model was resolved, and whether the caller must close it."""
        if self.analyzer_factory is not None:  # custom set-ups own what they build: one per request, closed
            resolved_at = self.memo.clock()
            return self.analyzer(model, mode, fetch_urls=fetch_urls), resolved_at, True
        build = functools.partial(self.analyzer, model, mode, fetch_urls=fetch_urls)
        return (*self.memo.analyzer((model, mode, fetch_urls), build), False)

    def served_model(self) -> ResolvedModel:
        """The model a request without ``model`` is answered by, resolved now; if the analyzers remembered
        for such requests say otherwise, they are dropped (so ``/healthz`` and ``/v1`` agree at once)."""
        from humortune.analyzer.resolve import resolve_model
        from humortune.errors import ModelNotFoundError

        if self.model is not None:
            resolved = resolve_model(self.model, db=self.corpus.db)
        else:
            try:
                resolved = resolve_model("current", db=self.corpus.db)
            except ModelNotFoundError:
                resolved = resolve_model(self.settings.base_model, db=self.corpus.db)
        self.memo.served(resolved)
        return resolved

    def close(self) -> None:
        """Close the App (what it built) and what the service was handed to own."""
        self.memo.models_changed()
        self.app.close()
        if self.owns_client and self.client is not None:
            self.client.close()
        if self.owns_corpus:
            self.corpus.close()


# The dependencies are `async def`: they are CPU-light, and a sync one costs a thread-pool hop per request.
async def require_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """Dependency: reject the request with 401 unless it carries the service's bearer token."""
    _check_token(request, credentials)


def _check_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> None:
    expected: str = request.app.state.service.token
    given = credentials.credentials if credentials is not None else ""
    if not given or not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )


class _BearerCheck(HTTPBearer):
    """`require_token` as one dependency: the same ``HTTPBearer`` scheme in the OpenAPI schema, without a
    sub-dependency to solve on every request (each level costs ~10 µs)."""

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        _check_token(request, await super().__call__(request))


_token_check = _BearerCheck(auto_error=False, description=_BEARER, scheme_name="HTTPBearer")


def _add_routes(app: FastAPI) -> None:
    """The /v1 routes, on the app itself: an included router is one more level of routing per request."""
    v1: dict[str, Any] = {"dependencies": [Depends(_token_check)], "tags": ["analysis"]}

    @app.post(
        "/v1/analyze",
        **v1,
        response_model=AnalysisResponse,
        responses=error_responses(
            **{
                "404": "Unknown model, alias or stored video",
                "502": "The model failed (safety block, empty or cut-off answer)",
                "503": "Rate-limited or unavailable after retries; see Retry-After",
            }
        ),
    )
    async def analyze(body: AnalyzeRequest, request: Request) -> Response:
        """Analyse one clip: the narrative, the structured record, usage, cost and warnings.

        Cached: the same clip, model, prompt version and mode is answered from the corpus for free unless
        ``refresh`` is true. Runs in a worker thread, so concurrent requests are analysed concurrently.
        """
        # (The docstring is the OpenAPI description.) A repeated cached answer comes from memory without a
        # thread hop (`humortune.service.memo`); everything else runs `_analyze` in a worker thread.
        service: Service = request.app.state.service  # not a dependency: each one costs ~10 µs to solve
        # Only TikTok links are fetched on demand: a generic URL would let callers make the server download
        # anything yt-dlp can reach.
        fetch = service.fetch_urls and body.video.startswith("http") and parse_source(body.video).kind != "http"
        key: AnswerKey = (body.video, body.model, body.mode, fetch)
        if not body.refresh and (hit := service.memo.answer(key)) is not None:
            return _json(hit)
        return await run_in_threadpool(_analyze, service, body, key)

    @app.get(
        "/v1/analyses/{analysis_id}",
        **v1,
        response_model=AnalysisResponse,
        responses=error_responses(**{"404": "No analysis has this id"}),
    )
    async def get_analysis(
        analysis_id: Annotated[str, Path(pattern=_ANALYSIS_ID, description="an-<16 hex digits>")],
        request: Request,
    ) -> Response:
        """A stored analysis by id (the ``id`` returned by ``POST /v1/analyze``)."""
        service: Service = request.app.state.service
        if (hit := service.memo.analysis(analysis_id)) is not None:
            return _json(hit)
        return await run_in_threadpool(_stored_analysis, service, analysis_id)


def _analyze(service: Service, body: AnalyzeRequest, key: AnswerKey) -> Response:
    """``POST /v1/analyze`` the slow way, in a worker thread: read the workspace, maybe call the model."""
    video: str | VideoAsset = body.video
    if body.video.startswith("gs://") and not _own_object(service, body.video):
        return _error(
            422,
            "ForeignObjectError",
            "this gs:// object is not in this server's storage",
            hint=f"analyse videos stored under {redact(service.settings.storage_uri)}/ (ingest them first)",
            item=redact(body.video),
            fields=["video"],
        )
    if SHA256_HEX.match(body.video):
        asset = service.corpus.video(body.video)
        if asset is None:
            return _error(404, "NotFound", "no stored video has this sha256", hint="ingest it first", item=body.video)
        video = asset
    seen_at = service.memo.clock()
    analyzer, resolved_at, owned = service.request_analyzer(body.model, body.mode, fetch_urls=key[3])
    try:
        analysis = analyzer.analyze(video, refresh=body.refresh)
    finally:
        if owned:
            analyzer.close()
    if not analysis.cached and analysis.id is not None:  # just written: the next request reads the row
        service.memo.forget(analysis.id)
        return _json(analysis.model_dump_json().encode())
    return _json(service.memo.remember(analysis, seen_at=seen_at, key=key, resolved_at=resolved_at).hit)


def _stored_analysis(service: Service, analysis_id: str) -> Response:
    """``GET /v1/analyses/{id}`` the slow way, in a worker thread."""
    from humortune.analyzer.cache import AnalysisCache

    seen_at = service.memo.clock()
    found = AnalysisCache(service.corpus.db).by_id(analysis_id)
    if found is None:
        return _error(404, "NotFound", "no analysis has this id", item=analysis_id)
    return _json(service.memo.remember(found, seen_at=seen_at).stored)


def _json(body: bytes) -> Response:
    """Serialised once, as `AnalysisResponse` JSON: returning the model would have FastAPI validate it again
    through ``response_model`` (issue 13); the route keeps ``response_model`` for the OpenAPI schema."""
    return Response(body, media_type="application/json")


def _own_object(service: Service, uri: str) -> bool:
    """Under the configured storage (or the injected one), or an already ingested video."""
    roots = {service.settings.storage_uri}
    if service.storage is not None:
        roots.add(service.storage.root_uri)
    if any(uri.startswith(root.rstrip("/") + "/") for root in roots if root.startswith("gs://")):
        return True
    return Stores.of(service.corpus.db).videos.by_uri(uri) is not None


def create_app(
    settings: Settings | App | None = None,
    *,
    corpus: Corpus | None = None,
    client: GeminiClient | None = None,
    storage: Storage | None = None,
    token: str | None = None,
    model: str | None = None,
    mode: OutputMode = "two-stage",
    routers: Sequence[APIRouter] = (),
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    analyzer_factory: Callable[[str | None, OutputMode], Analyzer] | None = None,
    fetch_urls: bool = True,
    review: bool | ReviewSecurity = False,
    recheck_s: float = DEFAULT_RECHECK_S,
) -> FastAPI:
    """Build the FastAPI app (run it with uvicorn; `humortune serve` does).

    ``token`` defaults to ``settings.api_token``, else a random one (read it from ``app.state.service.token``).
    ``model``/``mode`` are the defaults for requests that do not name them. ``routers`` are mounted as given
    (the review UI). ``analyzer_factory(model, mode)`` replaces how analyzers are built (tests, custom set-ups).
    ``fetch_urls`` lets requests name TikTok URLs that were never ingested (they are downloaded and stored).
    ``settings`` may be an `humortune.App` whose corpus, client and storage the service uses; either way the
    service's App is closed on shutdown (``app.state.service.app``).
    ``review`` (``True`` or a `ReviewSecurity`) also mounts the review UI under ``/review`` (state in
    ``app.state.review``): its token then opens the ``/v1`` API too and its body limit applies to the whole app.
    ``recheck_s`` bounds how stale a served model or analysis may be when another process changes it
    (`humortune.service.memo`; ``0``: read the workspace on every request).
    """
    from humortune.app import App

    root = settings if isinstance(settings, App) else App(settings)
    settings = root.settings
    secret = token or (settings.api_token.get_secret_value() if settings.api_token else None)
    review_ctx = _review_context(root, review, token, secret, corpus=corpus, storage=storage)
    if review_ctx is not None:  # one secret and one body limit for the whole app
        secret, max_body_bytes = review_ctx.security.token, review_ctx.security.max_body_bytes
        corpus, storage = review_ctx.corpus, review_ctx.storage
    service = Service(
        settings=settings,
        corpus=corpus or root.corpus,
        token=secret or secrets.token_urlsafe(32),
        app=root,
        model=model,
        mode=mode,
        client=client,
        storage=storage,
        analyzer_factory=analyzer_factory,
        fetch_urls=fetch_urls,
        owns_client=client is not None,
        recheck_s=recheck_s,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    app = FastAPI(
        title="humortune",
        version=humortune.__version__,
        description="Analyse short-form video with the owner's tuned Gemini model. "
        "Every /v1 route needs `Authorization: Bearer <token>`.",
        lifespan=lifespan,
        docs_url=None,  # served from the package by add_swagger_ui: no CDN, works offline
        redoc_url=None,
    )
    add_swagger_ui(app)
    app.state.service = service
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HumortuneError, _humortune_error)  # type: ignore[arg-type]
    # Starlette's class: the router's own 400/404/405 raise it, and FastAPI's HTTPException subclasses it.
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)

    @app.get("/healthz", tags=["service"], response_model=Health, responses=error_responses())
    def healthz() -> Health:
        """Liveness and the model served: no token needed, no secrets in the answer."""
        served = service.served_model()
        return Health(
            version=humortune.__version__,
            offline=settings.offline,
            model=served.model_id,
            model_kind=served.kind,
            alias=served.alias,
        )

    _add_routes(app)
    for router in routers:
        app.include_router(router)
    if review_ctx is not None:
        from humortune.feedback.app import mount_review

        mount_review(app, review_ctx)
        service.memo.watch_promotions(review_ctx)
    return app


def _review_context(
    root: App,
    review: bool | ReviewSecurity,
    token: str | None,
    secret: str | None,
    *,
    corpus: Corpus | None,
    storage: Storage | None,
) -> ReviewContext | None:
    """The review UI's state when ``review`` asks for it. ``review=True`` guards it with the service's
    ``secret`` (the token given, else ``settings.api_token``); a `ReviewSecurity`'s own token wins over the
    settings' one, and an explicit ``token`` must match it."""
    if review is False:
        return None
    from humortune.feedback.app import review_context
    from humortune.feedback.security import ReviewSecurity

    if review is True:
        review = ReviewSecurity(token=secret) if secret else ReviewSecurity()
    elif token is not None and token != review.token:
        raise ValueError("create_app: give the token once, in the ReviewSecurity (it guards /v1 and /review)")
    return review_context(root.settings, corpus=corpus or root.corpus, storage=storage or root.storage, security=review)


# -- errors --------------------------------------------------------------------------------------------


def _error(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    headers = extra.pop("headers", None)
    body = ErrorBody(error=error, message=message, **extra)
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def status_for(exc: HumortuneError) -> int:
    """The HTTP status for a humortune error: whose fault it was, and whether retrying may help."""
    if exc.transient:
        return 503
    if isinstance(exc, ModelNotFoundError):
        return 404
    if isinstance(exc, SourceError):
        return 422
    if isinstance(exc, AnalysisError) and "not been ingested" in exc.message:
        return 422
    if isinstance(exc, AnalysisError):
        return 502  # the model (upstream) did not produce an analysis
    return 500


async def _humortune_error(request: Request, exc: HumortuneError) -> JSONResponse:
    status = status_for(exc)
    headers = None
    retry_after = getattr(exc, "retry_after", None)
    if status == 503:
        headers = {"Retry-After": str(int(retry_after) if isinstance(retry_after, int | float) else 30)}
    hint = exc.hint
    if isinstance(exc, AnalysisError) and "not been ingested" in exc.message:
        hint = _API_INGEST_HINT  # the analyzer's hint offers local files, which API callers cannot send
    return _error(
        status,
        type(exc).__name__,
        redact(exc.message),
        hint=redact(hint) if hint else None,
        item=redact(exc.item) if exc.item else None,
        headers=headers,
    )


_API_INGEST_HINT = "have it ingested on the server (humortune ingest), or send its gs:// URI or a stored video's sha256"


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Still an ErrorBody, as the schema promises; the traceback goes to the server log, not to the caller.
    return _error(500, "InternalError", "the server failed unexpectedly", hint="see the server's log")


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    fields: list[str] = []
    problems: list[str] = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":  # its loc is a byte offset into the body, not a field
            where = next((p for p in err.get("loc", ()) if isinstance(p, int)), None)
            at = f" at character {where}" if where is not None else ""
            name, message = "body", f"not valid JSON{at} ({err.get('ctx', {}).get('error', 'syntax error')})"
        else:
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
            name, message = ".".join(loc) or "body", str(err.get("msg", "invalid"))
        if name not in fields:
            fields.append(name)
        problems.append(f"{name}: {message}")
    return _error(422, "ValidationError", "invalid request: " + "; ".join(problems), fields=fields)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    names = {400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 405: "MethodNotAllowed", 413: "RequestTooLarge"}
    return _error(
        exc.status_code,
        names.get(exc.status_code, "HTTPError"),
        str(exc.detail),
        headers=dict(exc.headers) if exc.headers else None,
    )


# -- request size limit ---------------------------------------------------------------------------------

_Scope = MutableMapping[str, Any]
_Message = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[_Message]]
_Send = Callable[[_Message], Awaitable[None]]


class BodySizeLimit:
    """ASGI middleware: 413 for a body over ``max_bytes``, by Content-Length or while streaming (chunked)."""

    def __init__(self, app: Callable[[_Scope, _Receive, _Send], Awaitable[None]], max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._reject(scope, receive, send)
                return
        seen = 0
        started = rejected = False

        async def limited_receive() -> _Message:
            # Over the limit mid-stream: answer 413 now and tell the app the client went away (raising here
            # would be turned into a 400 by FastAPI's body parsing).
            nonlocal seen, started, rejected
            message = await receive()
            if message["type"] == "http.request" and not rejected:
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    rejected = True
                    if not started:
                        started = True
                        await self._reject(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: _Message) -> None:
            nonlocal started
            if rejected:
                return  # the 413 already went out
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:  # once our 413 is out, the app failing on the cut-off body is expected
            if not rejected:
                raise

    async def _reject(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        response = _error(
            413,
            "RequestTooLarge",
            f"the request body is over {self.max_bytes} bytes",
            hint="send the video's URI, not the video",
        )
        await response(scope, receive, send)
