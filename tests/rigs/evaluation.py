"""Synthetic evaluation workspaces for tests and benchmarks, written on the typed stores (no SQL).

* `populate_evaluation`: a corpus of Swedish owner corrections with records, niches and stored-video
  rows, a frozen test split, registered models and cached analyses whose quality you choose per model.
* `simulate_owner_labels`: PASS/FAIL marks and blind A/B choices as an owner would give them, for
  calibrating the judges.

The offline judge that agrees with these texts is the product's `humortune.evaluator.judge.LexicalJudge`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from humortune import catalog
from humortune._util import content_hash
from humortune.analyzer.cache import analysis_id
from humortune.prompts import DEFAULT_PROMPT
from humortune.schema import Analysis, Correction, HumorRecord, TunedModel, VideoAsset, utcnow
from humortune.testing.synthetic import GENERIC, NICHES, model_answer, owner_correction
from humortune.workspace import Corpus, Stores

__all__ = ["SyntheticCorpus", "populate_evaluation", "simulate_owner_labels"]


@dataclass
class SyntheticCorpus:
    """What `populate_evaluation` created."""

    correction_ids: list[str] = field(default_factory=list)
    models: dict[str, float] = field(default_factory=dict)
    analyses: int = 0


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
    out = SyntheticCorpus(models=dict(models))
    stores, now = Stores.of(corpus.db), utcnow()
    with corpus.db.transaction():
        _register_tuned(stores, models, base_model=base_model, now=now)
        for i in range(n):
            owner_text, record = owner_correction(rng)
            video_id = 7_300_000_000_000_000_000 + seed * 1_000_000 + i
            correction = Correction(
                id=f"syn-{seed}-{i:05d}",
                video_url=f"https://www.tiktok.com/@demo/video/{video_id}",
                gemini_said=rng.choice(GENERIC) if old_answers else None,
                human_said=owner_text,
                record=record if rng.random() < with_record else None,
                niche=rng.choice(niches or NICHES),
            )
            corpus.add_correction(correction)
            asset = _video(seed, i, video_id)
            corpus.add_video(asset)
            key = f"tiktok:{video_id}"
            corpus.link_video(key, asset.sha256)
            if rng.random() < test_share:
                stores.datasets.assign(key, "test", seed=str(seed))
            out.correction_ids.append(correction.id)
            for name, quality in models.items():
                text, answer = model_answer(rng, record, quality)
                stores.analyses.put(_analysis(asset, name.removeprefix("publishers/google/models/"), text, answer, now))
                out.analyses += 1
    return out


def _register_tuned(stores: Stores, models: Mapping[str, float], *, base_model: str, now: datetime) -> None:
    for name in models:
        if name.startswith("projects/") and not stores.models.exists(name):
            endpoint = name.split("@")[0].replace("/models/", "/endpoints/")
            stores.models.register(
                TunedModel(
                    id=name, endpoint=endpoint, base_model=base_model, prompt_version=DEFAULT_PROMPT.version,
                    created_at=now,
                )
            )  # fmt: skip


def _video(seed: int, i: int, video_id: int) -> VideoAsset:
    sha = content_hash(f"synthetic-video-{seed}-{i}")
    return VideoAsset(
        sha256=sha, source_id=str(video_id), size_bytes=120_000, duration_s=8.0, width=720, height=1280,
        codec="h264", fps=30.0, has_audio=True, uri=f"file:///synthetic/{sha}.mp4",
    )  # fmt: skip


def _analysis(asset: VideoAsset, model: str, text: str, answer: HumorRecord, now: datetime) -> Analysis:
    version = DEFAULT_PROMPT.version
    key = analysis_id(
        video_sha256=asset.sha256, video_uri=asset.uri, model=model, prompt_version=version, mode="two-stage"
    )
    return Analysis(
        id=key, video_sha256=asset.sha256, video_uri=asset.uri, narrative=text, record=answer, model=model,
        prompt_version=version, mode="two-stage", created_at=now,
    )  # fmt: skip


def simulate_owner_labels(corpus: Corpus, *, a: str, b: str, limit: int = 40) -> int:
    """Store owner labels as an owner would give them in the review UI, for clips with an owner record.

    The simulated owner says PASS when model ``a``'s record names the owner's own mechanism, and in a blind
    A/B prefers whichever of ``a`` and ``b`` names it (a tie when both or neither do). Returns how many
    labels were stored (two per clip).
    """
    stores = Stores.of(corpus.db)
    pairs = {p.video_sha256: p for p in stores.analyses.pairs(a, b)}
    owned = [s for s in stores.corrections.sources() if s.record_json is not None and s.video_sha256 in pairs]
    stored = 0
    with corpus.db.transaction():
        for source in owned[:limit]:
            pair = pairs[source.video_sha256 or ""]
            owner = HumorRecord.model_validate_json(source.record_json or "{}").mechanism
            a_right = _mechanism(stores, pair.first_id) == owner
            b_right = _mechanism(stores, pair.second_id) == owner
            choice = "tie" if a_right == b_right else ("a" if a_right else "b")
            verdict = "PASS" if a_right else "FAIL"
            stores.labels.add(
                "pass_fail",
                {"verdict": verdict, "analysis_id": pair.first_id, "source": "simulated"},
                correction_id=source.correction_id,
            )
            stores.labels.add(
                "pairwise",
                {
                    "choice": choice,
                    "a_analysis_id": pair.first_id,
                    "b_analysis_id": pair.second_id,
                    "source": "simulated",
                },
                correction_id=source.correction_id,
            )
            stored += 2
    return stored


def _mechanism(stores: Stores, analysis_id: str) -> str | None:
    analysis = stores.analyses.get(analysis_id)
    return analysis.record.mechanism if analysis is not None and analysis.record is not None else None
