"""`IngestReport`: counts and a one-line summary of outcomes; JSON out and back, with source keys redacted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from humortune.ingest import IngestReport as ReExported
from humortune.ingest_report import IngestReport, SourceOutcome


def _report() -> IngestReport:
    outcomes = [
        SourceOutcome("tiktok:1", "https://www.tiktok.com/@a/video/1", "ok", bytes_downloaded=3 * 2**20),
        SourceOutcome("tiktok:2", "https://www.tiktok.com/@a/video/2", "present"),
        SourceOutcome(
            "http:https://user:pw@cdn.example/v.mp4?X-Goog-Signature=abc",
            "https://cdn.example/v.mp4?…",
            "failed",
            category="network",
            transient=True,
        ),
    ]
    return IngestReport("gs://b/humortune", datetime(2026, 12, 2, tzinfo=UTC), seconds=4.25, outcomes=outcomes)


def test_counts_and_summary() -> None:
    report = _report()
    assert report.counts == {"ok": 1, "present": 1, "failed": 1}
    assert [o.key for o in report.failed] == [report.outcomes[2].key]
    assert report.summary() == (
        "3 source(s): 1 stored, 1 already present, 1 failed; 3.0 MB downloaded, 0.0 MB uploaded in 4.2 s"
    )


def test_json_round_trip_keeps_outcomes_and_redacts_keys(tmp_path: Path) -> None:
    report = _report()
    path = report.save_json(tmp_path / "ingest.json")
    text = path.read_text("utf-8")
    assert "pw@" not in text and "abc" not in text  # credentials and signatures never reach the file
    data = json.loads(text)
    assert data["counts"] == report.counts and data["storage"] == "gs://b/humortune"
    loaded = IngestReport.load_json(path)
    assert loaded.outcomes[:2] == report.outcomes[:2] and loaded.started_at == report.started_at
    assert ReExported is IngestReport  # humortune.ingest keeps exporting it
