"""`validate_jsonl`: files on disk or bytes in memory, named as the user named them."""

from __future__ import annotations

import json
from pathlib import Path

from humortune.dataset import VideoFacts, validate_jsonl
from tests._dataset_support import OK_FACTS, row, texts


def test_external_jsonl_with_public_urls(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    lines = [json.dumps(row(i, uri=f"https://cdn.example/{i}.mp4"), ensure_ascii=False) for i in range(3)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = validate_jsonl({"train": path})
    assert report.ok
    assert texts(report, "uri-scheme", "warning")[0].startswith(
        "dataset: warning [uri-scheme] public http(s) video URLs: Vertex must be able to fetch them; gs:// is safer"
    )


def test_bytes_are_validated_like_a_file_and_their_size_is_checked() -> None:
    data = ("\n".join(json.dumps(row(i), ensure_ascii=False) for i in range(3)) + "\n").encode()
    report = validate_jsonl({"train": data, "validation": data[: data.index(b"\n") + 1]}, facts=lambda _u: OK_FACTS)
    assert report.rows == {"train": 3, "validation": 1}
    assert texts(report, "split-leakage") == [
        "dataset: error [split-leakage] video gs://b/v/0.mp4 is in train and validation "
        "— a clip's examples must all be in one split"
    ]


def test_a_file_not_named_after_its_split_keeps_its_own_name(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps(row(1)) + "\n" + json.dumps(row(1)) + "\n", encoding="utf-8")
    missing = VideoFacts(exists=False, size_bytes=None, duration_s=20.0, has_audio=True)
    report = validate_jsonl({"train": path}, facts=lambda _u: missing)
    assert texts(report, "video-exists")[0].startswith("mine.jsonl:1: error [video-exists] video not found")
    assert texts(report, "duplicates", "warning") == [
        "dataset: warning [duplicates] identical rows (1 row(s), first at mine.jsonl:2)"
    ]
