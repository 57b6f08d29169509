"""`TuningRequest`: what one tuning submission sends, as a frozen value built without I/O.

`humortune.tuner.Tuner.build` makes it from a dataset version; `humortune.gemini.render_tuning_body` turns it
into the exact REST body (google-genai builds it, nothing is sent) and `GeminiClient.create_tuning_job` sends
that same body. ``humortune tune --dry-run``, ``humortune build --request`` and ``humortune prepare`` all print
`render_tuning_body` of the same value, so a preview is what ``tune`` sends with the same options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from humortune._util import content_hash
from humortune.schema import DatasetVersion
from humortune.settings import Settings
from humortune.tuner.catalog import Hyperparameters

if TYPE_CHECKING:  # pragma: no cover
    from humortune.workspace import Corpus

__all__ = ["TuningRequest", "tuning_request_preview"]


@dataclass(frozen=True, slots=True)
class TuningRequest:
    """One tuning job as it would be submitted (send fields) plus the lineage recorded with it (not sent)."""

    base_model: str
    train_uri: str
    validation_uri: str | None
    hyperparameters: Hyperparameters
    display_name: str
    labels: tuple[tuple[str, str], ...]
    """Job labels in the order they are sent (the request label first)."""
    project: str
    location: str
    description: str | None = None
    checkpoint_id: str | None = None
    export_last_checkpoint_only: bool | None = None
    service_account: str | None = None
    dataset_id: str | None = None
    prompt_version: str | None = None
    media_resolution: str | None = None
    niche: str | None = None
    family: str | None = None
    parent_model: str | None = None
    allow_retiring: bool = False
    estimate: dict[str, Any] | None = field(default=None, hash=False)
    offline: bool = False

    @staticmethod
    def key_of(
        *,
        dataset: str,
        train_uri: str,
        validation_uri: str | None,
        base_model: str,
        checkpoint_id: str | None,
        hyperparameters: Hyperparameters,
        project: str,
        location: str,
    ) -> str:
        """The duplicate-submit key: the content hash of what decides the trained model (and where)."""
        return content_hash(
            _key_fields(
                dataset, train_uri, validation_uri, base_model, checkpoint_id, hyperparameters, project, location
            )
        )

    @property
    def key(self) -> str:
        """The request hash recorded on the job (``tuning_jobs.request_hash``) and, cut to 32, on its label."""
        return content_hash(self._key_fields())

    def _key_fields(self) -> dict[str, Any]:
        return _key_fields(
            self.dataset_id or self.train_uri,
            self.train_uri,
            self.validation_uri,
            self.base_model,
            self.checkpoint_id,
            self.hyperparameters,
            self.project,
            self.location,
        )

    @property
    def label_dict(self) -> dict[str, str]:
        """The labels as a mapping (send order kept)."""
        return dict(self.labels)

    def as_record(self) -> dict[str, Any]:
        """What the job's ``hyperparams`` column keeps: the key fields, lineage, estimate and hyperparameters."""
        return {
            **self._key_fields(),
            "request_hash": self.key,
            "labels": self.label_dict,
            "display_name": self.display_name,
            "dataset_id": self.dataset_id,
            "prompt_version": self.prompt_version,
            "media_resolution": self.media_resolution,
            "niche": self.niche,
            "family": self.family,
            "parent_model": self.parent_model,
            "allow_retiring": self.allow_retiring,
            "estimate": self.estimate,
            "offline": self.offline,
            **self.hyperparameters.as_dict(),
        }


def _key_fields(
    dataset: str,
    train_uri: str,
    validation_uri: str | None,
    base_model: str,
    checkpoint_id: str | None,
    hyperparameters: Hyperparameters,
    project: str,
    location: str,
) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "train_uri": train_uri,
        "validation_uri": validation_uri,
        "base_model": base_model,
        "checkpoint_id": checkpoint_id,
        "hyperparameters": hyperparameters.as_dict(),
        "project": project,
        "location": location,
    }


def tuning_request_preview(
    version: DatasetVersion,
    settings: Settings,
    *,
    corpus: Corpus | None = None,
    base_model: str | None = None,
    epochs: int | None = None,
    learning_rate_multiplier: float | None = None,
    adapter_size: int | None = None,
) -> dict[str, Any]:
    """The REST body that tuning ``version`` would POST, with the tuner's defaults (display name, labels).

    Unset hyperparameters stay unset (Vertex picks its defaults). Raises the tuner's errors for values it
    refuses (e.g. epochs outside 3–5) and `humortune.errors.DatasetError` for an invalid version.
    """
    from humortune.gemini import render_tuning_body  # google-genai loads only here
    from humortune.tuner.tuner import Tuner

    tuner = Tuner(
        base_model,
        epochs=epochs,
        learning_rate_multiplier=learning_rate_multiplier,
        adapter_size=adapter_size,
        corpus=corpus,
        settings=settings,
    )
    try:
        return render_tuning_body(tuner.build(version))
    finally:
        tuner.close()
