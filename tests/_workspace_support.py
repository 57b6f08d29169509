"""Small builders for store tests: real corrections, videos and models in a real workspace file."""

from __future__ import annotations

import hashlib

from humortune.schema import Correction, HumorRecord, TunedModel, VideoAsset
from humortune.workspace import Corpus


def sha(n: int) -> str:
    """A valid content hash, distinct per ``n``."""
    return hashlib.sha256(f"video-{n}".encode()).hexdigest()


def tiktok_url(n: int) -> str:
    return f"https://www.tiktok.com/@owner/video/{7300000000000000000 + n}"


def record(category: str = "comedy") -> HumorRecord:
    return HumorRecord.model_validate(
        {
            "summary": "En katt hoppar.",
            "mechanism": "Förväntan bryts plötsligt",
            "why_it_works": "Tajmingen.",
            "audience": "alla",
            "category": category,
            "quality": "good",
            "replicable": True,
        }
    )


def add_clip(corpus: Corpus, n: int, *, niche: str | None = None, ingested: bool = True, cid: str | None = None) -> str:
    """A correction of clip ``n`` (and its stored video when ``ingested``); returns the correction id."""
    correction_id = cid or f"c{n}"
    url = tiktok_url(n)
    corpus.add_correction(
        Correction(id=correction_id, video_url=url, human_said=f"Ägaren om klipp {n}.", record=record(), niche=niche)
    )
    if ingested:
        corpus.add_video(
            VideoAsset(
                sha256=sha(n),
                source_id=str(7300000000000000000 + n),
                size_bytes=1000 + n,
                duration_s=5.0 + n,
                width=720,
                height=1280,
                codec="h264",
                fps=30.0,
                has_audio=n % 2 == 0,
                uri=f"file:///videos/{sha(n)}.mp4",
            )
        )
        corpus.link_video(f"tiktok:{7300000000000000000 + n}", sha(n))
    return correction_id


def tuned(n: int, **fields: object) -> TunedModel:
    """A tuned model value (not stored)."""
    values: dict[str, object] = {
        "id": f"projects/p/locations/europe-west4/models/{n}@1",
        "endpoint": f"projects/p/locations/europe-west4/endpoints/{n}",
        "base_model": "gemini-2.5-flash",
        "prompt_version": "p-000000000001",
        "media_resolution": "MEDIA_RESOLUTION_LOW",
    }
    values.update(fields)
    return TunedModel.model_validate(values)
