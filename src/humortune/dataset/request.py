"""The tuning request a dataset version leads to: the exact REST body ``humortune tune`` would POST.

`tuning_request_preview` asks the tuner itself (`humortune.tuner.Tuner.request`, which runs google-genai's own
``tunings.tune`` against a capturing transport) for the body, so what ``humortune prepare`` and
``humortune build --request`` print is what ``humortune tune --dry-run`` prints and what ``tune`` sends with
the same options and settings. Nothing is sent and no credentials are needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from humortune.schema import DatasetVersion
from humortune.settings import Settings

if TYPE_CHECKING:
    from humortune.workspace import Corpus

__all__ = ["tuning_request_preview"]


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
    import httpx

    from humortune.gemini import GeminiClient  # google-genai loads only here
    from humortune.tuner import Tuner

    def refuse(_request: httpx.Request) -> httpx.Response:  # the preview must never send anything
        return httpx.Response(599, json={"error": {"message": "preview: nothing is sent"}})

    # Offline settings use the bundled fake (as `tune --offline` does); otherwise a transport that sends nothing.
    if settings.offline:
        from humortune.app import default_client

        client = default_client(settings)
    else:
        client = GeminiClient.from_settings(settings, transport=httpx.MockTransport(refuse))
    tuner = Tuner(
        base_model,
        epochs=epochs,
        learning_rate_multiplier=learning_rate_multiplier,
        adapter_size=adapter_size,
        client=client,
        corpus=corpus,
        settings=settings,
    )
    try:
        return tuner.request(version)
    finally:
        tuner.close()
        client.close()
