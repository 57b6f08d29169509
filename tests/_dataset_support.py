"""Helpers for the dataset tests: a corpus with ingested clips, without the ingest layer.

Clips are recorded directly (``corpus.add_video`` + ``corpus.link_video``) with a few bytes stored in
`LocalStorage`; the probe facts (duration, size, audio) are whatever the test says, so limits can be tested
without multi-gigabyte files.
"""

from __future__ import annotations

import hashlib
from typing import Any

from humortune.dataset import ValidationReport, VideoFacts
from humortune.schema import Correction, HumorRecord, VideoAsset
from humortune.storage import LocalStorage, video_key
from humortune.workspace import Corpus

RECORD = {
    "summary": "En katt välter en kopp på köksbordet och tittar oskyldigt in i kameran.",
    "mechanism": "oskyldig min efter ett uppenbart medvetet brott",
    "why_it_works": "Kontrasten mellan handling och min känns igen av alla kattägare.",
    "audience": "Kattägare och djurvänner",
    "category": "comedy",
    "quality": "good",
    "replicable": True,
}


def tiktok_id(n: int) -> str:
    return str(7_300_000_000_000_000_000 + n)


def add_clip(
    corpus: Corpus,
    storage: LocalStorage,
    n: int,
    *,
    text: str | None = None,
    niche: str | None = None,
    record: dict[str, Any] | None = None,
    seconds: float = 10.0,
    size_bytes: int | None = None,
    has_audio: bool = True,
    mime: str = "video/mp4",
    ingest: bool = True,
    store: bool = True,
    correction_id: str | None = None,
) -> Correction:
    """Add correction ``n`` for TikTok clip ``n``; unless ``ingest=False``, its video is stored and linked."""
    vid = tiktok_id(n)
    correction = Correction(
        id=correction_id or f"c{n:05d}",
        video_url=f"https://www.tiktok.com/@user/video/{vid}",
        human_said=text or f"Det roliga i detta klipp är nummer {n}: kattens blick efter att koppen föll. Åäö!",
        niche=niche,
        record=HumorRecord.model_validate(record) if record else None,
    )
    corpus.add_correction(correction)
    if ingest:
        data = f"fake mp4 bytes for clip {n}".encode()
        sha = hashlib.sha256(data).hexdigest()
        key = video_key(vid)
        if store:
            storage.put_bytes(key, data, content_type=mime)
        corpus.add_video(
            VideoAsset(
                sha256=sha,
                source_id=vid,
                size_bytes=size_bytes if size_bytes is not None else len(data),
                duration_s=seconds,
                width=720,
                height=1280,
                codec="h264",
                fps=30.0,
                has_audio=has_audio,
                mime=mime,
                uri=storage.uri(key),
            )
        )
        corpus.link_video(f"tiktok:{vid}", sha)
    return correction


# -- rows for the validator tests ----------------------------------------------------------------

PROMPT = "Analysera denna video. Förklara vad som händer och varför det är roligt eller effektivt. Var specifik."
OK_FACTS = VideoFacts(exists=True, size_bytes=3_000_000, duration_s=20.0, has_audio=True)


def row(
    n: int = 0, *, uri: str | None = None, text: str | None = None, res: str | None = "MEDIA_RESOLUTION_LOW"
) -> dict[str, Any]:
    r: dict[str, Any] = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"fileData": {"mimeType": "video/mp4", "fileUri": uri or f"gs://b/v/{n}.mp4"}},
                    {"text": PROMPT},
                ],
            },
            {"role": "model", "parts": [{"text": text or f"Det roliga i klipp {n} är katten."}]},
        ]
    }
    if res:
        r["generationConfig"] = {"mediaResolution": res}
    return r


def texts(report: ValidationReport, rule: str, severity: str = "error") -> list[str]:
    return [str(i) for i in report.issues if i.rule == rule and i.severity == severity]
