"""ReviewLog and CorrectionStore: the review UI's log, and the correction snapshots an undo restores."""

from __future__ import annotations

from humortune.schema import Analysis
from humortune.workspace import Corpus
from humortune.workspace.stores import AnalysisStore, CorrectionStore, ReviewEvent, ReviewLog
from tests._workspace_support import add_clip, sha


def _analysis(corpus: Corpus, n: int) -> str:
    aid = f"an-{n}"
    AnalysisStore(corpus.db).put(
        Analysis(id=aid, video_sha256=sha(n), video_uri="file:///v.mp4", narrative="n", model="m", prompt_version="p")
    )
    return aid


def test_append_get_and_last_action(corpus: Corpus) -> None:
    cid, aid = add_clip(corpus, 1), _analysis(corpus, 1)
    log = ReviewLog(corpus.db)
    rid = log.append(ReviewEvent(correction_id=cid, analysis_id=aid, model="m", action="edit", diff={"x": 1}))
    got = log.get(rid)
    assert got is not None
    assert (got.correction_id, got.analysis_id, got.action, got.diff) == (cid, aid, "edit", {"x": 1})
    assert got.created_at is not None
    assert log.last_action(aid) == "edit"
    log.append(ReviewEvent(analysis_id=aid, action="undo", diff={"undoes": rid}))
    assert log.last_action(aid) == "undo"
    assert log.last_action("an-none") is None
    assert log.get(9999) is None


def test_last_undoable_skips_what_was_undone(corpus: Corpus) -> None:
    aid = _analysis(corpus, 1)
    log = ReviewLog(corpus.db)
    assert log.last_undoable() is None
    first = log.append(ReviewEvent(analysis_id=aid, action="accept"))
    second = log.append(ReviewEvent(analysis_id=aid, action="niche"))
    assert log.last_undoable() == log.get(second)
    undo = log.append(ReviewEvent(analysis_id=aid, action="undo", diff={"undoes": second}))
    undoable = log.last_undoable()
    assert undoable is not None and undoable.id == first
    assert log.get(undo) is not None and log.get(undo).undoes == second  # type: ignore[union-attr]
    log.append(ReviewEvent(analysis_id=aid, action="undo", diff={}))  # an undo that names nothing
    undoable = log.last_undoable()
    assert undoable is not None and undoable.id == first  # does not hide every review (NOT IN with NULL)


def test_snapshot_and_restore_put_a_correction_back_exactly(corpus: Corpus) -> None:
    cid = add_clip(corpus, 1, niche="gym")
    store = CorrectionStore(corpus.db)
    before = store.snapshot(cid)
    assert before is not None and before.row["niche"] == "gym" and before.row["video_sha256"] == sha(1)
    current = corpus.correction(cid)
    assert current is not None
    corpus.add_correction(current.model_copy(update={"niche": "food", "human_said": "Ändrat."}))
    store.restore(before)
    assert store.snapshot(cid) == before
    restored = corpus.correction(cid)
    assert restored is not None and (restored.niche, restored.human_said) == ("gym", current.human_said)


def test_restore_ignores_columns_the_table_does_not_have(corpus: Corpus) -> None:
    cid = add_clip(corpus, 1)
    store = CorrectionStore(corpus.db)
    snap = store.snapshot(cid)
    assert snap is not None
    store.restore(snap.model_copy(update={"row": {**snap.row, "niche = 'x', human_said": "injected"}}))
    assert store.snapshot(cid) == snap


def test_delete_a_review_created_correction_after_detaching_its_reviews(corpus: Corpus) -> None:
    cid, aid = add_clip(corpus, 1), _analysis(corpus, 1)
    log, store = ReviewLog(corpus.db), CorrectionStore(corpus.db)
    rid = log.append(ReviewEvent(correction_id=cid, analysis_id=aid, action="edit"))
    assert log.detach_correction(cid) == 1
    assert store.delete(cid) is True and not store.exists(cid) and store.delete(cid) is False
    got = log.get(rid)
    assert got is not None and got.correction_id is None


def test_clip_lookups_link_and_niches(corpus: Corpus) -> None:
    add_clip(corpus, 1, niche="gym", cid="c1-battery")
    add_clip(corpus, 1, niche="food", cid="c1-review")  # the same clip, corrected again later
    add_clip(corpus, 2, niche="gym", ingested=False)
    store = CorrectionStore(corpus.db)
    latest = store.latest_for_clip(sha(1))
    assert latest is not None and latest.id == "c1-review" and latest.video_key == "tiktok:7300000000000000001"
    assert [s.id for s in store.snapshots_for_clip(sha(1))] == ["c1-battery", "c1-review"]
    assert store.latest_niche(video_sha256=sha(1)) == "food"
    assert store.latest_niche(video_key="tiktok:7300000000000000002") == "gym"
    assert store.latest_niche() is None
    assert store.niches() == ["food", "gym"]
    assert [(c.niche, c.corrections, c.usable) for c in store.niche_counts()] == [("food", 1, 1), ("gym", 2, 1)]
    aid = _analysis(corpus, 1)
    store.link_analysis("c1-review", aid, video_sha256=None)
    snap = store.snapshot("c1-review")
    assert snap is not None and snap.row["analysis_id"] == aid and snap.row["video_sha256"] == sha(1)


def test_for_clips_lists_every_correction_oldest_change_first(corpus: Corpus) -> None:
    add_clip(corpus, 2, cid="b")
    add_clip(corpus, 1, cid="a")
    add_clip(corpus, 1, cid="c")
    add_clip(corpus, 3, cid="d")
    store = CorrectionStore(corpus.db)
    found = store.for_clips([sha(1), sha(2), *(sha(100 + i) for i in range(600))])
    assert [c.id for c in found] == ["b", "a", "c"]
    assert {c.video_sha256 for c in found} == {sha(1), sha(2)}
    assert store.for_clips([]) == []
