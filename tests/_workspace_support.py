"""Small builders for store tests: real corrections, videos and models in a real workspace file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from humortune.schema import Correction, HumorRecord, TunedModel, VideoAsset
from humortune.settings import Settings
from humortune.workspace import Corpus


def open_workspace(workspace: str | Path) -> Corpus:
    """The corpus of the workspace directory ``workspace`` as a command run on it sees it: its SQLite file, or the
    database ``HUMORTUNE_DATABASE_URL`` names (``HUMORTUNE_TEST_ENGINE=postgresql``)."""
    return Corpus.open(settings=Settings(workspace=Path(workspace)))


def has_database(workspace: str | Path) -> bool:
    """Whether the workspace's database was made: its SQLite file exists, or its PostgreSQL schema is migrated
    (looked at without opening a `Corpus`, which would migrate it)."""
    import psycopg

    target = Settings(workspace=Path(workspace)).database_target
    if isinstance(target, Path):
        return target.is_file()
    with psycopg.connect(target) as conn:
        return conn.execute("SELECT to_regclass('alembic_version')").fetchone() not in (None, (None,))


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
