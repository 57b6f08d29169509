"""ReviewStore, ReviewQueue and BlindAB against a real corpus (no HTTP)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from humortune.errors import FeedbackError, RecordParseError
from humortune.feedback.abtest import BlindAB, ab_tally
from humortune.feedback.queue import QueueFilter, ReviewQueue, short_model
from humortune.feedback.review import (
    ReviewStore,
    field_diff,
    normalise_niche,
    record_from_form,
    review_correction_id,
)
from humortune.schema import HumorRecord, VideoAsset
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.workspace import Corpus
from tests._feedback_support import RECORD, add_analysis, add_correction, copy_clips, make_clips, store_clip

BASE = "gemini-2.5-flash"
TUNED = "projects/p/locations/us-central1/models/42@1"


@pytest.fixture(scope="module")
def clip_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_clips(tmp_path_factory.mktemp("clips"), count=3)


@pytest.fixture
def world(corpus: Corpus, tmp_path: Path, clip_files: list[Path]) -> tuple[Corpus, list[VideoAsset]]:
    storage = LocalStorage(tmp_path / "storage")
    videos = [store_clip(corpus, storage, p) for p in copy_clips(clip_files, tmp_path / "in")]
    return corpus, videos


def _owner_record(**changes: object) -> HumorRecord:
    return HumorRecord.model_validate({**RECORD, **changes})


# -- pure helpers ---------------------------------------------------------------------------------


def test_field_diff_lists_only_changed_fields() -> None:
    model = HumorRecord.model_validate(RECORD)
    owner = _owner_record(category="clever", replicable=False)
    diff = field_diff("Model text", model, "Model text", owner)
    assert diff == {
        "record.category": {"model": "comedy", "owner": "clever"},
        "record.replicable": {"model": True, "owner": False},
    }
    assert field_diff("same", model, " same ", model) == {}
    missing = field_diff("a", None, "b", model)
    assert set(missing) == {"narrative", *(f"record.{k}" for k in RECORD)}


def test_record_from_form_all_or_nothing() -> None:
    assert record_from_form({}) is None
    assert record_from_form({k: "  " for k in RECORD}) is None
    full = {k: str(v) for k, v in RECORD.items()}
    full["replicable"] = "ja"
    full["category"] = "Komedi"  # Swedish spellings are accepted on the server too
    assert record_from_form(full) == HumorRecord.model_validate(RECORD)
    with pytest.raises(RecordParseError) as missing:
        record_from_form({**full, "audience": ""})
    assert missing.value.field == "audience"
    with pytest.raises(RecordParseError) as bad:
        record_from_form({**full, "quality": "superb"})
    assert bad.value.field == "quality"
    with pytest.raises(RecordParseError):
        record_from_form({**full, "summary": "x" * 2001})


def test_normalise_niche() -> None:
    assert normalise_niche(" Restaurant ") == "restaurant"
    assert normalise_niche("fine dining") == "fine-dining"
    assert normalise_niche("") is None
    for bad in ("<script>", "../x", "a" * 41, "-lead"):
        with pytest.raises(FeedbackError):
            normalise_niche(bad)


def test_short_model() -> None:
    assert short_model(TUNED) == "models/42@1"
    assert short_model("projects/p/locations/l/endpoints/9") == "endpoints/9"
    assert short_model(BASE) == BASE


# -- saving ---------------------------------------------------------------------------------------


def test_save_creates_a_linked_review_correction_with_diff(world: tuple[Corpus, list[VideoAsset]]) -> None:
    corpus, videos = world
    corpus.db.execute(
        "INSERT INTO models (id, base_model, dataset_id, created_at) VALUES (?, ?, NULL, '2026-01-01')",
        (TUNED, BASE),
    )
    corpus.db.execute(
        "INSERT INTO dataset_versions (id, created_at, prompt_version, target_format,"
        " media_resolution, settings_json, manifest_json, storage_prefix)"
        " VALUES ('ds-1', '2026-01-01', 'p1', 'narrative', 'LOW', '{}', '{}', 'file:///x')"
    )
    corpus.db.execute("UPDATE models SET dataset_id = 'ds-1' WHERE id = ?", (TUNED,))
    add_correction(corpus, 0, videos[0], niche="restaurant", record=RECORD)
    aid = add_analysis(corpus, videos[0], TUNED, record=RECORD)
    store = ReviewStore(corpus)

    owner = _owner_record(mechanism="medvetet klumpig servitör som spelar på publikens förväntan")
    result = store.save(aid, narrative="Ägarens nya läsning.", record=owner, niche="Restaurant", verdict="FAIL")

    assert result.outcome == "added" and result.action == "edit"
    saved = corpus.correction(result.correction_id or "")
    assert saved is not None
    assert saved.source == "review" and saved.human_said == "Ägarens nya läsning."
    assert saved.record == owner and saved.niche == "restaurant"
    assert saved.gemini_said == "Modellen: en servitör snubblar men klarar sig."
    # same clip URL as the owner's battery correction, so it shares its canonical key (and split)
    assert saved.video_url == corpus.correction("c0").video_url  # type: ignore[union-attr]
    row = corpus.db.query_one("SELECT analysis_id, video_sha256 FROM corrections WHERE id = ?", (saved.id,))
    assert row is not None and row["analysis_id"] == aid and row["video_sha256"] == videos[0].sha256
    review = corpus.db.query_one("SELECT * FROM reviews WHERE id = ?", (result.review_id,))
    assert review is not None
    assert (review["model"], review["dataset_id"], review["analysis_id"]) == (TUNED, "ds-1", aid)
    diff = json.loads(review["diff_json"])
    assert diff["changed"] == ["narrative", "record.mechanism"]
    assert diff["fields"]["record.mechanism"]["owner"] == owner.mechanism
    label = corpus.db.query_one("SELECT * FROM owner_labels")
    assert label is not None and label["kind"] == "pass_fail"
    assert json.loads(label["payload_json"]) == {
        "verdict": "FAIL",
        "analysis_id": aid,
        "model": TUNED,
        "source": "review",
    }
    assert store.state(aid) == "edit"


def test_saving_again_updates_the_clip_correction(world: tuple[Corpus, list[VideoAsset]]) -> None:
    corpus, videos = world
    first = add_analysis(corpus, videos[1], BASE, record=RECORD)
    second = add_analysis(corpus, videos[1], TUNED, record=RECORD)
    store = ReviewStore(corpus)
    one = store.save(first, narrative="Första.", record=None)
    two = store.save(second, narrative="Andra.", record=None)
    assert one.correction_id == two.correction_id == review_correction_id(store.clip(first).analysis)  # type: ignore[union-attr]
    assert two.outcome == "updated"
    assert corpus.correction(two.correction_id or "").human_said == "Andra."  # type: ignore[union-attr]
    assert len(corpus.corrections(source="review")) == 1


def test_accept_stores_model_output_and_pass_label(world: tuple[Corpus, list[VideoAsset]]) -> None:
    corpus, videos = world
    aid = add_analysis(corpus, videos[0], BASE, narrative="Helt rätt.", record=RECORD)
    result = ReviewStore(corpus).accept(aid, niche="service")
    saved = corpus.correction(result.correction_id or "")
    assert saved is not None and saved.human_said == "Helt rätt." and saved.record == HumorRecord.model_validate(RECORD)
    assert result.diff == {} and result.action == "accept"
    labels = corpus.db.query("SELECT payload_json FROM owner_labels WHERE kind = 'pass_fail'")
    assert [json.loads(r[0])["verdict"] for r in labels] == ["PASS"]


def test_save_refuses_bad_input_and_writes_nothing(world: tuple[Corpus, list[VideoAsset]]) -> None:
    corpus, videos = world
    aid = add_analysis(corpus, videos[0], BASE)
    store = ReviewStore(corpus)
    with pytest.raises(FeedbackError):
        store.save(aid, narrative="   ", record=None)
    with pytest.raises(FeedbackError):
        store.save(aid, narrative="x" * 20_001, record=None)
    with pytest.raises(FeedbackError):
        store.save(aid, narrative="ok", record=None, niche="<b>")
    with pytest.raises(FeedbackError):
        store.save("an-missing", narrative="ok", record=None)
    assert corpus.status()["corrections"] == 0 and corpus.status()["reviews"] == 0


def test_save_is_atomic_when_a_step_fails(
    world: tuple[Corpus, list[VideoAsset]], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, videos = world
    aid = add_analysis(corpus, videos[0], BASE)
    store = ReviewStore(corpus)

    def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ReviewStore, "_append", boom)
    with pytest.raises(RuntimeError):
        store.save(aid, narrative="Ägaren.", record=None, verdict="PASS")
    assert corpus.status()["corrections"] == 0
    assert corpus.db.query_one("SELECT COUNT(*) FROM owner_labels")[0] == 0  # type: ignore[index]


# -- skip, niche, undo ---------------------------------------------------------------------------


def test_undo_is_a_stack_restoring_exact_rows(world: tuple[Corpus, list[VideoAsset]]) -> None:
    corpus, videos = world
    add_correction(corpus, 0, videos[0], record=RECORD)
    a1 = add_analysis(corpus, videos[0], BASE, record=RECORD)
    a2 = add_analysis(corpus, videos[0], TUNED, record=RECORD)
    store = ReviewStore(corpus)
    first = store.save(a1, narrative="Version 1.", record=None)
    snapshot = dict(corpus.db.query_one("SELECT * FROM corrections WHERE id = ?", (first.correction_id,)))  # type: ignore[arg-type]
    second = store.save(a2, narrative="Version 2.", record=None, verdict="PASS")
    assert store.state(a2) == "edit"

    undone = store.undo()
    assert undone is not None and undone.analysis_id == a2 and undone.action == "undo" and undone.undone == "edit"
    assert dict(corpus.db.query_one("SELECT * FROM corrections WHERE id = ?", (second.correction_id,))) == snapshot  # type: ignore[arg-type]
    assert corpus.db.query_one("SELECT COUNT(*) FROM owner_labels")[0] == 0  # type: ignore[index]
    assert store.state(a2) is None and store.state(a1) == "edit"

    assert store.undo() is not None  # the first save created the correction: undo removes it
    assert corpus.correction(first.correction_id or "") is None
    assert corpus.correction("c0") is not None  # the battery correction is untouched
    assert store.undo() is None  # nothing left in effect
    actions = [r[0] for r in corpus.db.query("SELECT action FROM reviews ORDER BY id")]
    assert actions == ["edit", "edit", "undo", "undo"]


def test_skip_and_undo_skip(world: tuple[Corpus, list[VideoAsset]]) -> None:
    corpus, videos = world
    aid = add_analysis(corpus, videos[0], BASE)
    store = ReviewStore(corpus)
    queue = ReviewQueue(corpus)
    assert queue.next() == aid
    store.skip(aid)
    assert queue.next() is None and store.state(aid) == "skip"
    assert corpus.status()["corrections"] == 0
    store.undo()
    assert queue.next() == aid


def test_tag_niche_on_every_correction_of_the_clip_and_undo(world: tuple[Corpus, list[VideoAsset]]) -> None:
    corpus, videos = world
    add_correction(corpus, 0, videos[0])
    aid = add_analysis(corpus, videos[0], BASE)
    store = ReviewStore(corpus)
    store.tag_niche(aid, "Restaurant")
    assert corpus.correction("c0").niche == "restaurant"  # type: ignore[union-attr]
    assert store.niches() == ["restaurant"]
    store.undo()
    assert corpus.correction("c0").niche is None  # type: ignore[union-attr]
    lonely = add_analysis(corpus, videos[1], BASE)
    with pytest.raises(FeedbackError, match="no correction"):
        store.tag_niche(lonely, "service")


def test_clip_shows_previous_correction_and_video(world: tuple[Corpus, list[VideoAsset]]) -> None:
    corpus, videos = world
    add_correction(corpus, 0, videos[0], niche="restaurant", record=RECORD)
    aid = add_analysis(corpus, videos[0], BASE)
    clip = ReviewStore(corpus).clip(aid)
    assert clip is not None
    assert clip.previous is not None and clip.previous.id == "c0" and clip.niche == "restaurant"
    assert clip.video == videos[0] and clip.state is None and clip.dataset_id is None
    assert ReviewStore(corpus).clip("an-nope") is None


def test_new_clip_without_correction_gets_a_url_from_its_video(world: tuple[Corpus, list[VideoAsset]]) -> None:
    corpus, videos = world
    aid = add_analysis(corpus, videos[2], BASE)
    result = ReviewStore(corpus).save(aid, narrative="Ny.", record=None)
    saved = corpus.correction(result.correction_id or "")
    assert saved is not None and saved.video_url == videos[2].uri  # file:// URI of the stored clip


# -- queue ----------------------------------------------------------------------------------------


def test_queue_reasons_filters_and_paging(world: tuple[Corpus, list[VideoAsset]]) -> None:
    corpus, videos = world
    add_correction(corpus, 0, videos[0], niche="restaurant", record=RECORD)
    add_correction(corpus, 1, videos[1], niche="service", record=RECORD)
    agree = add_analysis(corpus, videos[0], BASE, record=RECORD, minutes_ago=5)
    disagree = add_analysis(corpus, videos[0], TUNED, record={**RECORD, "category": "clever"}, minutes_ago=4)
    lonely = add_analysis(corpus, videos[2], BASE, record=RECORD, minutes_ago=1)
    low = add_analysis(corpus, videos[1], TUNED, record=RECORD, minutes_ago=3)
    corpus.db.execute(
        "INSERT INTO evaluations (id, model, created_at, summary_json) VALUES ('ev1', ?, '2026-01-01', '{}')", (TUNED,)
    )
    corpus.db.execute(
        "INSERT INTO evaluation_items (evaluation_id, correction_id, scores_json) VALUES ('ev1', 'c1', ?)",
        (json.dumps({"overall": 0.2}),),
    )
    queue = ReviewQueue(corpus)
    page = queue.page()
    order = [(i.analysis_id, i.reason) for i in page.items]
    # the BASE analysis of clip 0 agrees with the owner but not with TUNED: both are disagreements
    assert order == [(disagree, "disagreement"), (agree, "disagreement"), (low, "low_score"), (lonely, "new")]
    assert page.counts == {"disagreement": 2, "low_score": 1, "new": 1} and page.total == 4
    assert page.items[2].score == pytest.approx(0.2)
    assert page.niches == ["restaurant", "service"] and page.models == [BASE, TUNED]

    assert [i.analysis_id for i in queue.items(QueueFilter(niche="service"))] == [low]
    assert [i.analysis_id for i in queue.items(QueueFilter(model=BASE))] == [agree, lonely]
    assert [i.analysis_id for i in queue.items(QueueFilter(reason="new"))] == [lonely]
    assert queue.page(QueueFilter(reason="new")).total == 1
    # one row per clip, its outputs inside, most urgent clip first
    assert [r.clip for r in page.rows] == [videos[0].sha256, videos[1].sha256, videos[2].sha256]
    assert [i.analysis_id for i in page.rows[0].items] == [disagree, agree] and page.clips == 3
    assert page.rows[0].niche == "restaurant" and page.rows[0].correction_id == "c0"
    assert page.rows[2].source == videos[2].source_id  # no correction: the video's own id
    two = queue.page(page=2, per_page=2)
    assert [i.analysis_id for i in two.items] == [lonely] and two.pages == 2
    # base-model outputs can be left out (the review page does so by default)
    tuned_only = queue.page(QueueFilter(base=False))
    assert [i.analysis_id for i in tuned_only.items] == [disagree, low] and tuned_only.hidden_base == 2
    assert queue.page(QueueFilter(model=BASE, base=False)).total == 2  # naming a base model shows it
    assert queue.next(exclude=disagree) == agree

    ReviewStore(corpus).save(disagree, narrative="Ägaren.", record=HumorRecord.model_validate(RECORD))
    assert disagree not in [i.analysis_id for i in queue.items()]


def test_queue_shows_aliases(world: tuple[Corpus, list[VideoAsset]]) -> None:
    corpus, videos = world
    corpus.db.execute("INSERT INTO models (id, base_model, created_at) VALUES (?, ?, '2026-01-01')", (TUNED, BASE))
    corpus.db.execute("INSERT INTO aliases (name, model_id, updated_at) VALUES ('current', ?, '2026-01-01')", (TUNED,))
    add_analysis(corpus, videos[0], TUNED)
    assert ReviewQueue(corpus).page().aliases == {TUNED: ["current"]}


# -- blind A/B ------------------------------------------------------------------------------------


def test_blind_ab_pairs_record_choices_for_calibration(world: tuple[Corpus, list[VideoAsset]]) -> None:
    corpus, videos = world
    add_correction(corpus, 0, videos[0], record=RECORD)
    for video in videos[:2]:
        add_analysis(corpus, video, BASE, narrative="Bas.")
        add_analysis(corpus, video, TUNED, narrative="Tunad.")
    ab = BlindAB(corpus, rng=random.Random(3))
    assert ab.default_models() == (BASE, TUNED)
    sides = set()
    seen = set()
    while (pair := ab.next_pair(BASE, TUNED)) is not None:
        assert pair.video_sha256 not in seen
        seen.add(pair.video_sha256)
        sides.add(pair.a.model)
        assert TUNED not in pair.token and BASE not in pair.token  # the page carries no model names
        label_id = ab.record(pair.token, "a")
        assert ab.record(pair.token, "b") == label_id  # one choice per clip and pair
    assert seen == {videos[0].sha256, videos[1].sha256}
    rows = corpus.db.query("SELECT * FROM owner_labels WHERE kind = 'pairwise' ORDER BY id")
    payloads = [json.loads(r["payload_json"]) for r in rows]
    assert all(p["choice"] == "a" and p["winner"] == p["a_model"] for p in payloads)
    assert {p["a_analysis_id"] for p in payloads} | {p["b_analysis_id"] for p in payloads}
    clip0 = next(r for r in rows if r["video_sha256"] == videos[0].sha256)
    assert clip0["correction_id"] == "c0"  # the owner's reading is the calibration reference
    tally = ab_tally(corpus, TUNED, BASE)
    assert tally.n == 2 and tally.ties == 0 and tally.wins_a + tally.wins_b == 2


def test_blind_ab_order_is_random(world: tuple[Corpus, list[VideoAsset]]) -> None:
    corpus, videos = world
    add_analysis(corpus, videos[0], BASE)
    add_analysis(corpus, videos[0], TUNED)
    firsts = {BlindAB(corpus, rng=random.Random(seed)).next_pair(BASE, TUNED).a.model for seed in range(20)}  # type: ignore[union-attr]
    assert firsts == {BASE, TUNED}


def test_blind_ab_rejects_forged_tokens(world: tuple[Corpus, list[VideoAsset]]) -> None:
    corpus, videos = world
    add_analysis(corpus, videos[0], BASE)
    add_analysis(corpus, videos[0], TUNED)
    ab = BlindAB(corpus)
    pair = ab.next_pair(BASE, TUNED)
    assert pair is not None
    body, _, sig = pair.token.rpartition(".")
    for forged in (f"{body}.{'0' * len(sig)}", "garbage", f"{body[::-1]}.{sig}"):
        with pytest.raises(FeedbackError):
            ab.record(forged, "a")
    with pytest.raises(FeedbackError):
        BlindAB(corpus).record(pair.token, "a")  # another key: another app
    with pytest.raises(FeedbackError):
        ab.record(pair.token, "left")  # type: ignore[arg-type]
    with pytest.raises(FeedbackError):
        ab.next_pair(BASE, BASE)


# -- queue snapshot ---------------------------------------------------------------------------------


def _fresh(settings: Settings) -> list[tuple[object, ...]]:
    # A full recompute on another connection, so it cannot disturb the queue under test.
    with Corpus.open(settings=settings) as other:
        return [
            (i.analysis_id, i.reason, i.niche, i.category, i.quality, i.score) for i in ReviewQueue(other).snapshot()
        ]


def _count_rebuilds(queue: ReviewQueue, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    original = queue.table._fill  # the queue's SQL lives in its ReviewQueueStore

    def fill(sql: str, params: dict[str, Any]) -> None:
        calls.append("full" if sql == queue.table._all else "clip")
        original(sql, params)

    monkeypatch.setattr(queue.table, "_fill", fill)
    return calls


def test_queue_snapshot_refreshes_per_clip_and_matches_a_full_recompute(
    world: tuple[Corpus, list[VideoAsset]], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, videos = world
    add_correction(corpus, 0, videos[0], niche="restaurant", record=RECORD)
    add_correction(corpus, 1, videos[1], record=RECORD)
    ids = []
    for n, video in enumerate(videos):
        ids.append(add_analysis(corpus, video, BASE, record=RECORD, minutes_ago=n))
        ids.append(add_analysis(corpus, video, TUNED, record={**RECORD, "quality": "weak"}, minutes_ago=n + 0.5))
    queue = ReviewQueue(corpus)
    rebuilds = _count_rebuilds(queue, monkeypatch)
    store = ReviewStore(corpus)
    rng = random.Random(7)
    assert queue.snapshot() == queue.snapshot()
    assert rebuilds == ["full"]  # built once, then read while nothing changes
    for _ in range(25):
        aid = rng.choice(ids)
        op = rng.choice(["save", "accept", "skip", "undo", "niche"])
        record = HumorRecord.model_validate({**RECORD, "category": rng.choice(["comedy", "clever"])})

        def action(op: str = op, aid: str = aid, record: HumorRecord = record) -> object:
            if op == "save":
                return store.save(aid, narrative="Ägaren.", record=record, niche=rng.choice([None, "service"]))
            if op == "accept":
                return store.accept(aid)
            if op == "skip":
                return store.skip(aid)
            if op == "undo":
                return store.undo()
            try:
                return store.tag_niche(aid, "gym")
            except FeedbackError:
                return None

        result = queue.apply(action, lambda result: getattr(result, "analysis_id", None))
        assert queue._built is not None or result is None  # refreshed in place, not dropped
        assert [(i.analysis_id, i.reason, i.niche, i.category, i.quality, i.score) for i in queue.snapshot()] == _fresh(
            settings
        )
    assert rebuilds.count("full") == 1 and rebuilds.count("clip") >= 15  # only the reviewed clips were recomputed


def test_queue_snapshot_sees_outside_writes(
    world: tuple[Corpus, list[VideoAsset]], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, videos = world
    queue = ReviewQueue(corpus)
    rebuilds = _count_rebuilds(queue, monkeypatch)
    assert queue.snapshot() == []
    add_analysis(corpus, videos[0], BASE)  # same connection, outside the review UI
    assert len(queue.snapshot()) == 1
    with Corpus.open(settings=settings) as other:  # another connection (another process, e.g. `humortune analyze`)
        add_analysis(other, videos[1], BASE)
    assert len(queue.snapshot()) == 2
    assert rebuilds == ["full", "full", "full"]
    ab = BlindAB(corpus)
    add_analysis(corpus, videos[0], TUNED)
    snapshot = queue.snapshot()
    pair = ab.next_pair(BASE, TUNED)
    assert pair is not None
    queue.unaffected(lambda: ab.record(pair.token, "tie"))  # an A/B choice keeps the table
    assert queue.snapshot() == snapshot and rebuilds == ["full"] * 4
    corpus.db.execute("INSERT INTO owner_labels (kind, payload_json, created_at) VALUES ('pass_fail', '{}', 'x')")
    # SQLite counts every write; PostgreSQL's counter only the tables the queue reads (schema v5)
    rebuilt = 5 if corpus.db.dialect.name == "sqlite" else 4
    assert queue.snapshot() == snapshot and rebuilds == ["full"] * rebuilt
    with Corpus.open(settings=settings) as other:  # a review made elsewhere: rebuilt
        first = snapshot[0].analysis_id
        other.db.execute("INSERT INTO reviews (analysis_id, action, created_at) VALUES (?, 'skip', 'x')", (first,))
    assert len(queue.snapshot()) == len(snapshot) - 1 and rebuilds == ["full"] * (rebuilt + 1)
