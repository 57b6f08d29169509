"""`TuningJob`: a handle on one Vertex tuning job — refresh, wait with progress, cancel, resume by name.

A handle can be rebuilt in another process from the job's name (`TuningJob.from_name`): everything needed to
register the model (dataset, prompt version, estimate) was stored with the job when it was submitted.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from humortune._gemini_results import TuningJobInfo
from humortune.errors import HumortuneError, TuningError, TuningJobFailedError
from humortune.schema import TunedModel
from humortune.settings import Settings
from humortune.tuner.registry import ModelRegistry

if TYPE_CHECKING:  # pragma: no cover
    from humortune.gemini import GeminiClient
    from humortune.workspace import Corpus

__all__ = ["JobProgress", "TuningJob", "failure_hint", "reconcile"]

log = logging.getLogger(__name__)
_MAX_POLL_FAILURES = 10  # consecutive transient failures (each already retried) before wait() gives up


@dataclass(frozen=True, slots=True)
class JobProgress:
    """One progress event of `TuningJob.wait`: the status line after a poll (``ended`` on the last one)."""

    name: str
    state: str | None
    elapsed_s: float
    text: str
    ended: bool = False


class _Printer(Protocol):
    def print(self, *objects: Any) -> Any: ...


class _LineProgress:
    """The library's own progress: one plain line per state change, and the final status line."""

    def __init__(self, console: _Printer | None) -> None:
        self._console, self._state = console, ""

    def __call__(self, event: JobProgress) -> None:
        if event.ended or (event.state or "") != self._state:
            self._state = event.state or ""
            _say(self._console, event.text)


def _say(console: _Printer | None, text: str) -> None:
    if console is not None:
        console.print(text)
    else:
        print(text, file=sys.stderr, flush=True)


def failure_hint(message: str | None) -> str:
    """What to do about a failed job, from Vertex's error text."""
    low = (message or "").lower()
    if "dataset" in low or "jsonl" in low or "example" in low:
        return (
            "fix the dataset rows named above (`humortune validate` shows Vertex's rules), rebuild with "
            "`humortune build`, and submit again; examples Vertex dropped are not billed"
        )
    if "permission" in low or "denied" in low or "service agent" in low:
        return (
            "let the Vertex AI Service Agent read the dataset bucket (roles/storage.objectViewer); with a custom "
            "service account, check its roles (`humortune doctor`); see docs/tuning.md"
        )
    if "quota" in low or "resource exhausted" in low:
        return "ask for more 'Global concurrent tuning jobs' quota, or wait for running jobs to finish"
    return "open the job in the Google Cloud console (Vertex AI → Tuning) for details, then submit again"


def reconcile(context: dict[str, Any], info: TuningJobInfo) -> dict[str, Any]:
    """Compare the dataset's token estimate with the job's billable token count."""
    estimate = context.get("estimate") or {}
    billable = info.billable_tokens
    if not estimate or billable is None:
        return {"billable_tokens": billable}
    epochs = info.hyperparameters.get("epochs") or estimate.get("epochs") or 1
    price = float(estimate.get("price_per_mtok_usd") or 0.0)
    low, high = int(estimate.get("tokens_per_epoch_low") or 0), int(estimate.get("tokens_per_epoch_high") or 0)
    return {
        "billable_tokens": billable,
        "estimated_tokens_low": low,
        "estimated_tokens_high": high,
        "ratio_to_low": round(billable / low, 3) if low else None,
        "ratio_to_high": round(billable / high, 3) if high else None,
        "epochs": epochs,
        "estimated_usd_high": estimate.get("usd_high"),
        "billed_usd": round(billable * epochs / 1e6 * price, 4),
    }


