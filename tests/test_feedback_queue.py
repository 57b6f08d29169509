"""ReviewQueue against a reference computed in Python from the raw rows, on a deliberately untidy corpus."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from humortune.feedback.queue import _ALL, REASONS, RECORD_KEY, ReviewQueue
from humortune.workspace import Corpus
from humortune.workspace.migrations import MIGRATIONS

MODELS = ["base", "tuned", "other"]
CATEGORIES = ["comedy", "clever", "chaotic"]
SCORE_SHAPES: list[Any] = [
    lambda r: {"overall": r.random()},
    lambda r: {"overall": None, "score": r.random()},
    lambda r: {"judge": {"score": r.random(), "passed": True}},
    lambda r: {"judge": {"passed": r.random() < 0.5}},
    lambda r: {"mechanism": {"score": r.random()}},
    lambda r: {"record": {"mean": r.random()}},
    lambda r: {"mechanism_pass": r.random() < 0.5},
    lambda r: {},
]


def _record(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.15:
        return None
    if roll < 0.2:
        return "{broken"  # a record the analyzer could not store as JSON: no key, but never an error
    return json.dumps(
        {"summary": "s", "category": rng.choice(CATEGORIES), "quality": rng.choice(["good", "weak"]),
         "replicable": rng.choice([True, False, None])}
    )  # fmt: skip


def _key(record_json: str | None) -> list[Any] | None:
    try:
        data = json.loads(record_json) if record_json is not None else None
    except ValueError:
        return None
    if data is None:
        return None
    return [data.get(k) if isinstance(data, dict) else None for k in ("category", "quality", "replicable")]


def _key_text(key: list[Any]) -> str:
    return json.dumps(key, separators=(",", ":"))


def _untidy(corpus: Corpus, seed: int) -> None:
    """Clips with several corrections (ties on updated_at, no record, no niche), analyses without a clip or a
    record, undone and redone reviews, several evaluations per model in every score shape."""
    rng = random.Random(seed)
    shas = [f"{n:064x}" for n in range(40)]
    stamps = [f"2026-01-0{d}T00:00:00.000000" for d in range(1, 4)]
    with corpus.db.transaction() as conn:
        for sha in shas:
            conn.execute(
                "INSERT INTO videos VALUES (?, ?, 1, 1.0, 1, 1, 'h264', 1.0, 1, 'video/mp4', 'mp4', 'file:///v', 'x')",
                (sha, sha[-6:]),
            )
        for n in range(70):
            sha = rng.choice([*shas, None])
            stamp = rng.choice(stamps)
            conn.execute(
                "INSERT INTO corrections (id, video_url, video_key, human_said, record_json, niche, source,"
                " content_hash, video_sha256, created_at, updated_at) VALUES (?, 'u', ?, 'h', ?, ?, 'battery', 'h',"
                " ?, ?, ?)",
                (f"c{n}", f"k{n}", _record(rng), rng.choice(["gym", "zoo", "", None]), sha, stamp, stamp),
            )
        for n in range(90):
            conn.execute(
                "INSERT INTO analyses (id, video_sha256, video_uri, model, prompt_version, mode, narrative,"
                " record_json, created_at) VALUES (?, ?, 'u', ?, ?, 'm', 'n', ?, ?)",
                (f"a{n:02d}", rng.choice([*shas[:30], None]), rng.choice(MODELS), f"p{n}", _record(rng),
                 f"2026-02-{rng.randint(1, 9):02d}"),
            )  # fmt: skip
        for _ in range(80):
            action = rng.choice(["edit", "accept", "skip", "niche", "undo", "undo"])
            aid = rng.choice([f"a{n:02d}" for n in range(90)] + [None])
            conn.execute("INSERT INTO reviews (analysis_id, action, created_at) VALUES (?, ?, 'x')", (aid, action))
        for n, model in enumerate(MODELS[:2] * 2):
            conn.execute(
                "INSERT INTO evaluations (id, model, created_at, summary_json) VALUES (?, ?, ?, '{}')",
                (f"ev{n}", model, f"2026-03-0{n + 1}"),
            )
            for cid in rng.sample([f"c{i}" for i in range(70)], 35):
                conn.execute(
                    "INSERT INTO evaluation_items VALUES (?, ?, ?)",
                    (f"ev{n}", cid, json.dumps(rng.choice(SCORE_SHAPES)(rng))),
                )


def _score(scores_json: str) -> float | None:
    data = json.loads(scores_json)
    for path in ("overall", "score", "judge.score", "mechanism.score", "record.mean", "judge.passed", "mechanism_pass"):
        value: Any = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            return float(value)
    return None


def _reference(corpus: Corpus, low: float) -> list[tuple[Any, ...]]:
    """The queue as its docstring defines it, computed row by row in Python."""
    db = corpus.db
    corrections = [dict(r) for r in db.query("SELECT * FROM corrections")]
    analyses = [dict(r) for r in db.query("SELECT * FROM analyses")]
    last: dict[str, str] = {}
    for review in db.query("SELECT analysis_id, action FROM reviews WHERE analysis_id IS NOT NULL ORDER BY id"):
        last[review["analysis_id"]] = review["action"]
    latest: dict[str, tuple[str, str]] = {}
    for ev in db.query("SELECT id, model, created_at FROM evaluations"):
        if ev["model"] not in latest or ev["created_at"] > latest[ev["model"]][0]:
            latest[ev["model"]] = (ev["created_at"], ev["id"])
    items = {
        (r[0], r[1]): r[2] for r in db.query("SELECT evaluation_id, correction_id, scores_json FROM evaluation_items")
    }
    out = []
    for a in analyses:
        if last.get(a["id"], "undo") != "undo":
            continue
        sha, key = a["video_sha256"], _key(a["record_json"])
        clip = [c for c in corrections if sha is not None and c["video_sha256"] == sha]
        owners = [(c["updated_at"], _key_text(k)) for c in clip if (k := _key(c["record_json"])) is not None]
        niches = [(c["updated_at"], c["niche"]) for c in clip if c["niche"] is not None]
        others = [k for b in analyses if sha is not None and b["video_sha256"] == sha and (k := _key(b["record_json"]))]
        evaluation = latest.get(a["model"], ("", None))[1]
        scores = [
            s for c in clip if (evaluation, c["id"]) in items if (s := _score(items[evaluation, c["id"]])) is not None
        ]
        score = min(scores) if scores else None
        if key is not None and ((owners and _key_text(key) != max(owners)[1]) or any(k != key for k in others)):
            rank = 0
        elif score is not None and score < low:
            rank = 1
        else:
            rank = 2
        out.append((rank, a["created_at"], a["id"], max(niches)[1] if niches else None, key, score))
    out.sort(key=lambda row: row[2])
    out.sort(key=lambda row: row[1], reverse=True)
    out.sort(key=lambda row: row[0])
    return [(aid, REASONS[rank], niche, key, score) for rank, _, aid, niche, key, score in out]


def test_queue_matches_a_reference_computed_row_by_row(corpus: Corpus) -> None:
    for seed in range(3):
        if seed:
            with corpus.db.transaction() as conn:
                for table in ("evaluation_items", "evaluations", "reviews", "analyses", "corrections", "videos"):
                    conn.execute(f"DELETE FROM {table}")
        _untidy(corpus, seed)
        want = _reference(corpus, low=0.5)
        got = [
            (i.analysis_id, i.reason, i.niche, json.loads(i.record_key) if i.record_key else None, i.score)
            for i in ReviewQueue(corpus, low_score=0.5).snapshot()
        ]
        assert got == want
        assert {r[1] for r in want} == set(REASONS)  # every reason is exercised
        assert any(r[2] == "" for r in want) and any(r[3] is None for r in want)


def test_broken_record_waits_as_new_without_a_key(corpus: Corpus) -> None:
    with corpus.db.transaction() as conn:
        conn.execute(
            "INSERT INTO analyses (id, video_sha256, video_uri, model, prompt_version, mode, narrative, record_json,"
            " created_at) VALUES ('a1', NULL, 'u', 'm', 'p', 'x', 'n', '{\"category\": ', '2026-01-01')"
        )
    [item] = ReviewQueue(corpus).snapshot()
    assert (item.analysis_id, item.reason, item.record_key, item.category) == ("a1", "new", None, None)


def test_full_rebuild_walks_the_queue_indexes(tmp_path: Path) -> None:
    corpus = Corpus.open(tmp_path / "plan.db")  # SQLite's plan; PostgreSQL has its own planner
    assert MIGRATIONS[1].count(RECORD_KEY) == 2  # the query's record key is the one stored in the indexes
    plan = [str(r[3]) for r in corpus.db.query("EXPLAIN QUERY PLAN " + _ALL, {"low": 0.5})]
    text = "\n".join(plan)
    assert "SCAN a USING INDEX analyses_clip" in text
    assert "corrections_clip (video_sha256=?)" in text and "reviews_analysis (analysis_id=?)" in text
    # no table is sorted or indexed on the fly; only the per-model latest evaluation (one row per model) is
    assert [line for line in plan if "AUTOMATIC" in line] == [
        "SEARCH e USING AUTOMATIC COVERING INDEX (model=?) LEFT-JOIN"
    ]
    assert sum("TEMP B-TREE" in line for line in plan) <= 1
