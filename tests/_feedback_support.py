"""Helpers for the feedback tests: real small clips in LocalStorage, corrections, and analyses rows.

Analyses are inserted straight into the ``analyses`` table (the shape the analyzer writes), so the review
layer is tested without calling a model.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from humortune._util import file_sha256, short_hash
from humortune.schema import Correction, HumorRecord, VideoAsset, utcnow
from humortune.storage import LocalStorage, video_key
from humortune.testing.videos import make_test_video
from humortune.workspace import Corpus

RECORD: dict[str, Any] = {
    "summary": "En servitör bär fem tallrikar och snubblar, men räddar allt med en piruett.",
    "mechanism": "förväntad katastrof som vänds till elegant triumf",
    "why_it_works": "Spänningen byggs upp och släpps med en oväntad, skicklig vändning.",
    "audience": "Restaurangpersonal och alla som jobbat i service",
    "category": "comedy",
    "quality": "good",
    "replicable": True,
}
TIKTOK_URL = "https://www.tiktok.com/@krogen/video/73000000000000000{n:02d}"


def make_clips(directory: Path, count: int = 3, seconds: float = 3.0) -> list[Path]:
    """``count`` distinct real mp4 clips (H.264 + AAC)."""
    return [make_test_video(directory / f"clip{i}.mp4", seconds=seconds, seed=i) for i in range(count)]


def store_clip(
    corpus: Corpus, storage: LocalStorage, path: Path, *, source_id: str | None = None, seconds: float = 3.0
) -> VideoAsset:
    """Put a clip in storage under its content hash and record it in the corpus."""
    sha = file_sha256(path)
    key = video_key(source_id or sha)
    storage.put_file(key, path, sha256=sha, content_type="video/mp4")
    asset = VideoAsset(
        sha256=sha,
        source_id=source_id or sha,
        size_bytes=path.stat().st_size,
        duration_s=seconds,
        width=160,
        height=284,
        codec="h264",
        fps=12.0,
        has_audio=True,
        uri=storage.uri(key),
    )
    corpus.add_video(asset)
    return asset


def add_correction(
    corpus: Corpus, n: int, video: VideoAsset | None, *, niche: str | None = None, record: dict[str, Any] | None = None
) -> Correction:
    """A battery correction for TikTok clip ``n``, linked to ``video``."""
    correction = Correction(
        id=f"c{n}",
        video_url=TIKTOK_URL.format(n=n),
        gemini_said="Gemini trodde att det var ett misstag.",
        human_said=f"Ägarens läsning av klipp {n}: servitören gör ett medvetet skämt.",
        record=HumorRecord.model_validate(record) if record is not None else None,
        niche=niche,
    )
    corpus.add_correction(correction)
    if video is not None:
        corpus.link_video(f"tiktok:73000000000000000{n:02d}", video.sha256)
    return correction


def add_analysis(
    corpus: Corpus,
    video: VideoAsset,
    model: str,
    *,
    narrative: str = "Modellen: en servitör snubblar men klarar sig.",
    record: dict[str, Any] | None = None,
    minutes_ago: float = 0.0,
    aid: str | None = None,
) -> str:
    """Insert one analyses row as the analyzer would; returns its id."""
    analysis_id = aid or "an-" + short_hash([video.sha256, model], 16)
    created = (utcnow() - timedelta(minutes=minutes_ago)).isoformat(timespec="microseconds")
    corpus.db.execute(
        "INSERT INTO analyses (id, video_sha256, video_uri, model, prompt_version, mode, narrative, record_json,"
        " usage_json, latency_s, warnings_json, created_at) VALUES (?, ?, ?, ?, 'p1', 'two-stage', ?, ?, '{}', 1.0,"
        " '[]', ?)",
        (
            analysis_id,
            video.sha256,
            video.uri,
            model,
            narrative,
            json.dumps(record) if record is not None else None,
            created,
        ),
    )
    return analysis_id


def copy_clips(source: list[Path], target: Path) -> list[Path]:
    """Copies of session-made clips (so every test has its own files)."""
    target.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(p, target / p.name)) for p in source]


CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_of(html: str) -> str:
    """The CSRF token embedded in a page's forms."""
    match = CSRF.search(html)
    assert match is not None, "no CSRF field in the page"
    return match.group(1)
