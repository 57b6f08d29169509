"""`Analyzer`: a video in, the owner's kind of reading out (Swedish narrative + validated `HumorRecord`).

The prompt at inference is exactly the training prompt (same prompt version, same media resolution): the
behaviour lives in the tuned weights, so nothing is added to what the tuned model is asked. How the record
is obtained depends on the output mode:

* ``two-stage`` (default): the tuned model writes the narrative; a base model turns the narrative into a
  record with ``response_schema``, validated client-side. (Google documents structured output on tuned
  endpoints as degrading quality.)
* ``joint``: for models tuned on ``narrative+record`` targets; the narrative and a JSON block come in one
  answer. If the block is missing or invalid, the record is extracted as in two-stage mode, with a warning.
* ``narrative``: the narrative only.

Each step of an analysis is written once as a generator (`Analyzer._plan`) that yields the model calls it
needs; a sync and an async driver run it, so both paths share every rule.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

import humortune.catalog as catalog
from humortune._client_slot import ClientSlot
from humortune.analyzer.cache import AnalysisCache
from humortune.analyzer.cost import estimate_cost
from humortune.analyzer.output import (
    consistency_warnings,
    narrative_warnings,
    parse_joint,
    record_extraction_text,
    split_joint,
)
from humortune.analyzer.ratelimit import TokenBucket
from humortune.analyzer.request import GenerationRequest
from humortune.analyzer.resolve import ResolvedModel, prompt_for_version, resolve_model
from humortune.analyzer.video import VideoInput, VideoRef, describe_input, prepare_video
from humortune.errors import (
    AnalysisError,
    EmptyResponseError,
    HumortuneError,
    ModelNotFoundError,
    RecordParseError,
)
from humortune.prompts import Prompt
from humortune.schema import Analysis, HumorRecord, OutputMode, TokenUsage, TunedModel
from humortune.settings import Settings
from humortune.storage.base import Storage
from humortune.workspace.corpus import Corpus

if TYPE_CHECKING:  # pragma: no cover - google.genai loads only when a client is built
    from humortune.analyzer.batch import BatchRun
    from humortune.app import App
    from humortune.gemini import GeminiClient, Generation
    from humortune.sources.base import Downloader

__all__ = ["AnalysisResult", "Analyzer", "ProgressCallback"]

log = logging.getLogger(__name__)

_MODES: tuple[OutputMode, ...] = ("two-stage", "joint", "narrative")
_Plan = Generator[GenerationRequest, "Generation", Analysis]


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """One item of `Analyzer.analyze_many`: the analysis, or the error that stopped this one clip."""

    index: int
    """Position of the video in the input."""
    video: str
    """The input as given (path, URI or URL)."""
    analysis: Analysis | None = None
    error: HumortuneError | None = None

    @property
    def ok(self) -> bool:
        """Whether the clip was analysed."""
        return self.analysis is not None


ProgressCallback = Callable[[AnalysisResult], None]
"""Called once per finished item (in completion order), e.g. to advance a progress bar."""


@dataclass(slots=True)
class _Stage:
    model: str
    base_model: str | None
    tuned: bool
    answer: Generation
    batch: bool = False


class Analyzer:
    """Analyse clips with a tuned (or base) model; results are cached in the corpus.

    ```python
    with Analyzer("current") as analyzer:                  # the promoted model
        analysis = analyzer.analyze("gs://bucket/training/videos/abc.mp4")
        print(analysis.narrative, analysis.record.mechanism)
        for result in analyzer.analyze_many(paths, concurrency=16, max_rps=5):
            print(result.video, result.analysis or result.error)
    ```

    ``model`` is an alias (``"current"``), a registered model id or endpoint, a `TunedModel`, an endpoint
    resource name, or a base model name; ``None`` means ``"current"`` when promoted, else
    ``settings.base_model``. ``prompt`` overrides the recorded training prompt (it must be the same
    version when the model's is known). ``record_model`` is the base model of the two-stage mode
    (default ``settings.base_model``); ``record_with_video`` also sends it the clip. ``downloader``
    (the ingest layer's) fetches http(s)/TikTok URLs that were never ingested.
    """

    def __init__(
        self,
        model: str | TunedModel | None = None,
        *,
        client: GeminiClient | None = None,
        settings: Settings | None = None,
        corpus: Corpus | None = None,
        storage: Storage | None = None,
        mode: OutputMode = "two-stage",
        prompt: Prompt | None = None,
        record_model: str | None = None,
        record_with_video: bool = False,
        max_output_tokens: int | None = None,
        max_rps: float | None = None,
        downloader: Downloader | None = None,
        fetch_urls: bool = True,
    ) -> None:
        if mode not in _MODES:
            raise AnalysisError(f"unknown mode {mode!r}", hint=f"use one of {', '.join(_MODES)}")
        self.settings = settings or (client.settings if client is not None else Settings())
        self._client = ClientSlot.for_settings(client, self.settings)
        self._storage = storage
        self._lock = threading.Lock()
        self._owns_corpus = corpus is None
        self.corpus = corpus or Corpus.open(settings=self.settings)
        self.cache = AnalysisCache(self.corpus.db)
        """The corpus's analyses table."""
        self.mode: OutputMode = mode
        self.notes: list[str] = []
        """Remarks about the set-up (default model chosen, mode vs training target), shown by the CLI."""
        try:
            self.model: ResolvedModel = self._resolve(model)
            self.prompt: Prompt = self._training_prompt(prompt)
        except BaseException:
            self.close()
            raise
        self.media_resolution: str = self.model.media_resolution or self.settings.media_resolution
        """The media resolution sent with every request: the one the model was tuned with."""
        self.record_model = (record_model or self.settings.base_model).removeprefix("publishers/google/models/")
        self.record_with_video = record_with_video
        self.max_output_tokens = max_output_tokens
        self.limiter = TokenBucket(max_rps) if max_rps else None
        """Rate limit applied to every model call of this analyzer (``None``: unlimited)."""
        self._downloader = downloader
        self.fetch_urls = fetch_urls
        """Whether URLs that were never ingested are downloaded (with the ingest layer's yt-dlp downloader)."""
        if mode == "joint" and self.model.target_format == "narrative":
            self.notes.append(
                "joint mode on a model tuned with narrative-only targets: records will come from two-stage extraction"
            )

    @classmethod
    def from_app(cls, app: App, model: str | TunedModel | None = None, **options: Any) -> Analyzer:
        """An analyzer on the App's settings, corpus and storage; its client is the App's, built on first use."""
        analyzer = cls(model, settings=app.settings, corpus=app.corpus, storage=app.storage, **options)
        analyzer._client = ClientSlot.borrowed(lambda: app.gemini)
        return analyzer

    # -- set-up ---------------------------------------------------------------------------------------

    def _resolve(self, model: str | TunedModel | None) -> ResolvedModel:
        if model is not None:
            return self._noted(resolve_model(model, db=self.corpus.db))
        try:
            return self._noted(resolve_model("current", db=self.corpus.db))
        except ModelNotFoundError:
            self.notes.append(f"no model is promoted as 'current'; using the base model {self.settings.base_model}")
            return resolve_model(self.settings.base_model, db=self.corpus.db)

    def _noted(self, resolved: ResolvedModel) -> ResolvedModel:
        if resolved.note:
            self.notes.append(resolved.note)
        return resolved

    def _training_prompt(self, prompt: Prompt | None) -> Prompt:
        recorded = self.model.prompt_version
        if prompt is None:
            return prompt_for_version(recorded, db=self.corpus.db)
        if recorded is not None and prompt.version != recorded:
            raise AnalysisError(
                f"the prompt given has version {prompt.version} but the model was tuned with {recorded}",
                hint="inference must use exactly the training prompt; omit prompt= to use the recorded one",
                item=self.model.model_id,
            )
        return prompt

    @property
    def client(self) -> GeminiClient:
        """The Gemini client (built from the settings on first use; offline settings give FakeGemini)."""
        return self._client.get()

    @property
    def downloader(self) -> Downloader:
        """The downloader for URLs never ingested (default: the ingest layer's `YtDlpDownloader`)."""
        with self._lock:
            if self._downloader is None:
                from humortune.sources.ytdlp import YtDlpDownloader

                self._downloader = YtDlpDownloader(self.settings)
            return self._downloader

    @property
    def storage(self) -> Storage:
        """Where local files are stored before analysis (the workspace's storage by default)."""
        with self._lock:
            if self._storage is None:
                from humortune.storage import open_storage

                self._storage = open_storage(self.settings.storage_uri)
            return self._storage

    def close(self) -> None:
        """Release what the analyzer opened itself (the corpus, the client)."""
        self._client.close()
        if self._owns_corpus:
            self.corpus.close()

    def __enter__(self) -> Analyzer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- one clip -------------------------------------------------------------------------------------

    def prepare(self, video: VideoInput) -> VideoRef:
        """Resolve an input to the URI the model reads (storing and probing local files first)."""
        return prepare_video(
            video,
            corpus=self.corpus,
            storage=self.storage,
            max_video_mb=self.settings.max_video_mb,
            downloader=(lambda: self.downloader) if self.fetch_urls else None,
        )

    def cached(self, ref: VideoRef) -> Analysis | None:
        """The cached analysis of this video by this model, prompt version and mode, if any."""
        return self.cache.get(
            video_sha256=ref.sha256,
            video_uri=ref.uri,
            model=self.model.model_id,
            prompt_version=self.prompt.version,
            mode=self.mode,
        )

    def analyze(self, video: VideoInput, *, refresh: bool = False) -> Analysis:
        """Analyse one clip (from the cache unless ``refresh``). Raises the `HumortuneError` that stopped it."""
        ref = self.prepare(video)
        if not refresh and (hit := self.cached(ref)) is not None:
            return hit
        self._check_readable(ref)
        return self.cache.put(self._drive(self._plan(ref), self.limiter))

    async def aanalyze(self, video: VideoInput, *, refresh: bool = False) -> Analysis:
        """Async `analyze`: model calls run on the event loop, file work in a thread."""
        ref = await asyncio.to_thread(self.prepare, video)
        if not refresh and (hit := self.cached(ref)) is not None:
            return hit
        self._check_readable(ref)
        analysis = await self._adrive(self._plan(ref), self.limiter)
        return await asyncio.to_thread(self.cache.put, analysis)

    def _check_readable(self, ref: VideoRef) -> None:
        if ref.uri.startswith("file://") and not getattr(self.client, "offline", False):
            raise AnalysisError(
                "Vertex AI cannot read local files",
                hint="set storage to Cloud Storage (HUMORTUNE_STORAGE=gs://bucket/prefix) so clips are uploaded "
                "first, or use --offline",
                item=ref.uri,
            )

    # -- the steps of one analysis, shared by the sync and async drivers --------------------------------

    def build(self, ref: VideoRef, *, narrative: str | None = None) -> GenerationRequest:
        """The request of one stage for a prepared clip, built without I/O: the narrative call, or with
        ``narrative`` the record-extraction call of the two-stage mode. `GeminiClient.generate` sends it as is."""
        return self._narrative_request(ref) if narrative is None else self._record_request(ref, narrative)

    def _narrative_request(self, ref: VideoRef) -> GenerationRequest:
        budget, level = _thinking_of(self.model.base_model or self.model.call_name)
        return GenerationRequest(
            model=self.model.call_name,
            prompt=self.prompt.text,
            mode=self.mode,
            stage="narrative",
            system_instruction=self.prompt.system_instruction,
            video_uri=ref.uri,
            mime_type=ref.mime_type,
            media_resolution=self.media_resolution,
            temperature=0.0,
            max_output_tokens=self.max_output_tokens,
            thinking_budget=budget,
            thinking_level=level,
        )

    def _record_request(self, ref: VideoRef, narrative: str) -> GenerationRequest:
        budget, level = _thinking_of(self.record_model)
        video = self.record_with_video
        return GenerationRequest(
            model=self.record_model,
            prompt=record_extraction_text(narrative),
            mode=self.mode,
            stage="record",
            response_schema=HumorRecord,
            temperature=0.0,
            thinking_budget=budget,
            thinking_level=level,
            video_uri=ref.uri if video else None,
            mime_type=ref.mime_type if video else "video/mp4",
            media_resolution=self.media_resolution if video else None,
        )

    def _plan(self, ref: VideoRef, *, first: Generation | None = None, batch: bool = False) -> _Plan:
        """The steps of one analysis. ``first`` is the narrative answer when it came from a batch job."""
        warnings: list[str] = []
        tuned = self.model.kind == "tuned"
        if first is None:
            first = yield self._narrative_request(ref)
        stages = [_Stage(self.model.model_id, self.model.base_model, tuned, first, batch)]
        record: HumorRecord | None = None
        if self.mode == "joint":
            try:
                narrative, record = parse_joint(first.text)
            except RecordParseError as exc:
                narrative = split_joint(first.text)[0]
                if narrative:
                    warnings.append(f"joint mode: {exc}; fell back to two-stage record extraction")
                    record = yield from self._record_stage(ref, narrative, warnings, stages)
        else:
            narrative = split_joint(first.text)[0]
            if self.mode == "two-stage" and narrative:
                record = yield from self._record_stage(ref, narrative, warnings, stages)
        if not narrative:
            raise EmptyResponseError(
                "the model's answer holds no narrative", hint="check the model and the clip", item=ref.uri
            )
        warnings += narrative_warnings(narrative, expect_opening=tuned)
        if record is not None:
            warnings += [f"record: {p}" for p in record.soft_problems()]
            warnings += consistency_warnings(narrative, record)
        return self._analysis(ref, narrative, record, stages, warnings)

    def _record_stage(
        self, ref: VideoRef, narrative: str, warnings: list[str], stages: list[_Stage]
    ) -> Generator[GenerationRequest, Generation, HumorRecord | None]:
        try:
            answer: Generation = yield self._record_request(ref, narrative)
        except AnalysisError as exc:
            if exc.transient:  # nothing is cached: a rerun retries the whole clip
                raise
            warnings.append(f"record extraction failed: {type(exc).__name__}: {exc}")
            return None
        stages.append(_Stage(self.record_model, self.record_model, False, answer))
        try:
            return HumorRecord.parse(answer.text)
        except RecordParseError as exc:
            warnings.append(f"record rejected: {exc}")
            return None

    def _analysis(
        self,
        ref: VideoRef,
        narrative: str,
        record: HumorRecord | None,
        stages: list[_Stage],
        warnings: list[str],
    ) -> Analysis:
        overrides = self.settings.inference_price_per_mtok
        costs = [
            estimate_cost(s.answer.usage, s.base_model, tuned=s.tuned, batch=s.batch, overrides=overrides)
            for s in stages
        ]
        usage = TokenUsage(
            prompt_tokens=sum(s.answer.usage.prompt_tokens for s in stages),
            output_tokens=sum(s.answer.usage.output_tokens for s in stages),
            total_tokens=sum(s.answer.usage.total_tokens for s in stages),
        )
        return Analysis(
            video_sha256=ref.sha256,
            video_uri=ref.uri,
            narrative=narrative,
            record=record,
            model=self.model.model_id,
            record_model=self.record_model if len(stages) > 1 else None,
            prompt_version=self.prompt.version,
            mode=self.mode,
            usage=usage,
            latency_s=round(sum(s.answer.latency_s for s in stages), 4),
            cost_usd=None if any(c is None for c in costs) else round(sum(c or 0.0 for c in costs), 8),
            warnings=list(dict.fromkeys(warnings)),
        )

    def _drive(self, plan: _Plan, limiter: TokenBucket | None) -> Analysis:
        client = self.client
        try:
            request = next(plan)
            while True:
                if limiter is not None:
                    limiter.acquire()
                try:
                    answer = client.generate(request)
                except HumortuneError as exc:
                    request = plan.throw(exc)
                else:
                    request = plan.send(answer)
        except StopIteration as done:
            result: Analysis = done.value
            return result

    async def _adrive(self, plan: _Plan, limiter: TokenBucket | None) -> Analysis:
        client = self.client
        try:
            request = next(plan)
            while True:
                if limiter is not None:
                    await limiter.acquire_async()
                try:
                    answer = await client.agenerate(request)
                except HumortuneError as exc:
                    request = plan.throw(exc)
                else:
                    request = plan.send(answer)
        except StopIteration as done:
            result: Analysis = done.value
            return result

    # -- many clips -----------------------------------------------------------------------------------

    def _one(self, index: int, video: VideoInput, refresh: bool, limiter: TokenBucket | None) -> AnalysisResult:
        label = describe_input(video)
        try:
            ref = self.prepare(video)
            hit = None if refresh else self.cached(ref)
            if hit is None:
                self._check_readable(ref)
                hit = self.cache.put(self._drive(self._plan(ref), limiter))
            return AnalysisResult(index, label, hit)
        except Exception as exc:  # one failing clip never stops the batch
            return AnalysisResult(index, label, error=_as_humortune(exc, label))

    async def _aone(self, index: int, video: VideoInput, refresh: bool, limiter: TokenBucket | None) -> AnalysisResult:
        label = describe_input(video)
        try:
            ref = await asyncio.to_thread(self.prepare, video)
            hit = None if refresh else self.cached(ref)
            if hit is None:
                self._check_readable(ref)
                analysis = await self._adrive(self._plan(ref), limiter)
                hit = await asyncio.to_thread(self.cache.put, analysis)
            return AnalysisResult(index, label, hit)
        except Exception as exc:  # one failing clip never stops the batch
            return AnalysisResult(index, label, error=_as_humortune(exc, label))

    def analyze_many(
        self,
        videos: Iterable[VideoInput],
        *,
        concurrency: int = 8,
        max_rps: float | None = None,
        refresh: bool = False,
        progress: ProgressCallback | None = None,
    ) -> Iterator[AnalysisResult]:
        """Analyse many clips on ``concurrency`` threads, yielding each result as it finishes.

        A failing clip yields an `AnalysisResult` with its ``error`` and the others carry on. ``max_rps``
        caps model calls per second across all threads (a token bucket; default: the analyzer's own
        limit). Cached clips cost nothing and do not count against the rate. Inputs are consumed lazily,
        so a generator of thousands of paths is fine.
        """
        limiter = TokenBucket(max_rps) if max_rps else self.limiter
        window = max(1, concurrency) * 2
        items = iter(enumerate(videos))
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="humortune-analyze") as pool:
            pending: set[Future[AnalysisResult]] = set()
            try:
                while True:
                    for index, video in items:
                        pending.add(pool.submit(self._one, index, video, refresh, limiter))
                        if len(pending) >= window:
                            break
                    if not pending:
                        return
                    done, pending = wait_futures(pending, return_when=FIRST_COMPLETED)
                    for future in sorted(done, key=lambda f: f.result().index):
                        result = future.result()
                        if progress is not None:
                            progress(result)
                        yield result
            finally:
                for future in pending:
                    future.cancel()

    async def aanalyze_many(
        self,
        videos: Iterable[VideoInput],
        *,
        concurrency: int = 8,
        max_rps: float | None = None,
        refresh: bool = False,
        progress: ProgressCallback | None = None,
    ) -> AsyncIterator[AnalysisResult]:
        """Async `analyze_many`: up to ``concurrency`` clips in flight on the event loop."""
        limiter = TokenBucket(max_rps) if max_rps else self.limiter
        items = iter(enumerate(videos))
        pending: set[asyncio.Task[AnalysisResult]] = set()
        try:
            while True:
                for index, video in items:
                    pending.add(asyncio.ensure_future(self._aone(index, video, refresh, limiter)))
                    if len(pending) >= max(1, concurrency):
                        break
                if not pending:
                    return
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=lambda t: t.result().index):
                    result = task.result()
                    if progress is not None:
                        progress(result)
                    yield result
        finally:
            for task in pending:
                task.cancel()

    # -- Vertex batch prediction ---------------------------------------------------------------------

    def batch(self, videos: Iterable[VideoInput], *, display_name: str | None = None, wait: bool = False) -> BatchRun:
        """Submit the clips as one Vertex AI batch prediction job (half price; see `humortune.analyzer.batch`).

        Returns a `BatchRun` to poll (`BatchRun.refresh`), wait for and `BatchRun.collect` into analyses.
        """
        from humortune.analyzer.batch import submit_batch

        run = submit_batch(self, videos, display_name=display_name)
        if wait:
            run.wait()
        return run


