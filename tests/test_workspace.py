"""The SQLite workspace: migrations, version guard, concurrency, corrections and videos."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from humortune.errors import CorpusError, SchemaVersionError
from humortune.schema import Correction, HumorRecord, VideoAsset
from humortune.workspace import Corpus
from humortune.workspace.migrations import MIGRATIONS, SCHEMA_VERSION

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


@pytest.mark.sqlite_only("an empty SQLite file is migrated and switched to WAL")
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


@pytest.mark.sqlite_only("PRAGMA user_version of a SQLite file")
def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    Corpus.open(tmp_path / "c.db").close()
    with Corpus.open(tmp_path / "c.db") as corpus:
        assert corpus.db.schema_version == SCHEMA_VERSION


@pytest.mark.sqlite_only("PRAGMA user_version of a SQLite file")
def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaVersionError, match=r"schema version \d+.*upgrade humortune"):
        Corpus.open(path)


def _v1_workspace(path: Path) -> None:
    """A workspace file as humortune with schema version 1 left it, with a little of everything the queue reads."""
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    record = HumorRecord.model_validate(
        {"summary": "s", "mechanism": "m", "why_it_works": "w", "audience": "a", "category": "comedy",
         "quality": "good", "replicable": True}
    ).model_dump_json()  # fmt: skip
    with conn:
        conn.execute(
            "INSERT INTO videos VALUES (?, '7301', 10, 2.0, 160, 284, 'h264', 12.0, 1, 'video/mp4', 'mp4',"
            " 'file:///v.mp4', '2026-01-01')",
            (SHA,),
        )
        conn.execute(
            "INSERT INTO corrections (id, video_url, video_key, human_said, record_json, niche, source, content_hash,"
            " video_sha256, created_at, updated_at) VALUES ('c1', 'https://www.tiktok.com/@u/video/7301',"
            " 'tiktok:7301', 'Ägarens läsning.', ?, 'gym', 'battery', 'h1', ?, '2026-01-01', '2026-01-01')",
            (record, SHA),
        )
        for aid, rec in (("a1", record), ("a2", "{not json"), ("a3", None)):  # a v1 file may hold a broken record
            conn.execute(
                "INSERT INTO analyses (id, video_sha256, video_uri, model, prompt_version, mode, narrative,"
                " record_json, created_at) VALUES (?, ?, 'file:///v.mp4', 'm', 'p1', ?, 'n', ?, '2026-01-02')",
                (aid, SHA, aid, rec),
            )
        conn.execute("INSERT INTO reviews (analysis_id, action, created_at) VALUES ('a1', 'skip', '2026-01-03')")
    conn.close()


@pytest.mark.sqlite_only("a SQLite file of schema v1 upgraded in place")
def test_migrates_v1_to_current_keeping_the_data(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    _v1_workspace(path)
    before = sqlite3.connect(path)
    tables = ("corrections", "videos", "analyses", "reviews")
    rows = {t: before.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
    before.close()
    with Corpus.open(path) as corpus:
        assert corpus.db.schema_version == SCHEMA_VERSION == len(MIGRATIONS) >= 2
        for table in tables:
            assert [tuple(r) for r in corpus.db.query(f"SELECT * FROM {table} ORDER BY rowid")] == rows[table]
        correction = corpus.correction("c1")
        assert correction is not None and correction.niche == "gym" and correction.record is not None
        indexes = {r[0] for r in corpus.db.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"corrections_clip", "analyses_clip", "analyses_model", "reviews_analysis"} <= indexes
        # the indexed record key: the record's enum fields, NULL for a missing or broken record
        keys = dict(
            corpus.db.query(
                "SELECT id, CASE WHEN json_valid(record_json) THEN json_extract(record_json, '$.category',"
                " '$.quality', '$.replicable') END FROM analyses INDEXED BY analyses_clip"
            )
        )
        assert keys == {"a1": '["comedy","good",true]', "a2": None, "a3": None}
        # writers are unchanged: a broken record is still stored as the analyzer gave it
        corpus.db.execute(
            "INSERT INTO analyses (id, video_sha256, video_uri, model, prompt_version, mode, narrative, record_json,"
            " created_at) VALUES ('a4', ?, 'file:///v.mp4', 'm', 'p1', 'x', 'n', '[1,', '2026-01-04')",
            (SHA,),
        )
        assert corpus.db.query_one("SELECT record_json FROM analyses WHERE id = 'a4'")[0] == "[1,"  # type: ignore[index]
    with Corpus.open(path) as corpus:  # and the next open finds nothing to migrate
        assert corpus.db.schema_version == SCHEMA_VERSION


@pytest.mark.sqlite_only("PRAGMA user_version of a SQLite file")
def test_v1_humortune_refuses_a_migrated_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v2.db"
    Corpus.open(path).close()
    monkeypatch.setattr("humortune.workspace.db.SCHEMA_VERSION", 1)
    refused = rf"schema version {SCHEMA_VERSION}, this humortune understands up to 1"
    with pytest.raises(SchemaVersionError, match=refused):
        Corpus.open(path)


@pytest.mark.sqlite_only("a damaged SQLite file")
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


def test_source_links_give_each_correction_key_url_and_linked_video_oldest_first(corpus: Corpus) -> None:
    corpus.add_correction(Correction(id="c1", video_url="https://m.tiktok.com/v/7301.html", human_said="h"))
    corpus.add_correction(Correction(id="c2", video_url="https://tiktok.com/@x/video/7302", human_said="h2"))
    corpus.add_video(_asset())
    corpus.link_video("tiktok:7301", SHA)
    corpus.add_correction(Correction(id="c3", video_url="https://tiktok.com/@x/video/7301?lang=sv", human_said="h3"))
    corpus.db.execute("UPDATE corrections SET video_sha256 = NULL WHERE id = 'c3'")  # imported after the link
    links, entries = corpus.source_links(), corpus.entries()
    assert [(s.video_key, s.video_url) for s in links] == [(e.video_key, e.correction.video_url) for e in entries]
    assert [(s.sha256, s.size_bytes, s.uri) for s in links] == [
        (SHA, _asset().size_bytes, _asset().uri),
        (None, None, None),
        (None, None, None),
    ]
    assert [s.video_key for s in links] == ["tiktok:7301", "tiktok:7302", "tiktok:7301"]


def test_add_video_is_idempotent(corpus: Corpus) -> None:
    corpus.add_video(_asset())
    corpus.add_video(_asset(uri="gs://b/training/videos/7301.mp4"))
    assert [v.uri for v in corpus.videos()] == ["gs://b/training/videos/7301.mp4"]


def test_failed_transaction_leaves_nothing(corpus: Corpus) -> None:
    with pytest.raises(RuntimeError), corpus.db.transaction():
        corpus.add_correction(Correction(id="c1", video_url="https://www.tiktok.com/@a/video/1", human_said="h"))
        raise RuntimeError("crash mid-import")
    assert corpus.corrections() == []


@pytest.mark.sqlite_only("SQLite's file locking between processes")
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


def test_import_folds_each_local_path_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 13: the parser and add_correction each resolved every local path on disk (re-import ≈ import).
    import humortune.urls

    clips = [tmp_path / f"clip-{i}.mp4" for i in range(5)]
    for clip in clips:
        clip.write_bytes(b"x")
    battery = tmp_path / "battery.json"
    battery.write_text(json.dumps([{"video_url": str(c), "human_said": f"roligt {i}"} for i, c in enumerate(clips)]))
    resolved: list[Path] = []
    real = humortune.urls._resolve

    def counting(path: Path) -> Path:
        resolved.append(path)
        return real(path)

    monkeypatch.setattr(humortune.urls, "_resolve", counting)  # where every local source is resolved
    with Corpus.open(tmp_path / "c.db") as corpus:
        assert corpus.import_battery(battery).added == 5
        assert len(resolved) == 5
        assert corpus.import_battery(battery).unchanged == 5
        assert len(resolved) == 5  # an unchanged file is not parsed again (issue 13)
        keys = [r[0] for r in corpus.db.query("SELECT video_key FROM corrections ORDER BY id")]
    assert sorted(keys) == sorted(f"file:{c.resolve()}" for c in clips)
