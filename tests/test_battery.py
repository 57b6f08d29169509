"""Battery import: accepted shapes, every bad-input case, idempotence, extra fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from humortune.errors import BatteryError, CorpusError
from humortune.workspace import Corpus

from .conftest import SAMPLE_BATTERY

ITEMS = [
    {
        "video_url": "https://www.tiktok.com/@kock/video/7301",
        "gemini_said": "En kock lagar mat.",
        "human_said": "Det roliga i detta klipp är den överdrivna dramatiken.",
        "question": "Q1",
    },
    {
        "video_url": "https://www.tiktok.com/@bar/video/7302",
        "gemini_said": "En bartender.",
        "human_said": "Det roliga i detta klipp är antiklimaxen.",
        "niche": "restaurant",
    },
]


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


@pytest.mark.parametrize(
    ("shape", "payload"),
    [
        ("json-list", ITEMS),
        ("json-object[examples]", {"name": "battery", "examples": ITEMS}),
        ("json-object[questions]", {"questions": ITEMS}),
        ("json-object[my_items]", {"meta": {"v": 1}, "my_items": ITEMS}),
    ],
)
def test_json_shapes(corpus: Corpus, tmp_path: Path, shape: str, payload: Any) -> None:
    report = corpus.import_battery(_write(tmp_path / "b.json", payload))
    assert (report.shape, report.added, report.problems) == (shape, 2, [])


def test_jsonl_shape(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in ITEMS) + "\n\n", "utf-8")
    report = corpus.import_battery(path)
    assert (report.shape, report.added) == ("jsonl", 2)


def test_reimport_changes_nothing(corpus: Corpus, tmp_path: Path) -> None:
    path = _write(tmp_path / "b.json", ITEMS)
    corpus.import_battery(path)
    before = corpus.db.query("SELECT * FROM corrections ORDER BY id")
    report = corpus.import_battery(path)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 2)
    assert [tuple(r) for r in corpus.db.query("SELECT * FROM corrections ORDER BY id")] == [tuple(r) for r in before]


def test_changed_correction_updates(corpus: Corpus, tmp_path: Path) -> None:
    corpus.import_battery(_write(tmp_path / "b.json", ITEMS))
    edited = [dict(ITEMS[0], human_said="Det roliga i detta klipp är något nytt."), ITEMS[1]]
    report = corpus.import_battery(_write(tmp_path / "b.json", edited))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)


def test_extra_fields_are_kept(corpus: Corpus, tmp_path: Path) -> None:
    corpus.import_battery(_write(tmp_path / "b.json", ITEMS))
    first = corpus.corrections()[0]
    assert first.extra == {"question": "Q1"}
    assert corpus.corrections(niche="restaurant")[0].video_url.endswith("7302")


def test_every_bad_item_reported_at_once(corpus: Corpus, tmp_path: Path) -> None:
    bad = [
        {"gemini_said": "x", "human_said": "h"},  # 0 missing url
        {"video_url": "https://www.tiktok.com/@a/video/1", "human_said": "   "},  # 1 empty
        {"video_url": "not a url", "human_said": "h"},  # 2 non-URL
        {"video_url": "https://www.tiktok.com/@a/photo/9", "human_said": "h"},  # 3 photo post
        {"video_url": "https://www.tiktok.com/@a/video/5", "human_said": "A"},  # 4 conflict …
        {"video_url": "https://m.tiktok.com/v/5.html", "human_said": "B"},  # 5 … same video
        {"video_url": "https://www.tiktok.com/@a/video/6", "human_said": 3},  # 6 not text
        {
            "video_url": "https://www.tiktok.com/@a/video/7",
            "human_said": "h",
            "record": {"category": "satire"},
        },  # 7 bad record
        "just a string",  # 8 not an object
        ITEMS[0],  # 9 valid
        ITEMS[0],  # 10 exact duplicate
    ]
    report = corpus.import_battery(_write(tmp_path / "bad.json", bad))
    text = "\n".join(report.problems)
    for expected in [
        "item 0: video_url: missing",
        "item 1: human_said: empty",
        "item 2: video_url: 'not a url' is not a URL",
        "item 3: video_url: this TikTok URL is a photo post",
        "item 5: video_url: same video as item 4 with a different human_said",
        "item 4: video_url: conflicts with a later item",
        "item 6: human_said: expected text, got int",
        "item 7: record: invalid record",
        "item 8: expected an object, got str",
    ]:
        assert expected in text, expected
    assert (report.added, report.duplicates) == (1, 1)
    assert [c.video_url for c in corpus.corrections()] == [ITEMS[0]["video_url"]]


def test_strict_imports_nothing(corpus: Corpus, tmp_path: Path) -> None:
    path = _write(tmp_path / "b.json", [*ITEMS, {"video_url": "nope", "human_said": "h"}])
    with pytest.raises(BatteryError) as excinfo:
        corpus.import_battery(path, strict=True)
    assert excinfo.value.problems == ["item 2: video_url: 'nope' is not a URL or a video file path"]
    assert corpus.corrections() == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("[1, 2", "not valid JSON"),
        ('{"a": 1}', "no list of items"),
        ("not json\n{\n", "line 1 is not valid JSON"),  # no line parses: not a JSONL battery at all
    ],
)
def test_unreadable_file(corpus: Corpus, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(CorpusError, match=message):
        corpus.import_battery(path)


def test_sample_battery_imports_cleanly(corpus: Corpus) -> None:
    report = corpus.import_battery(SAMPLE_BATTERY)
    assert report.problems == [] and report.added == 12
    urls = [c.video_url for c in corpus.corrections()]
    assert all(u.startswith("file://") and Path(u[7:]).is_file() for u in urls)
    assert sum(c.record is not None for c in corpus.corrections()) >= 6
