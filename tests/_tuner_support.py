"""Helpers for the gemini/tuner tests: fake-backed clients, small JSONL datasets, recorded sleeps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from humortune.gemini import GeminiClient, RetryPolicy
from humortune.schema import CostEstimate, DatasetVersion
from humortune.settings import Settings
from humortune.testing import FakeGemini

PROMPT = "Analysera denna video. Förklara vad som händer och varför det är roligt eller effektivt."


class Sleeps:
    """Records the waits a retry policy or a poll loop asked for, without waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.calls.append(seconds)

    def policy(self, attempts: int = 4) -> RetryPolicy:
        return RetryPolicy(attempts=attempts, initial_s=0.5, max_s=4.0, sleep=self, async_sleep=self.asleep)


def client_for(
    settings: Settings, fake: FakeGemini, *, attempts: int = 4, sleeps: Sleeps | None = None
) -> GeminiClient:
    """A real GeminiClient (real google-genai code path) answered by ``fake`` through a MockTransport."""
    sleeps = sleeps or Sleeps()
    return GeminiClient.from_settings(settings, transport=fake.transport(), retry=sleeps.policy(attempts))


def owner_row(i: int, *, prefix: str = "gs://humortune-demo/training/videos") -> dict[str, Any]:
    """One Vertex SFT row: video + seed prompt → the owner's narrative."""
    return {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"fileData": {"fileUri": f"{prefix}/clip{i:03d}.mp4", "mimeType": "video/mp4"}},
                    {"text": PROMPT},
                ],
            },
            {
                "role": "model",
                "parts": [
                    {
                        "text": f"Det roliga i detta klipp är ägarens egen mekanism nummer {i}. Katten {i} välter "
                        f"koppen. Det fungerar för att ägaren känner igen blicken nummer {i}."
                    }
                ],
            },
        ],
        "generationConfig": {"mediaResolution": "MEDIA_RESOLUTION_LOW"},
    }


def write_jsonl(path: Path, rows: list[dict[str, Any]] | list[str]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path.as_uri()


def estimate(*, low: int = 40_000, high: int = 52_000, epochs: int = 4, price: float = 5.0) -> CostEstimate:
    return CostEstimate(
        base_model="gemini-2.5-flash",
        epochs=epochs,
        media_resolution="MEDIA_RESOLUTION_LOW",
        examples=12,
        tokens_per_epoch_low=low,
        tokens_per_epoch_high=high,
        price_per_mtok_usd=price,
        price_source="test table",
        usd_low=round(low * epochs / 1e6 * price, 4),
        usd_high=round(high * epochs / 1e6 * price, 4),
    )


def local_dataset(
    tmp: Path,
    *,
    n: int = 10,
    valid: bool = True,
    cost: CostEstimate | None = None,
    version_id: str = "ds-test0001",
    media_resolution: str = "MEDIA_RESOLUTION_LOW",
) -> DatasetVersion:
    """A DatasetVersion whose train/validation JSONL are real local files (offline-only)."""
    folder = tmp / version_id
    train = write_jsonl(folder / "train.jsonl", [owner_row(i) for i in range(n)])
    validation = write_jsonl(folder / "validation.jsonl", [owner_row(i) for i in range(n, n + 2)])
    return DatasetVersion(
        id=version_id,
        prompt_version="p-0123456789ab",
        media_resolution=media_resolution,
        storage_prefix=folder.as_uri(),
        train_uri=train,
        validation_uri=validation,
        counts={"train": n, "validation": 2},
        valid=valid,
        errors=[] if valid else ["train.jsonl:3: error [roles] contents[1].role must be 'model'"],
        estimate=cost if cost is not None else estimate(),
    )


def gcs_dataset(*, version_id: str = "ds-gcs00001", cost: CostEstimate | None = None) -> DatasetVersion:
    """A DatasetVersion in Cloud Storage (the fake cannot read it; it invents row counts)."""
    prefix = f"gs://humortune-demo/training/datasets/{version_id}"
    return DatasetVersion(
        id=version_id,
        prompt_version="p-0123456789ab",
        media_resolution="MEDIA_RESOLUTION_LOW",
        storage_prefix=prefix,
        train_uri=f"{prefix}/train.jsonl",
        validation_uri=f"{prefix}/validation.jsonl",
        counts={"train": 10, "validation": 2},
        valid=True,
        estimate=cost if cost is not None else estimate(),
    )
