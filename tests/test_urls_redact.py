"""One redaction for every place a URL is shown or stored (issue 15, item 4).

A secret marker in URL credentials and signed-URL query strings is grepped across every output and every
file an import + ingest run wrote (the corpus's own copy of the URL, which is what gets downloaded, aside).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from humortune.cli import main
from humortune.ingest import Ingestor
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.testing.sources import FakeDownloader
from humortune.testing.videos import make_test_video
from humortune.urls import redact
from humortune.workspace import Corpus
from tests._workspace_support import open_workspace
from tests.rigs.video_server import VideoServer

MARK = "S3CR3T-MARKER-4f1c"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"https://owner:{MARK}@example.com/v.mp4", "https://***@example.com/v.mp4"),
        (
            f"https://storage.googleapis.com/b/v.mp4?X-Goog-Signature={MARK}&X-Goog-Expires=60",
            "https://storage.googleapis.com/b/v.mp4?…",
        ),
        (f"gs://b/training/videos/v.mp4?sig={MARK}", "gs://b/training/videos/v.mp4?…"),
        (f"failed: 'https://u:{MARK}@h/x?token={MARK}' (403)", "failed: 'https://***@h/x?…' (403)"),
        ("https://www.tiktok.com/@a/video/1", "https://www.tiktok.com/@a/video/1"),
    ],
)
def test_redact(text: str, shown: str) -> None:
    assert redact(text) == shown and MARK not in redact(text)


def _files_text(root: Path) -> dict[str, str]:
    """Every file under ``root`` as text, and the workspace's database (SQLite file or PostgreSQL schema) as its rows
    outside ``corrections``."""
    out: dict[str, str] = {}
    for path in root.rglob("*"):
        if path.is_file() and path.suffix != ".db" and not path.name.endswith(("-wal", "-shm")):
            out[str(path)] = path.read_bytes().decode("utf-8", "replace")
    with open_workspace(root) as corpus:
        db = corpus.db
        if db.dialect.name == "sqlite":
            tables = [r[0] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")]
        else:
            tables = [r[0] for r in db.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
        rows = [
            repr(tuple(row))
            for t in tables
            if t != "corrections"  # the owner's input, kept as given: it is what gets downloaded
            for row in db.query(f"SELECT * FROM {t}")
        ]
    out[f"database ({db.dialect.name})"] = "\n".join(rows)
    return out


def test_no_secret_in_any_output_or_file_of_an_ingest_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    clip = make_test_video(tmp_path / "clips" / "ok.mp4", seconds=1.0, seed=3)
    ws = tmp_path / "ws"
    with VideoServer() as server:
        server.add_file("ok.mp4", clip)
        host = server.base_url.split("://", 1)[1]
        battery = tmp_path / "battery.json"
        urls = [
            f"http://owner:{MARK}@{host}/ok.mp4?X-Goog-Signature={MARK}",
            f"http://{host}/gone.mp4?X-Goog-Credential=me&X-Goog-Signature={MARK}",
            f"http://owner:{MARK}@{host}/gone2.mp4",
        ]
        battery.write_text(json.dumps([{"video_url": u, "human_said": f"roligt {i}"} for i, u in enumerate(urls)]))
        caplog.set_level(logging.DEBUG)
        outputs = []
        for args in (["import", str(battery)], ["ingest", "--all"], ["ingest", "--only-failed", "--all"], ["status"]):
            main(["-w", str(ws), *args])
            out, err = capsys.readouterr()
            outputs.append(out + err)
    text = "\n".join(outputs)
    assert "1 stored" in text and "failed" in text  # the run really downloaded one and failed two
    assert "***@" in text or "?…" in text
    assert MARK not in text
    assert MARK not in caplog.text
    files = _files_text(ws)
    assert any("ingest.json" in name for name in files)
    assert any(name.startswith("database") and "failed" in rows for name, rows in files.items())  # ingest_status
    for name, content in files.items():
        assert MARK not in content, name


def test_report_keys_are_redacted(corpus: Corpus, settings: Settings, tmp_path: Path) -> None:
    from humortune.schema import Correction

    url = f"https://example.com/v.mp4?X-Goog-Signature={MARK}"
    corpus.add_correction(Correction(id="c", video_url=url, human_said="h"))
    fake = FakeDownloader(generate=True)
    report = Ingestor(corpus, LocalStorage(tmp_path / "s"), downloader=fake, settings=settings).run()
    path = report.save_json(tmp_path / "r.json")
    assert MARK not in path.read_text() and MARK not in report.outcomes[0].url
    assert report.outcomes[0].key.endswith(MARK)  # the in-memory key is the identity (used for --only-failed)


def test_import_problems_quote_urls_redacted(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    bad = [
        {"video_url": f"https://u:{MARK}@www.tiktok.com/@a/photo/1", "human_said": "h"},
        {"video_url": f"https://www.tiktok.com/@a/live?sig={MARK}", "human_said": "h"},
    ]
    path.write_text(json.dumps(bad))
    report = corpus.import_battery(path)
    assert len(report.problems) == 2 and MARK not in "\n".join(report.problems)
