"""`Tuner`: submit a dataset version to Vertex AI supervised tuning, safely.

Safety, in order: the dataset must be valid and in Cloud Storage; hyperparameters must be allowed for the base
model; the cost estimate is shown and, above ``confirm_cost_above_usd``, confirmed; the same request (dataset,
base model, hyperparameters, project, region) returns the existing job instead of paying twice — checked in
the corpus and, for crash safety, among the project's jobs by label; creating a job is never retried.

```python
job = Tuner(base_model="gemini-3.5-flash", epochs=4, adapter_size=8).submit(dataset, yes=True)
model = job.wait(progress=True)
```
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import humortune.catalog as catalog
from humortune.errors import CostLimitError, DatasetError, HumortuneError, TuningError
from humortune.schema import DatasetVersion
from humortune.settings import Settings
from humortune.tuner.catalog import Hyperparameters, is_tuned_model, validate_hyperparameters, validate_labels
from humortune.tuner.jobs import TuningJob
from humortune.tuner.registry import ModelRegistry
from humortune.tuner.request import TuningRequest

if TYPE_CHECKING:  # pragma: no cover
    from humortune._gemini_results import TuningJobInfo
    from humortune.app import App
    from humortune.gemini import GeminiClient
    from humortune.tuner.sweep import Sweep
    from humortune.workspace import Corpus

__all__ = ["REQUEST_LABEL", "Tuner"]

log = logging.getLogger(__name__)
REQUEST_LABEL = "humortune-request"
"""Label carrying the request hash on every job, so a lost create response is found again."""
_DEAD = {"JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"}
Confirm = Callable[[str], bool]


def _label_value(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "-", text.lower())[:63]


class Tuner:
    """Submits tuning jobs for one base model and one set of hyperparameters.

    Args:
        base_model: a tunable Gemini id (default ``settings.base_model``), or a tuned model
            ``projects/…/models/…@1`` to continue tuning it.
        epochs: 3–5; ``None`` lets Vertex choose (recommended for a first run).
        learning_rate_multiplier: 0.5–2.0; ``None`` lets Vertex choose (1.0).
        adapter_size: 4, 8 or 16 (gemini-2.5-pro: 4 or 8); ``None`` lets Vertex choose.
        display_name: the tuned model's name in Vertex (default: dataset id + request hash).
        labels: extra job labels (lowercase letters, digits, ``_``, ``-``).
        checkpoint_id: with a tuned ``base_model``, the checkpoint to continue from (default: its last).
        client: a `humortune.gemini.GeminiClient`; default built from settings (``offline`` → FakeGemini).
        corpus: where jobs and models are recorded; default the settings' workspace.
        settings: default: the client's settings, else `Settings()`.
        export_last_checkpoint_only: ``True`` keeps only the final checkpoint (default: one per epoch).
        description: the job's description in Vertex.
        allow_retiring: tune on a base retiring within 30 days (default ``settings.allow_retiring``);
            recorded as a job label and in the lineage. A retired base is always refused.
        today: the day lifecycle checks use (default: today; tests pass one).
    """

    def __init__(
        self,
        base_model: str | None = None,
        *,
        epochs: int | None = None,
        learning_rate_multiplier: float | None = None,
        adapter_size: int | None = None,
        display_name: str | None = None,
        labels: Mapping[str, str] | None = None,
        client: GeminiClient | None = None,
        corpus: Corpus | None = None,
        settings: Settings | None = None,
        checkpoint_id: str | None = None,
        export_last_checkpoint_only: bool | None = None,
        description: str | None = None,
        allow_retiring: bool | None = None,
        today: datetime.date | None = None,
    ) -> None:
        self.settings = settings or (client.settings if client is not None else Settings())
        self.allow_retiring = self.settings.allow_retiring if allow_retiring is None else allow_retiring
        self.today = today
        self._client = client
        self._corpus = corpus
        self._own_corpus = corpus is None
        self.hyperparameters = Hyperparameters(epochs, learning_rate_multiplier, adapter_size)
        self.display_name = display_name
        self.labels = dict(labels or {})
        self.checkpoint_id = checkpoint_id
        self.export_last_checkpoint_only = export_last_checkpoint_only
        self.description = description
        self.parent_model: str | None = None
        requested = base_model or self.settings.base_model
        self.family = requested
        if is_tuned_model(requested) or requested.startswith("projects/"):
            parent = self.registry.model(requested)
            if parent is None and not is_tuned_model(requested):
                raise TuningError(f"no registered model {requested!r}", hint="see `humortune models list`")
            self.parent_model = parent.id if parent else requested
            self.family = parent.base_model if parent else requested
            requested = self.parent_model
        self.base_model = requested
        family = None if is_tuned_model(self.family) else self.family
        validate_hyperparameters(self.base_model, self.hyperparameters, location=self.settings.location, family=family)
        validate_labels(self.labels, display_name)

    @classmethod
    def from_app(cls, app: App, base_model: str | None = None, **options: Any) -> Tuner:
        """A tuner on the App's settings, corpus and Gemini client (``options`` as the constructor's)."""
        return cls(base_model, client=app.gemini, corpus=app.corpus, settings=app.settings, **options)

    # -- collaborators ---------------------------------------------------------------------------------

    @property
    def client(self) -> GeminiClient:
        """The Gemini client (built on first use)."""
        if self._client is None:
            from humortune.app import default_client

            self._client = default_client(self.settings)
        return self._client

    @property
    def corpus(self) -> Corpus:
        """The corpus jobs and models are recorded in (opened on first use)."""
        if self._corpus is None:
            from humortune.workspace import Corpus

            self._corpus = Corpus.open(settings=self.settings)
        return self._corpus

    @property
    def registry(self) -> ModelRegistry:
        """The tuner's tables in the corpus."""
        return ModelRegistry(self.corpus)

    # -- what would be sent ----------------------------------------------------------------------------

    def _resolve(
        self, dataset: DatasetVersion | str, *, check_storage: bool = True
    ) -> tuple[str, str | None, DatasetVersion | None]:
        # Checked before any client exists, so a local dataset is refused before credentials are looked for.
        offline = self._client.offline if self._client is not None else self.settings.offline
        if isinstance(dataset, DatasetVersion):
            if not dataset.valid:
                shown = "; ".join(dataset.errors[:3]) or "see its validation report"
                raise DatasetError(
                    f"dataset {dataset.id} failed validation: {shown}",
                    hint="fix the rows (`humortune validate`), rebuild with `humortune build`, then tune again",
                    item=dataset.id,
                )
            train, validation, version = dataset.train_uri, dataset.validation_uri, dataset
        else:
            train, validation, version = dataset, None, None
        if not train.endswith(".jsonl"):
            raise DatasetError(f"{train} is not a JSONL file", hint="pass the train.jsonl of a built dataset")
        for uri in (train, validation):
            if not check_storage or uri is None or uri.startswith("gs://") or (offline and uri.startswith("file://")):
                continue
            raise DatasetError(
                f"Vertex AI only reads datasets from Cloud Storage, and {uri} is not in gs://",
                hint="set HUMORTUNE_STORAGE=gs://YOUR-BUCKET/humortune and run `humortune prepare BATTERY` (or "
                "`humortune build`) again, or tune with --offline to try the flow against the bundled fake",
                item=getattr(version, "id", None) or uri,
            )
        return train, validation, version

    def estimate(self, dataset: DatasetVersion | str) -> dict[str, Any] | None:
        """This job's cost range, re-priced from the dataset's token estimate (``None`` if unknown)."""
        version = dataset if isinstance(dataset, DatasetVersion) else None
        if version is None or version.estimate is None:
            return None
        from humortune.dataset.estimate import training_price

        est = version.estimate
        epochs = self.hyperparameters.epochs or est.epochs
        price, source = training_price(
            self.family if not is_tuned_model(self.family) else est.base_model, self.settings
        )
        return {
            "tokens_per_epoch_low": est.tokens_per_epoch_low,
            "tokens_per_epoch_high": est.tokens_per_epoch_high,
            "epochs": epochs,
            "epochs_assumed": self.hyperparameters.epochs is None,
            "price_per_mtok_usd": price,
            "price_source": source,
            "usd_low": round(est.tokens_per_epoch_low * epochs / 1e6 * price, 4),
            "usd_high": round(est.tokens_per_epoch_high * epochs / 1e6 * price, 4),
            "estimated_for": est.base_model,
        }

    def check_lifecycle(self) -> catalog.Lifecycle | None:
        """Refuse a base model that is retired, or retires within 30 days (unless ``allow_retiring``).

        Raises `ModelLifecycleError` naming the date and the successor; returns the base's lifecycle
        (``None`` when the family is not a catalog model, e.g. an unregistered tuned model).
        """
        if catalog.find(self.family) is None and is_tuned_model(self.family):
            return None
        catalog.check_tunable(
            self.family, region=self.settings.location, today=self.today, allow_retiring=self.allow_retiring
        )
        return catalog.lifecycle(self.family, today=self.today)

    def build(self, dataset: DatasetVersion | str) -> TuningRequest:
        """The `TuningRequest` submitting ``dataset`` would send; no I/O, nothing is sent.

        Render it with `humortune.gemini.render_tuning_body` (the ``--dry-run`` body). Unlike `submit`, a
        dataset outside Cloud Storage is not refused here, so a local build can be previewed. Project and
        region are the client's when one exists, else the settings' (``offline-project`` without one).
        """
        life = self.check_lifecycle()
        train, validation, version = self._resolve(dataset, check_storage=False)
        client = self._client
        project = client.project if client is not None else (self.settings.project or "offline-project")
        location = client.location if client is not None else self.settings.location
        hp = self.hyperparameters
        key = TuningRequest.key_of(
            dataset=version.id if version else train,
            train_uri=train,
            validation_uri=validation,
            base_model=self.base_model,
            checkpoint_id=self.checkpoint_id,
            hyperparameters=hp,
            project=project,
            location=location,
        )
        labels = {REQUEST_LABEL: key[:32], **self.labels}
        retiring = life is not None and life.state == "retiring"
        if retiring:  # the owner chose to tune on a base that is about to go: keep that on the job
            labels["humortune-allow-retiring"] = str(life.retirement if life else "")
        if version:
            labels.setdefault("humortune-dataset", _label_value(version.id))
            labels.setdefault("humortune-prompt", _label_value(version.prompt_version))
        return TuningRequest(
            base_model=self.base_model,
            train_uri=train,
            validation_uri=validation,
            hyperparameters=hp,
            display_name=self.display_name or f"humortune-{_label_value(version.id) if version else 'uri'}-{key[:8]}",
            labels=tuple(labels.items()),
            project=project,
            location=location,
            description=self.description,
            checkpoint_id=self.checkpoint_id,
            export_last_checkpoint_only=self.export_last_checkpoint_only,
            service_account=(client.settings if client is not None else self.settings).service_account,
            dataset_id=version.id if version else None,
            prompt_version=version.prompt_version if version else None,
            media_resolution=version.media_resolution if version else None,
            niche=version.niche if version else None,
            family=self.family,
            parent_model=self.parent_model,
            allow_retiring=retiring,
            estimate=self.estimate(version) if version else None,
            offline=client.offline if client is not None else self.settings.offline,
        )

    def request(self, dataset: DatasetVersion | str) -> dict[str, Any]:
        """The exact REST body `submit` would POST (for ``--dry-run``): `render_tuning_body` of `build`."""
        from humortune.gemini import render_tuning_body

        return render_tuning_body(self.build(dataset))

    # -- submit ---------------------------------------------------------------------------------------

    def submit(
        self,
        dataset: DatasetVersion | str,
        *,
        force: bool = False,
        confirm: Confirm | None = None,
        yes: bool = False,
        sweep_id: str | None = None,
    ) -> TuningJob:
        """Submit ``dataset`` (a built `DatasetVersion`, or a ``gs://…jsonl`` URI) and return its `TuningJob`.

        The same request submitted again returns the existing job (``job.reused``) unless ``force``. Above
        ``settings.confirm_cost_above_usd`` (or when the cost is unknown) ``confirm(message)`` must say yes,
        or ``yes=True``; otherwise `CostLimitError`.
        """
        self.check_lifecycle()
        self._resolve(dataset)  # refuses a local dataset before any client (and credentials) exists
        self.client  # noqa: B018 -- project and region come from the client submit uses
        request = self.build(dataset)
        if not force:
            existing = self._existing(request)
            if existing is not None:
                if sweep_id:
                    self.registry.set_sweep(existing.name, sweep_id)
                return existing
        self._check_cost(request, confirm=confirm, yes=yes)
        info = self.client.create_tuning_job(request)
        self._record(info, request, sweep_id=sweep_id, estimate_usd=(request.estimate or {}).get("usd_high"))
        log.info("submitted %s (%s)", info.name, self.hyperparameters.describe())
        return TuningJob(info.name, client=self.client, corpus=self.corpus, info=info, context=request.as_record())

    def _record(
        self,
        info: TuningJobInfo,
        request: TuningRequest,
        *,
        sweep_id: str | None = None,
        estimate_usd: float | None = None,
    ) -> None:
        self.registry.record_job(
            info,
            dataset_id=request.dataset_id,
            base_model=self.base_model,
            request_hash=request.key,
            hyperparams=request.as_record(),
            display_name=request.display_name,
            sweep_id=sweep_id,
            estimate_usd=estimate_usd,
        )

    def _existing(self, request: TuningRequest) -> TuningJob | None:
        row = self.registry.live_job_for(request.key)
        if row is not None:
            job = TuningJob(row.name, client=self.client, corpus=self.corpus, info=row.info, context=row.hyperparams)
            job.reused = True
            try:
                info = job.refresh()
            except HumortuneError as exc:
                if not exc.transient:
                    raise
                return job  # cannot check now; still never submit twice
            if info.state not in _DEAD:
                return job
            return None
        # Crash safety: a create whose answer was lost still carries our label on the server.
        try:
            remote = self.client.list_tuning_jobs(limit=100)
        except HumortuneError as exc:
            log.warning("could not list remote jobs for duplicate detection: %s", exc)
            return None
        for info in remote:
            if info.labels.get(REQUEST_LABEL) == request.key[:32] and info.state not in _DEAD:
                self._record(info, request)
                return TuningJob(
                    info.name,
                    client=self.client,
                    corpus=self.corpus,
                    info=info,
                    context=request.as_record(),
                    reused=True,
                )
        return None

    def _check_cost(self, request: TuningRequest, *, confirm: Confirm | None, yes: bool) -> None:
        estimate = request.estimate
        threshold = self.settings.confirm_cost_above_usd
        offline = " (offline: FakeGemini bills nothing)" if request.offline else ""
        if estimate is None:
            message = f"The cost of this job is unknown (no dataset estimate){offline}. Submit anyway?"
        elif estimate["usd_high"] > threshold:
            message = (
                f"Estimated training cost ${estimate['usd_low']:.2f}–${estimate['usd_high']:.2f} "
                f"({estimate['epochs']} epochs × {estimate['tokens_per_epoch_high']:,} tokens at "
                f"${estimate['price_per_mtok_usd']:g}/1M), above the ${threshold:g} confirmation threshold{offline}. "
                "Submit?"
            )
        else:
            return
        if yes:
            return
        if confirm is None:
            raise CostLimitError(
                message.removesuffix(" Submit?").removesuffix(" Submit anyway?"),
                hint="confirm with --yes (yes=True), or raise confirm_cost_above_usd in humortune.toml",
            )
        if not confirm(message):
            raise CostLimitError("submission declined", hint="nothing was submitted")

    # -- listing and sweeps ----------------------------------------------------------------------------

    def jobs(self, *, remote: bool = False) -> list[TuningJob]:
        """Jobs recorded in the corpus (newest first); with ``remote``, the project's jobs on Vertex AI too."""
        out = [
            TuningJob(r.name, client=self.client, corpus=self.corpus, info=r.info, context=r.hyperparams)
            for r in self.registry.jobs()
        ]
        if remote:
            known = {j.name for j in out}
            out += [
                TuningJob(i.name, client=self.client, corpus=self.corpus, info=i)
                for i in self.client.list_tuning_jobs()
                if i.name not in known
            ]
        return out

    def sweep(
        self,
        dataset: DatasetVersion | Sequence[DatasetVersion],
        grid: Mapping[str, Sequence[Any]],
        *,
        max_cost: float,
        yes: bool = False,
        confirm: Confirm | None = None,
        force: bool = False,
    ) -> Sweep:
        """Submit one job per grid point (epochs × learning_rate_multiplier × adapter_size × media_resolution)
        if the estimated total stays under ``max_cost``; see `humortune.tuner.sweep`."""
        from humortune.tuner.sweep import run_sweep

        return run_sweep(self, dataset, grid, max_cost=max_cost, yes=yes, confirm=confirm, force=force)

    def close(self) -> None:
        """Close the corpus if this tuner opened it."""
        if self._own_corpus and self._corpus is not None:
            self._corpus.close()
            self._corpus = None