def lowest_thinking(model: str) -> dict[str, int | str | None]:
    """The lowest thinking setting the catalog says ``model`` (or its base) accepts, as request keys.

    Google's tuning docs: tuned models learn to answer without thinking, so turn it off or to its lowest —
    ``thinking_budget`` on Gemini 2.5 (0, or 128 on 2.5 Pro), ``thinking_level`` on 3.x. Unknown models get
    neither (the service default).
    """
    entry = catalog.find(model)
    if entry is None or entry.lowest_thinking is None:
        return {"thinking_budget": None, "thinking_level": None}
    if entry.thinking == "level":
        return {"thinking_budget": None, "thinking_level": str(entry.lowest_thinking)}
    return {"thinking_budget": int(entry.lowest_thinking), "thinking_level": None}


def _thinking_of(model: str) -> tuple[int | None, str | None]:
    thinking = lowest_thinking(model)
    budget, level = thinking["thinking_budget"], thinking["thinking_level"]
    return (int(budget) if budget is not None else None), (str(level) if level is not None else None)


def _as_humortune(exc: Exception, item: str) -> HumortuneError:
    if isinstance(exc, HumortuneError):
        return exc
    log.exception("unexpected error analysing %s", item)
    return AnalysisError(
        f"unexpected error: {type(exc).__name__}: {exc}", hint="this is a bug; please report it", item=item
    )
