"""Synthetic evaluation data and a fake judge, for tests, benchmarks, examples and docs screenshots.

* `FakeJudge`: a deterministic judge backend (plain function interface, no HTTP) that agrees with a
  reference metric — PASS when the candidate's ROUGE-L against the owner clears a threshold, and the
  closer of two answers in pairwise mode — with an optional, controllable bias for whichever answer comes
  first (to exercise the position swap).
* `populate_evaluation`: a corpus of Swedish owner corrections with records, niches and stored-video
  rows, a frozen test split, registered models and cached analyses whose quality you choose per model.
* `simulate_owner_labels`: PASS/FAIL marks and blind A/B choices as an owner would give them, for
  calibrating the judges.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from humortune import catalog
from humortune._util import content_hash, short_hash
from humortune.analyzer.cache import analysis_id
from humortune.evaluator.metrics import rouge_l
from humortune.prompts import DEFAULT_PROMPT
from humortune.schema import Category, Correction, HumorRecord, Quality, VideoAsset, utcnow
from humortune.workspace import Corpus

__all__ = ["FakeJudge", "SyntheticCorpus", "populate_evaluation", "simulate_owner_labels"]

_SECTION = re.compile(r"<<<\n(.*?)\n>>>", re.DOTALL)

MECHANISMS = [
    "en oväntad vändning i sista sekunden",
    "en överdriven reaktion på en liten vardaglig motgång",
    "igenkänningen i en pinsam social tystnad",
    "ett missförstånd som eskalerar mellan två grannar",
    "kontrasten mellan förväntan och verklighet",
    "en hund som beter sig precis som en människa",
    "perfekt timing i en fysisk vurpa",
    "självironi om att misslyckas med en trend",
]
WHYS = [
    "alla har varit med om samma sak någon gång",
    "tittaren hinner bygga upp en förväntan som sedan bryts",
    "det är lätt att känna igen sig i den skamsna blicken",
    "överdriften gör något banalt till något episkt",
    "tajmingen är så exakt att det känns regisserat",
]
PEOPLE = ["En pappa", "En kassörska", "Två kompisar", "En mormor", "En student", "En kock", "En hundägare"]
ACTIONS = [
    "försöker baka en tårta",
    "ska parkera på en trång gata",
    "filmar en dansutmaning",
    "bär hem alla matkassar på en gång",
    "ska imponera på en dejt",
    "lagar en trasig cykel",
]
TWISTS = [
    "allt rasar i sista stund",
    "katten tar över hela scenen",
    "någon i bakgrunden stjäl uppmärksamheten",
    "det slutar precis tvärtom",
    "de ger upp och skrattar åt sig själva",
]
AUDIENCES = ["småbarnsföräldrar", "unga vuxna på TikTok", "hundälskare", "alla som jobbar i butik", "studenter"]
NICHES = ["restaurant", "pets", "family", "fitness", "retail"]
GENERIC = [
    "Videon är rolig och underhållande. Folk gillar sådana här klipp.",
    "Det här klippet är humoristiskt eftersom det är oväntat och relaterbart.",
    "En rolig video som många kommer att känna igen sig i.",
]


class FakeJudge:
    """A deterministic judge backend that agrees with ROUGE-L against the owner.

    ``position_bias`` (0–1) is the share of pairwise prompts on which it answers "A" whatever the texts
    say, chosen by a hash of the prompt, so the bias is reproducible. Call it like
    `humortune.gemini.GeminiClient.generate` (keyword arguments; returns the JSON text).
    """

    def __init__(self, *, threshold: float = 0.5, tie_margin: float = 0.02, position_bias: float = 0.0) -> None:
        self.threshold = threshold
        self.tie_margin = tie_margin
        self.position_bias = position_bias
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, *, model: str, prompt: str, response_schema: Any = None, **_: Any) -> str:
        with self._lock:
            self.calls += 1
        sections = _SECTION.findall(prompt)
        name = getattr(response_schema, "__name__", "")
        if name == "PreferenceVerdict" or len(sections) == 3:
            reference, a, b = sections
            if int(short_hash(["bias", prompt], 8), 16) / 16**8 < self.position_bias:
                return json.dumps({"preferred": "A", "reason": "A reads better (first position)"})
            sa, sb = rouge_l(a, reference), rouge_l(b, reference)
            if abs(sa - sb) <= self.tie_margin:
                return json.dumps({"preferred": "TIE", "reason": "both are equally close to the owner"})
            return json.dumps(
                {"preferred": "A" if sa > sb else "B", "reason": f"closer to the owner ({sa:.2f} vs {sb:.2f})"}
            )
        reference, candidate = sections
        score = rouge_l(candidate, reference)
        verdict = "PASS" if score >= self.threshold else "FAIL"
        return json.dumps({"verdict": verdict, "reason": f"word overlap with the owner {score:.2f}"})


@dataclass
class SyntheticCorpus:
    """What `populate_evaluation` created."""

    correction_ids: list[str] = field(default_factory=list)
    models: dict[str, float] = field(default_factory=dict)
    analyses: int = 0


def _owner(rng: random.Random) -> tuple[str, HumorRecord]:
    mechanism = rng.choice(MECHANISMS)
    summary = f"{rng.choice(PEOPLE)} {rng.choice(ACTIONS)} men {rng.choice(TWISTS)}."
    why = rng.choice(WHYS)
    record = HumorRecord(
        summary=summary,
        mechanism=mechanism,
        why_it_works=why.capitalize() + ".",
        audience=rng.choice(AUDIENCES),
        category=rng.choice(list(Category)),
        quality=rng.choice(list(Quality)),
        replicable=rng.random() < 0.6,
    )
    return f"Det roliga i detta klipp är {mechanism}. {summary} Det fungerar för att {why}.", record


def _answer(rng: random.Random, owner: HumorRecord, quality: float) -> tuple[str, HumorRecord]:
    good = rng.random() < quality
    mechanism = owner.mechanism if good else rng.choice([m for m in MECHANISMS if m != owner.mechanism])
    why = owner.why_it_works.rstrip(".").lower() if good else rng.choice(WHYS)
    summary = owner.summary if rng.random() < quality else f"{rng.choice(PEOPLE)} {rng.choice(ACTIONS)}."
    record = HumorRecord(
        summary=summary,
        mechanism=mechanism,
        why_it_works=why.capitalize() + ".",
        audience=owner.audience if rng.random() < quality else rng.choice(AUDIENCES),
        category=owner.category if rng.random() < quality else rng.choice(list(Category)),
        quality=owner.quality if rng.random() < quality else rng.choice(list(Quality)),
        replicable=owner.replicable if rng.random() < quality else not owner.replicable,
    )
    if good:
        return f"Det roliga i detta klipp är {mechanism}. {summary} Det fungerar för att {why}.", record
    return f"Klippet bygger på {mechanism}. {summary} Många delar det eftersom {why}.", record


def populate_evaluation(
    corpus: Corpus,
    n: int,
    *,
    models: Mapping[str, float],
    seed: int = 0,
    base_model: str | None = None,
    niches: list[str] | None = None,
    test_share: float = 1.0,
    with_record: float = 0.8,
    old_answers: bool = True,
) -> SyntheticCorpus:
    """Fill ``corpus`` with ``n`` owner corrections and cached analyses by ``models`` (name → quality 0–1).

    Quality is the chance that a model's answer names the owner's mechanism (and gets each record field
    right). Models that are not base models are registered in ``models`` as tuned from ``base_model``.
    ``test_share`` of the clips are assigned to the held-out test split; ``with_record`` of the
    corrections carry an owner record. Deterministic for a given ``seed``.
    """
    rng = random.Random(seed)
    base_model = base_model or catalog.default_base_model().id
    niches = niches or NICHES
    out = SyntheticCorpus(models=dict(models))
    now = utcnow().isoformat(timespec="microseconds")
    db = corpus.db
    with db.transaction() as conn:
        for name in models:
            if name.startswith("projects/"):
                conn.execute(
                    "INSERT OR IGNORE INTO models (id, endpoint, base_model, prompt_version, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        name,
                        name.split("@")[0].replace("/models/", "/endpoints/"),
                        base_model,
                        DEFAULT_PROMPT.version,
                        now,
                    ),
                )
        for i in range(n):
            owner_text, record = _owner(rng)
            video_id = 7_300_000_000_000_000_000 + seed * 1_000_000 + i
            correction = Correction(
                id=f"syn-{seed}-{i:05d}",
                video_url=f"https://www.tiktok.com/@demo/video/{video_id}",
                gemini_said=rng.choice(GENERIC) if old_answers else None,
                human_said=owner_text,
                record=record if rng.random() < with_record else None,
                niche=rng.choice(niches),
            )
            corpus.add_correction(correction)
            sha = content_hash(f"synthetic-video-{seed}-{i}")
            asset = VideoAsset(
                sha256=sha, source_id=str(video_id), size_bytes=120_000, duration_s=8.0, width=720, height=1280,
                codec="h264", fps=30.0, has_audio=True, uri=f"file:///synthetic/{sha}.mp4",
            )  # fmt: skip
            corpus.add_video(asset)
            key = f"tiktok:{video_id}"
            corpus.link_video(key, sha)
            if rng.random() < test_share:
                conn.execute(
                    "INSERT OR IGNORE INTO split_assignments (video_key, split, seed, assigned_at) VALUES (?, ?, ?, ?)",
                    (key, "test", str(seed), now),
                )
            out.correction_ids.append(correction.id)
            for name, quality in models.items():
                text, answer = _answer(rng, record, quality)
                model_id = name.removeprefix("publishers/google/models/")
                conn.execute(
                    "INSERT OR REPLACE INTO analyses (id, video_sha256, video_uri, model, prompt_version, mode,"
                    " narrative, record_json, created_at) VALUES (?, ?, ?, ?, ?, 'two-stage', ?, ?, ?)",
                    (
                        analysis_id(
                            video_sha256=sha,
                            video_uri=asset.uri,
                            model=model_id,
                            prompt_version=DEFAULT_PROMPT.version,
                            mode="two-stage",
                        ),
                        sha,
                        asset.uri,
                        model_id,
                        DEFAULT_PROMPT.version,
                        text,
                        answer.model_dump_json(),
                        now,
                    ),
                )
                out.analyses += 1
    return out


def simulate_owner_labels(corpus: Corpus, *, a: str, b: str, limit: int = 40) -> int:
    """Store owner labels as an owner would give them in the review UI, for clips with an owner record.

    The simulated owner says PASS when model ``a``'s record names the owner's own mechanism, and in a blind
    A/B prefers whichever of ``a`` and ``b`` names it (a tie when both or neither do). Returns how many
    labels were stored (two per clip).
    """
    rows = corpus.db.query(
        "SELECT c.id, c.record_json, x.id AS a_id, x.record_json AS a_rec, y.id AS b_id, y.record_json AS b_rec"
        " FROM corrections c JOIN analyses x ON x.video_sha256 = c.video_sha256 AND x.model = ?"
        " JOIN analyses y ON y.video_sha256 = c.video_sha256 AND y.model = ?"
        " WHERE c.record_json IS NOT NULL ORDER BY c.id LIMIT ?",
        (a, b, limit),
    )
    now = utcnow().isoformat(timespec="microseconds")
    stored = 0
    with corpus.db.transaction() as conn:
        for row in rows:
            owner = json.loads(row["record_json"])["mechanism"]
            a_right = json.loads(row["a_rec"])["mechanism"] == owner
            b_right = json.loads(row["b_rec"])["mechanism"] == owner
            choice = "tie" if a_right == b_right else ("a" if a_right else "b")
            for kind, payload in (
                ("pass_fail", {"verdict": "PASS" if a_right else "FAIL", "analysis_id": row["a_id"]}),
                ("pairwise", {"choice": choice, "a_analysis_id": row["a_id"], "b_analysis_id": row["b_id"]}),
            ):
                conn.execute(
                    "INSERT INTO owner_labels (kind, correction_id, payload_json, created_at) VALUES (?, ?, ?, ?)",
                    (kind, row["id"], json.dumps({**payload, "source": "simulated"}), now),
                )
                stored += 1
    return stored
