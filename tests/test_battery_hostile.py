"""Hostile battery files: each gives one clear line (error or problem) or a clean import, and nothing
already imported changes (issue 15, item 5 and the battery items)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from humortune.cli import main
from humortune.errors import BatteryError, CorpusError
from humortune.workspace import Corpus

BASE = [
    {"id": "keep-1", "video_url": "https://www.tiktok.com/@a/video/7001", "human_said": "Ägarens ord, första."},
    {"id": "keep-2", "video_url": "https://www.tiktok.com/@a/video/7002", "human_said": "Ägarens ord, andra."},
]
GOOD = {"video_url": "https://www.tiktok.com/@h/video/7101", "human_said": "Det roliga är tajmingen, åäö."}
GOOD_JSON = json.dumps([GOOD], ensure_ascii=False)


def _snapshot(corpus: Corpus) -> list[tuple[str, str, str, str]]:
    rows = corpus.db.query("SELECT id, video_url, human_said, content_hash FROM corrections ORDER BY id")
    return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.fixture
def seeded(corpus: Corpus, tmp_path: Path) -> Corpus:
    path = tmp_path / "base.json"
    path.write_text(json.dumps(BASE, ensure_ascii=False), "utf-8")
    assert corpus.import_battery(path).added == 2
    return corpus


def _import(corpus: Corpus, path: Path) -> tuple[str, Any]:
    """('error', message) or ('report', ImportReport); anything else escapes and fails the test."""
    try:
        return "report", corpus.import_battery(path)
    except CorpusError as exc:
        return "error", str(exc)


NESTED = "[" * 100_000 + "]" * 100_000
HOSTILE: dict[str, bytes] = {
    "utf-16 with BOM": GOOD_JSON.encode("utf-16"),
    "utf-16-le without BOM": GOOD_JSON.encode("utf-16-le"),
    "utf-16-be without BOM": GOOD_JSON.encode("utf-16-be"),
    "utf-32 with BOM": GOOD_JSON.encode("utf-32"),
    "utf-8 with BOM": GOOD_JSON.encode("utf-8-sig"),
    "latin-1": GOOD_JSON.encode("latin-1"),
    "mixed utf-8 and latin-1": GOOD_JSON.encode("utf-8") + "\n# å".encode("latin-1"),
    "NUL in video_url": json.dumps([{**GOOD, "video_url": GOOD["video_url"] + "\x00.mp4"}]).encode(),
    "NUL in a local path": json.dumps([{**GOOD, "video_url": "clip\x00.mp4"}]).encode(),
    "raw NUL byte": b'[{"video_url": "x\x00", "human_said": "h"}]',
    "deep nesting": NESTED.encode(),
    "deep nesting in a field": json.dumps([{**GOOD, "record": 1}])
    .replace("1}", "[" * 50_000 + "]" * 50_000 + "}")
    .encode(),
    "deep nesting in a JSONL line": (json.dumps(GOOD) + "\n" + NESTED + "\n").encode(),
    "huge field": json.dumps([{**GOOD, "human_said": "ha" * 2_000_000}]).encode(),
    "huge id": json.dumps([{**GOOD, "id": "x" * 100_000}]).encode(),
    "id is a list": json.dumps([{**GOOD, "id": [1, 2]}]).encode(),
    "id is a bool": json.dumps([{**GOOD, "id": True}]).encode(),
    "niche is a dict": json.dumps([{**GOOD, "niche": {"a": 1}}]).encode(),
    "created_at is garbage": json.dumps([{**GOOD, "created_at": "igår"}]).encode(),
    "record is a list": json.dumps([{**GOOD, "record": [1]}]).encode(),
    "items are numbers": b"[1, 2.5, null, true]",
    "top level is a number": b"42",
    "top level is a string": b'"hej"',
    "binary garbage": bytes(range(256)) * 4,
    "claims to be a review correction": json.dumps([{**GOOD, "source": "review"}]).encode(),
    "same id for two clips": json.dumps(
        [{**GOOD, "id": "dup"}, {**GOOD, "id": "dup", "video_url": "https://www.tiktok.com/@h/video/7102"}]
    ).encode(),
    "id of an existing correction": json.dumps([{**GOOD, "id": "keep-1"}]).encode(),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_battery_is_one_line_or_clean(seeded: Corpus, tmp_path: Path, name: str) -> None:
    before = _snapshot(seeded)
    path = tmp_path / "hostile.json"
    path.write_bytes(HOSTILE[name])
    kind, result = _import(seeded, path)
    after = _snapshot(seeded)
    if name == "id of an existing correction":  # the owner re-pointing an id is a deliberate update
        assert kind == "report" and result.updated == 1
        return
    assert [r for r in after if r[0].startswith("keep-")] == before  # nothing already imported changed
    if kind == "error":
        assert "\n" not in result and "Traceback" not in result and len(result) < 600
        assert len(after) == len(before)
    else:
        assert result.added == len(after) - len(before)
        assert all("\n" not in p and len(p) < 600 for p in result.problems)
        assert result.added + result.skipped + result.duplicates >= 1


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig", "utf-32"])
def test_unicode_encodings_import_the_same_text(corpus: Corpus, tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(GOOD_JSON.encode(encoding))
    report = corpus.import_battery(path)
    assert (report.added, report.problems) == (1, [])
    assert corpus.corrections()[0].human_said == GOOD["human_said"]


def test_latin1_is_refused_with_the_line_and_a_fix(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(json.dumps([GOOD], ensure_ascii=False, indent=1).encode("latin-1"))
    with pytest.raises(CorpusError, match=r"not valid UTF-8 .*line 4.*Latin-1") as excinfo:
        corpus.import_battery(path)
    assert excinfo.value.hint is not None and "iconv" in excinfo.value.hint


def test_nul_in_video_url_is_a_problem_of_that_item(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps([{**GOOD, "video_url": "clip\x00.mp4"}, BASE[0]]), "utf-8")
    report = corpus.import_battery(path)
    assert report.added == 1 and report.skipped == 1
    assert report.problems == ["item 0: video_url: contains a NUL character; remove it"]


def test_nul_anywhere_in_an_item_is_a_problem_of_that_item(corpus: Corpus, tmp_path: Path) -> None:
    nested = {**GOOD, "record": {"summary": "a\x00b"}}
    extra = {**GOOD, "video_url": "https://www.tiktok.com/@h/video/7103", "tags": ["ok", {"k\x00": 1}]}
    path = tmp_path / "b.json"
    path.write_text(json.dumps([nested, extra, BASE[0]]), "utf-8")
    report = corpus.import_battery(path)
    assert report.added == 1 and report.skipped == 2
    assert report.problems == [
        "item 0: record.summary: contains a NUL character; remove it",
        "item 1: tags[1].k\\x00: contains a NUL character; remove it",
    ]
    assert _stored_nul(corpus) == []


def _stored_nul(corpus: Corpus) -> list[str]:
    """Stored correction texts holding a NUL, raw or as a JSON escape (none may: PostgreSQL cannot hold it)."""
    rows = corpus.db.query("SELECT * FROM corrections")
    return [v for r in rows for v in r if isinstance(v, str) and ("\x00" in v or "\\u0000" in v)]


def test_deep_nesting_is_one_error(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(NESTED)
    with pytest.raises(CorpusError, match="nested too deeply"):
        corpus.import_battery(path)


def test_duplicate_explicit_id_imports_neither_and_stays_idempotent(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    other = "https://www.tiktok.com/@h/video/7102"
    path.write_text(json.dumps([{**GOOD, "id": "dup"}, {**GOOD, "id": "dup", "video_url": other}, BASE[0]]))
    for _ in range(2):
        report = corpus.import_battery(path)
        assert "item 1 (id=dup): id: already used by item 0 for another video" in report.problems[0]
        assert report.skipped == 2 and report.updated == 0
    assert [c.id for c in corpus.corrections()] == ["keep-1"]
    with pytest.raises(BatteryError):
        corpus.import_battery(path, strict=True)


def test_a_battery_cannot_write_review_corrections(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps([{**GOOD, "source": "review"}]))
    report = corpus.import_battery(path)
    assert report.added == 0 and "reserved for corrections made in the review UI" in report.problems[0]
    assert corpus.corrections(source="review") == []


def test_jsonl_reports_every_bad_line_and_imports_the_good_ones(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    lines = [json.dumps(BASE[0]), "{not json", json.dumps(BASE[1]), "[1,", ""]
    path.write_text("\n".join(lines))
    report = corpus.import_battery(path)
    assert report.added == 2 and report.skipped == 2
    assert [p.split(":")[0] for p in report.problems] == ["item 1 (line 2)", "item 3 (line 4)"]
    with pytest.raises(BatteryError) as excinfo:
        Corpus.open(tmp_path / "strict.db").import_battery(path, strict=True)
    assert len(excinfo.value.problems) == 2


def test_cli_counts_skipped_items_not_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "b.json"
    # item 0 has two problems, item 1 one: 2 items skipped, 3 problems.
    path.write_text(json.dumps([{"gemini_said": 3}, {"video_url": "nope", "human_said": "h"}]))
    code = main(["-w", str(tmp_path / "ws"), "import", str(path)])
    err = capsys.readouterr().err
    assert code == 0 and "2 item(s) skipped, 4 problem(s)" in err


def test_cli_prints_one_line_for_an_undecodable_battery(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(GOOD_JSON.encode("latin-1"))
    code = main(["-w", str(tmp_path / "ws"), "import", str(path)])
    out, err = capsys.readouterr()
    assert code != 0 and "Traceback" not in out + err and "not valid UTF-8" in err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
        max_leaves=20,
    ),
    st.sampled_from(["utf-8", "utf-16", "utf-16-le", "latin-1"]),
)
def test_any_json_value_is_one_line_or_clean(seeded: Corpus, tmp_path: Path, value: Any, encoding: str) -> None:
    before = _snapshot(seeded)
    path = tmp_path / "any.json"
    path.write_bytes(json.dumps(value, ensure_ascii=False).encode(encoding, errors="replace"))
    kind, result = _import(seeded, path)
    assert [r for r in _snapshot(seeded) if r[0].startswith("keep-")] == before
    assert _stored_nul(seeded) == []  # a NUL anywhere is the item's problem, on both engines
    if kind == "error":
        assert "\n" not in result
    else:
        assert all("\n" not in p for p in result.problems)


def test_an_id_with_a_line_break_stays_on_one_problem_line(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "nl.json"
    path.write_text(json.dumps([{"id": "x\ny"}, {"\n": "\x00"}]), encoding="utf-8")
    problems = corpus.import_battery(path).problems
    assert len(problems) >= 2 and all("\n" not in p for p in problems)
    assert any("id=x\\ny" in p for p in problems) and any("item 1: \\n: contains a NUL" in p for p in problems)
