"""The tuning request a dataset version leads to: the exact REST body, built by google-genai, sent nowhere.

`tuning_request_preview` asks `humortune.gemini.GeminiClient.tuning_request` (which runs google-genai's own
``tunings.tune`` against a capturing transport) for the body ``POST …/tuningJobs`` would carry, so what
``humortune prepare`` prints is byte-for-byte what ``humortune tune`` sends with the same options.
The default display name and labels tie the job to the dataset version and prompt version.
"""

from __future__ import annotations

from typing import Any

from humortune.schema import DatasetVersion
from humortune.settings import Settings

__all__ = ["default_display_name", "default_labels", "tuning_request_preview"]


def default_display_name(version: DatasetVersion, base_model: str | None = None) -> str:
    """``humortune-<dataset id>`` (plus the base model when given): deterministic, ≤ 128 characters."""
    name = f"humortune-{version.id}"
    if base_model:
        name += f"-{base_model.rsplit('/', 1)[-1]}"
    return name[:128]


def default_labels(version: DatasetVersion) -> dict[str, str]:
    """Labels that tie a job to its dataset and prompt version (lowercase, digits, ``-``/``_``, ≤ 64 chars)."""
    return {"humortune-dataset": version.id.lower()[:64], "humortune-prompt": version.prompt_version.lower()[:64]}


def tuning_request_preview(
    version: DatasetVersion,
    settings: Settings,
    *,
    base_model: str | None = None,
    epochs: int | None = None,
    learning_rate_multiplier: float | None = None,
    adapter_size: int | None = None,
    display_name: str | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The REST body that submitting ``version`` for tuning would POST; no credentials, no network.

    Unset hyperparameters stay unset (Vertex picks its defaults). Raises `humortune.errors.TuningError`
    subclasses when google-genai refuses the arguments.
    """
    import httpx

    from humortune.gemini import GeminiClient  # google-genai loads only here

    def refuse(_request: httpx.Request) -> httpx.Response:  # the preview must never send anything
        return httpx.Response(599, json={"error": {"message": "preview transport: nothing is sent"}})

    client = GeminiClient.from_settings(settings, transport=httpx.MockTransport(refuse))
    try:
        return client.tuning_request(
            base_model=base_model or settings.base_model,
            train_uri=version.train_uri,
            validation_uri=version.validation_uri,
            epochs=epochs,
            learning_rate_multiplier=learning_rate_multiplier,
            adapter_size=adapter_size,
            display_name=display_name or default_display_name(version),
            labels=labels if labels is not None else default_labels(version),
        )
    finally:
        client.close()
