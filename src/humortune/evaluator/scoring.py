"""Scoring held-out clips: reference metrics, judge verdicts, composite scores, paired outcomes, summaries.

A clip's *composite score* for one system is the mean of the parts that apply, each in 0–1: chrF/100 and
ROUGE-L against the owner's text, the mechanism judge's PASS (1) or FAIL (0) when judges run, and the mean
record-field agreement when the owner gave a record (the old answer has no record, so it is not scored
there). Both systems of a pair always have the same parts for the same clip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from humortune._util import short_hash
from humortune.evaluator.judge import MechanismJudge, MechanismJudgement, NotCached, PairwiseJudge, cache_only
from humortune.evaluator.metrics import TEXT_FIELDS, FieldAccuracy, chrf, rouge_l, score_record
from humortune.evaluator.results import Answer, ClipResult, SystemSummary
from humortune.evaluator.stats import Outcome, PairedStats, outcome_from_scores, paired_stats, slice_stats
from humortune.schema import HumorRecord
from humortune.workspace import Entry

__all__ = [
    "SLICE_KEYS",
    "TEXT_METRICS_VERSION",
    "TextScoreCache",
    "build_clips",
    "pair_clips",
    "paired_figures",
    "score_clips",
    "slice_means",
    "summarise",
]

T = TypeVar("T")
R = TypeVar("R")

SLICE_KEYS: dict[str, Callable[[ClipResult], str]] = {
    "niche": lambda c: c.niche or "(no niche)",
    "category": lambda c: c.category or "(no record)",
}
"""Slice dimensions: the clip's niche, and the owner's category."""


TEXT_METRICS_VERSION = "chrf2-rougeL-1"
"""Part of every cached text score's key: bump it when `chrf` or `rouge_l` changes, so old scores are not reused."""


class TextScoreCache(Protocol):
    """Where reference-metric scores are remembered by key (`humortune.workspace.stores.EvaluationStore` fits)."""

    def text_scores(self, keys: Iterable[str]) -> dict[str, tuple[float, float]]: ...

    def save_text_scores(self, scores: Mapping[str, tuple[float, float]]) -> None: ...


def _map(fn: Callable[[T], R], items: Iterable[T], concurrency: int) -> list[R]:
    # What the judges have cached is answered here, on this thread (a warm run spends no pool hops on it);
    # only the rest goes to the pool, where the judges call the model.
    todo, done = list(items), {}
    with cache_only() as hits:
        for index, item in enumerate(todo):
            try:
                done[index] = fn(item)
            except NotCached:
                hits.discard()
                continue
            hits.commit()
    missing = [i for i in range(len(todo)) if i not in done]
    if missing:
        with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="humortune-judge") as pool:
            done.update(zip(missing, pool.map(fn, [todo[i] for i in missing]), strict=True))
    return [done[i] for i in range(len(todo))]


def with_mechanism(text: str, record: HumorRecord | None) -> str:
    """The text a judge reads: the narrative, plus the record's mechanism when there is one."""
    return f"{text.strip()}\nMechanism: {record.mechanism}" if record is not None else text.strip()


def build_clips(entries: Iterable[Entry]) -> list[ClipResult]:
    """One `ClipResult` per entry, with the battery's old answer (``gemini_said``) when it has one."""
    clips = []
    for entry in entries:
        c = entry.correction
        clip = ClipResult(
            correction_id=c.id,
            video_key=entry.video_key,
            video_sha256=entry.video.sha256 if entry.video else None,
            niche=c.niche,
            category=c.record.category.value if c.record else None,
            owner=c.human_said,
            owner_record=c.record,
        )
        if c.gemini_said and c.gemini_said.strip():
            clip.answers["old"] = Answer("old", c.gemini_said)
        clips.append(clip)
    return clips


def text_score_key(answer: str, owner: str) -> str:
    """The cache key of ``answer``'s chrF and ROUGE-L against ``owner``: the metric version and both texts."""
    return short_hash([TEXT_METRICS_VERSION, answer, owner], 32)


def _text_pairs(clips: list[ClipResult]) -> set[tuple[str, str]]:
    pairs = set()
    for clip in clips:
        for role, answer in clip.answers.items():
            if answer.text.strip():
                pairs.add((answer.text, clip.owner))
            if clip.owner_record is not None and role != "old" and answer.record is not None:
                pairs.update((getattr(answer.record, f), getattr(clip.owner_record, f)) for f in TEXT_FIELDS)
    return pairs


def _text_metrics(clips: list[ClipResult], cache: TextScoreCache | None) -> dict[tuple[str, str], tuple[float, float]]:
    # chrF is most of an evaluation's CPU time; the same two texts always score the same, so a warm run reads them.
    keys = {pair: text_score_key(*pair) for pair in _text_pairs(clips)}
    known = cache.text_scores(keys.values()) if cache is not None else {}
    table, new = {}, {}
    for (text, owner), key in keys.items():
        scores = known.get(key)
        if scores is None:
            scores = new[key] = (chrf(text, owner), rouge_l(text, owner))
        table[text, owner] = scores
    if cache is not None and new:
        cache.save_text_scores(new)
    return table


