"""The SQLite workspace: migrations, version guard, concurrency, corrections and videos."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from humortune.errors import CorpusError, SchemaVersionError
from humortune.schema import Correction, HumorRecord, VideoAsset
from humortune.workspace import Corpus
from humortune.workspace.migrations import SCHEMA_VERSION

SHA = "a" * 64


def _asset(sha: str = SHA, uri: str = "file:///v.mp4") -> VideoAsset:
    return VideoAsset(
        sha256=sha,
        source_id="7301",
        size_bytes=10,
        duration_s=2.0,
        width=160,
        height=284,
        codec="h264",
        fps=12.0,
        has_audio=True,
        uri=uri,
    )


def test_migrates_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    path.touch()
    with Corpus.open(path) as corpus:
        assert corpus.db.schema_version == SCHEMA_VERSION
        tables = {r[0] for r in corpus.db.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {
        "corrections",
        "videos",
        "dataset_versions",
        "tuning_jobs",
        "models",
        "analyses",
        "evaluations",
        "reviews",
        "owner_labels",
        "aliases",
    } <= tables
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    Corpus.open(tmp_path / "c.db").close()
    with Corpus.open(tmp_path / "c.db") as corpus:
        assert corpus.db.schema_version == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaVersionError, match=r"schema version \d+.*upgrade humortune"):
        Corpus.open(path)


def test_not_a_database_is_a_corpus_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CorpusError, match=r"not a humortune workspace|not a database"):
        Corpus.open(path)


def test_add_correction_reports_added_updated_unchanged(corpus: Corpus) -> None:
    c = Correction(id="c1", video_url="https://www.tiktok.com/@a/video/7301", human_said="Det roliga …")
    assert corpus.add_correction(c) == "added"
    assert corpus.add_correction(c) == "unchanged"
    changed = c.model_copy(update={"human_said": "Det roliga i detta klipp är något annat."})
    assert corpus.add_correction(changed) == "updated"
    stored = corpus.correction("c1")
    assert stored is not None and stored.human_said.endswith("något annat.")


def test_record_and_extra_round_trip(corpus: Corpus) -> None:
    record = HumorRecord(
        summary="s",
        mechanism="m m m m m",
        why_it_works="w",
        audience="a",
        category="comedy",
        quality="good",
        replicable=True,
    )  # type: ignore[arg-type]
    c = Correction(
        id="c1",
        video_url="https://www.tiktok.com/@a/video/1",
        human_said="h",
        record=record,
        niche="restaurant",
        question_no=7,
    )
    corpus.add_correction(c)
    back = corpus.correction("c1")
    assert back is not None
    assert back.record == record and back.niche == "restaurant" and back.extra == {"question_no": 7}


def test_videos_link_to_corrections_by_source_key(corpus: Corpus) -> None:
    corpus.add_correction(Correction(id="c1", video_url="https://m.tiktok.com/v/7301.html", human_said="h"))
    corpus.add_correction(
        Correction(id="c2", video_url="https://tiktok.com/@x/video/7301?lang=sv", human_said="h2", source="review")
    )
    corpus.add_video(_asset())
    assert corpus.link_video("tiktok:7301", SHA) == 2
    entries = corpus.entries()
    assert [e.video.sha256 if e.video else None for e in entries] == [SHA, SHA]
    assert corpus.video_for_key("tiktok:7301") == _asset()
    assert corpus.status()["corrections_without_video"] == 0
    assert [e.correction.id for e in corpus.entries(source="review")] == ["c2"]


def test_add_video_is_idempotent(corpus: Corpus) -> None:
    corpus.add_video(_asset())
    corpus.add_video(_asset(uri="gs://b/training/videos/7301.mp4"))
    assert [v.uri for v in corpus.videos()] == ["gs://b/training/videos/7301.mp4"]


def test_failed_transaction_leaves_nothing(corpus: Corpus) -> None:
    with pytest.raises(RuntimeError), corpus.db.transaction():
        corpus.add_correction(Correction(id="c1", video_url="https://www.tiktok.com/@a/video/1", human_said="h"))
        raise RuntimeError("crash mid-import")
    assert corpus.corrections() == []


def test_concurrent_writer_in_another_process(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    Corpus.open(path).close()
    script = textwrap.dedent(
        f"""
        from humortune.schema import Correction
        from humortune.workspace import Corpus
        import sys
        prefix = sys.argv[1]
        with Corpus.open({str(path)!r}) as corpus:
            for i in range(150):
                corpus.add_correction(Correction(id=f"{{prefix}}{{i}}",
                    video_url=f"https://www.tiktok.com/@u/video/{{prefix == 'a' and 1 or 2}}{{i:05d}}",
                    human_said="h"))
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, p]) for p in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    with Corpus.open(path) as corpus:
        assert corpus.status()["corrections"] == 300
        assert corpus.db.query_one("PRAGMA integrity_check")[0] == "ok"  # type: ignore[index]