class TuningJob:
    """One tuning job. Get one from `Tuner.submit`, `Tuner.jobs` or `TuningJob.from_name`."""

    def __init__(
        self,
        name: str,
        *,
        client: GeminiClient,
        corpus: Corpus | None = None,
        info: TuningJobInfo | None = None,
        context: dict[str, Any] | None = None,
        reused: bool = False,
    ) -> None:
        self.name = name
        """Full resource name ``projects/…/locations/…/tuningJobs/…``."""
        self.client = client
        self.corpus = corpus
        self.info = info
        """The last snapshot seen (``None`` until the first refresh)."""
        self.context = context or {}
        """What was submitted: dataset, prompt version, hyperparameters, estimate."""
        self.reused = reused
        """Whether `Tuner.submit` returned an existing job instead of creating one (duplicate protection)."""
        self._registry = ModelRegistry(corpus) if corpus is not None else None

    def __repr__(self) -> str:
        return f"TuningJob({self.name!r}, state={self.state!r})"

    @classmethod
    def from_name(
        cls,
        name: str,
        *,
        settings: Settings | None = None,
        corpus: Corpus | None = None,
        client: GeminiClient | None = None,
    ) -> TuningJob:
        """Resume watching a job, e.g. from another process (full name, or the id if the corpus knows it)."""
        settings = settings or (client.settings if client else Settings())
        if client is None:
            from humortune.app import default_client

            client = default_client(settings)
        context: dict[str, Any] = {}
        info = None
        if corpus is not None:
            row = ModelRegistry(corpus).job(name)
            if row is not None:
                name, context, info = row.name, dict(row.hyperparams), row.info
        if "/" not in name:
            name = f"projects/{client.project}/locations/{client.location}/tuningJobs/{name}"
        return cls(name, client=client, corpus=corpus, info=info, context=context)

    @property
    def state(self) -> str | None:
        """``PENDING``, ``RUNNING``, ``SUCCEEDED``, ``FAILED``, ``CANCELLED`` … (``None`` before a refresh)."""
        return self.info.short_state if self.info else None

    @property
    def model(self) -> TunedModel | None:
        """The registered model once the job succeeded (needs a corpus)."""
        if self._registry is None or self.info is None or not self.info.tuned_model:
            return None
        return self._registry.model(self.info.tuned_model)

    def refresh(self) -> TuningJobInfo:
        """Fetch the job's state; on success register the model with its lineage (idempotent)."""
        info = self.client.get_tuning_job(self.name)
        self.info = info
        if self._registry is not None:
            if self._registry.job(info.name) is None:
                self._registry.record_job(
                    info,
                    dataset_id=self.context.get("dataset_id"),
                    base_model=info.base_model or str(self.context.get("base_model") or ""),
                    request_hash=str(self.context.get("request_hash") or f"adopted:{info.name}"),
                    hyperparams=self.context or {"adopted": True},
                    display_name=info.display_name,
                )
            else:
                self._registry.update_job(info)
            if info.succeeded:
                self._register(info)
        return info

    def _register(self, info: TuningJobInfo) -> TunedModel:
        assert self._registry is not None and info.tuned_model
        ctx = self.context
        stats = {
            **info.stats,
            "hyperparameters": info.hyperparameters,
            "reconciliation": reconcile(ctx, info),
            "train_uri": info.train_uri,
            "validation_uri": info.validation_uri,
            "offline": bool(ctx.get("offline", self.client.offline)),
        }
        if ctx.get("parent_model"):
            stats["parent_model"] = ctx["parent_model"]
            stats["parent_checkpoint"] = ctx.get("checkpoint_id")
        model = TunedModel(
            id=info.tuned_model,
            endpoint=info.endpoint,
            job_name=info.name,
            base_model=str(ctx.get("family") or info.base_model or ctx.get("base_model") or ""),
            dataset_id=ctx.get("dataset_id"),
            prompt_version=ctx.get("prompt_version"),
            media_resolution=ctx.get("media_resolution"),
            niche=ctx.get("niche"),
            checkpoints=info.checkpoints,
            stats=stats,
        )
        return self._registry.register(model)

    def wait(
        self,
        *,
        progress: bool = True,
        poll_s: float | None = None,
        max_poll_s: float | None = None,
        timeout_s: float | None = None,
        console: _Printer | None = None,
        on_progress: Callable[[JobProgress], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> TunedModel:
        """Poll until the job ends; return the registered `TunedModel`.

        Polls every ``poll_s`` seconds, backing off ×1.5 up to ``max_poll_s`` (defaults: 15 s → 2 min; a
        fraction of a second offline). Transient errors while polling (503s, resets) are retried and then
        waited out. Ctrl-C stops *waiting* — the job keeps running; resume with ``humortune jobs wait NAME``.
        Raises `TuningJobFailedError` with Vertex's message verbatim if the job fails or is cancelled.

        Progress goes to ``on_progress`` (a `JobProgress` after every poll; the CLI draws a spinner from them),
        else, with ``progress``, as plain lines on ``console`` (anything with ``print``) or stderr.
        """
        offline = self.client.offline
        interval = poll_s if poll_s is not None else (0.05 if offline else 15.0)
        ceiling = max_poll_s if max_poll_s is not None else (0.5 if offline else 120.0)
        report = on_progress or (_LineProgress(console) if progress else None)
        started = time.monotonic()
        failures = 0
        try:
            if on_progress is not None:
                on_progress(self._progress(0.0))  # the spinner shows before the first poll answers
            while True:
                try:
                    info = self.refresh()
                    failures = 0
                except HumortuneError as exc:
                    failures += 1
                    if not exc.transient or failures >= _MAX_POLL_FAILURES:
                        raise
                    log.warning("polling %s failed (%s); still waiting", self.name, exc)
                    info = None
                elapsed = time.monotonic() - started
                if info is not None and info.has_ended:
                    break
                if report is not None:
                    report(self._progress(elapsed))
                if timeout_s is not None and elapsed >= timeout_s:
                    raise TuningError(
                        f"still {self.state or 'unknown'} after {elapsed:.0f} s; the job keeps running",
                        hint=f"resume with `humortune jobs wait {self.name}`",
                        item=self.name,
                    )
                sleep(interval)
                interval = min(interval * 1.5, ceiling)
        except KeyboardInterrupt:
            _say(
                console,
                f"Stopped waiting. The job keeps running on Vertex AI (not cancelled).\n"
                f"Resume with: humortune jobs wait {self.name}",
            )
            raise
        if report is not None:
            report(self._progress(time.monotonic() - started, ended=True))
        return self.result()

    def result(self) -> TunedModel:
        """The model of a finished job, or `TuningJobFailedError` (needs a refresh that saw the end)."""
        info = self.info
        if info is None or not info.has_ended:
            raise TuningError(
                f"the job has not ended yet ({self.state or 'unknown'})",
                hint="call wait() or refresh() first",
                item=self.name,
            )
        if info.succeeded:
            model = self.model
            if model is not None:
                return model
            return TunedModel(
                id=str(info.tuned_model),
                endpoint=info.endpoint,
                job_name=info.name,
                base_model=info.base_model or "",
                checkpoints=info.checkpoints,
                stats=info.stats,
            )
        what = "was cancelled" if info.state == "JOB_STATE_CANCELLED" else f"ended {info.short_state}"
        detail = f": {info.error_message}" if info.error_message else ""
        raise TuningJobFailedError(
            f"tuning job {what}{detail}",
            hint="submit again when ready (force=True / --force)"
            if info.state == "JOB_STATE_CANCELLED"
            else failure_hint(info.error_message),
            item=self.name,
            state=info.state,
            code=info.error_code,
            vertex_message=info.error_message,
        )

    def cancel(self) -> TuningJobInfo:
        """Ask Vertex to cancel the job (best effort), then refresh."""
        self.client.cancel_tuning_job(self.name)
        return self.refresh()

    def _progress(self, elapsed: float, *, ended: bool = False) -> JobProgress:
        return JobProgress(self.name, self.state, elapsed, self._status_text(elapsed), ended)

    def _status_text(self, elapsed: float) -> str:
        info = self.info
        minutes, seconds = divmod(int(elapsed), 60)
        parts = [self.name.rsplit("/", 1)[-1], info.short_state if info else "…", f"{minutes:d}:{seconds:02d} waited"]
        if info and info.stats.get("tuning_dataset_example_count") is not None:
            parts.append(f"{info.stats['tuning_dataset_example_count']} examples")
        if info and info.billable_tokens is not None:
            parts.append(f"{info.billable_tokens:,} billable tokens/epoch")
        if self.client.offline:
            parts.append("(offline FakeGemini)")
        return "  ".join(parts)