def score_clips(
    clips: list[ClipResult],
    judge: MechanismJudge | None,
    *,
    concurrency: int = 4,
    cache: TextScoreCache | None = None,
) -> None:
    """Fill every answer's metrics, mechanism verdict (when ``judge``) and composite score, in place.

    With ``cache``, chrF and ROUGE-L of a text pair scored before are read from it, and new ones stored there.
    """
    table = _text_metrics(clips, cache)

    def similarity(text: str, owner: str) -> float:
        return table[text, owner][0]

    for clip in clips:
        for role, answer in clip.answers.items():
            if answer.text.strip():
                answer.chrf, answer.rouge_l = table[answer.text, clip.owner]
            if clip.owner_record is not None and role != "old":
                answer.record_score = score_record(answer.record, clip.owner_record, similarity=similarity)
    if judge is not None:
        owner_text = {c.correction_id: with_mechanism(c.owner, c.owner_record) for c in clips}
        jobs = [(c, a) for c in clips for a in c.answers.values()]

        def verdict(job: tuple[ClipResult, Answer]) -> MechanismJudgement:
            clip, answer = job
            if not answer.text.strip():
                return MechanismJudgement("FAIL", "no answer")
            return judge.judge(
                candidate=with_mechanism(answer.text, answer.record), reference=owner_text[clip.correction_id]
            )

        for (_, answer), result in zip(jobs, _map(verdict, jobs, concurrency), strict=True):
            answer.mechanism = result
    for clip in clips:
        for answer in clip.answers.values():
            parts = answer.components()
            answer.score = sum(parts.values()) / len(parts)


def pair_clips(
    clips: list[ClipResult], subject: str, reference: str, judge: PairwiseJudge | None, *, concurrency: int = 4
) -> None:
    """Set each clip's outcome for ``subject`` vs ``reference``: the pairwise judge's, else by score."""
    if judge is None:
        for clip in clips:
            clip.outcome = outcome_from_scores(clip.answers[subject].score, clip.answers[reference].score)
        return

    def run(clip: ClipResult) -> None:
        cand, inc = clip.answers[subject].text.strip(), clip.answers[reference].text.strip()
        if not cand or not inc:  # a missing answer loses without asking anyone
            clip.outcome = "tie" if cand == inc else ("win" if cand else "loss")
            return
        clip.pairwise = judge.compare(reference=clip.owner, candidate=cand, incumbent=inc)
        clip.outcome = clip.pairwise.outcome

    _map(run, clips, concurrency)


def summarise(clips: list[ClipResult], models: dict[str, str]) -> list[SystemSummary]:
    """Per-system means over the clips each system answered (``models``: role → model id)."""
    out = []
    for role, model in models.items():
        answers = [c.answers[role] for c in clips if role in c.answers]
        n = len(answers)
        judged = [a.mechanism for a in answers if a.mechanism is not None]
        records = [a.record_score for a in answers if a.record_score is not None]
        out.append(
            SystemSummary(
                role=role,
                model=model,
                n=n,
                errors=sum(1 for a in answers if a.error),
                chrf=sum(a.chrf for a in answers) / n if n else 0.0,
                rouge_l=sum(a.rouge_l for a in answers) / n if n else 0.0,
                score=sum(a.score for a in answers) / n if n else 0.0,
                mechanism_pass_rate=sum(1 for j in judged if j.passed) / len(judged) if judged else None,
                mechanism_n=len(judged),
                record=FieldAccuracy.from_scores(records) if records else None,
                scores=[a.score for a in answers],
            )
        )
    return out


def slice_means(clips: list[ClipResult], roles: list[str], *, small_below: int) -> dict[str, dict[str, dict[str, Any]]]:
    """Mean composite score per role in every niche and category slice, with sizes and a small flag."""
    means: dict[str, dict[str, dict[str, Any]]] = {}
    for dim, key_of in SLICE_KEYS.items():
        groups: dict[str, list[ClipResult]] = {}
        for clip in clips:
            groups.setdefault(key_of(clip), []).append(clip)
        means[dim] = {}
        for key, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            row: dict[str, Any] = {"n": len(members), "small": len(members) < small_below}
            for role in roles:
                scores = [c.answers[role].score for c in members if role in c.answers]
                row[role] = round(sum(scores) / len(scores), 6) if scores else None
            means[dim][key] = row
    return means


def paired_figures(
    clips: list[ClipResult], subject: str, reference: str, *, resamples: int, seed: int, small_below: int
) -> tuple[PairedStats, dict[str, dict[str, PairedStats]]]:
    """Overall and per-slice paired statistics over the clips both systems answered."""
    both = [c for c in clips if subject in c.answers and reference in c.answers and c.outcome]
    cand = [c.answers[subject].score for c in both]
    inc = [c.answers[reference].score for c in both]
    outcomes: list[Outcome] = [c.outcome for c in both if c.outcome]
    kw: dict[str, Any] = {"resamples": resamples, "seed": seed, "small_below": small_below}
    overall = paired_stats(cand, inc, outcomes, **kw)
    slices = {
        dim: slice_stats([key_of(c) for c in both], cand, inc, outcomes, **kw) for dim, key_of in SLICE_KEYS.items()
    }
    return overall, slices
