"""Cached verdicts are answered on the calling thread (a warm evaluation spends no thread-pool hops on them),
counted once, and a half-warm run gets the same verdicts and usage as asking every question in the pool."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from humortune.evaluator.judge import LexicalJudge, MechanismJudge, NotCached, PairwiseJudge, cache_only
from humortune.evaluator.results import Answer, ClipResult
from humortune.evaluator.scoring import pair_clips, score_clips


class _Recording(LexicalJudge):
    """The lexical judge, noting which thread asked each question."""

    def __init__(self) -> None:
        super().__init__(position_bias=0.3)
        self.threads: list[str] = []

    def __call__(self, **kwargs: Any) -> str:
        self.threads.append(threading.current_thread().name)
        return super().__call__(**kwargs)


def _clips(n: int) -> list[ClipResult]:
    clips = []
    for i in range(n):
        clip = ClipResult(f"c{i}", f"k{i}", None, None, None, f"Det roliga är tajmingen i klipp {i}.", None)
        clip.answers["candidate"] = Answer("candidate", f"Det roliga är tajmingen {i}.")
        clip.answers["incumbent"] = Answer("incumbent", f"En man går in i ett rum {i}.")
        clips.append(clip)
    return clips


def test_cache_only_raises_on_a_miss_and_counts_hits_only_when_committed() -> None:
    backend = _Recording()
    judge = MechanismJudge(backend, model="gemini-3.5-flash")
    judge.judge(candidate="a b c", reference="a b c")
    with cache_only() as hits:
        with pytest.raises(NotCached):
            judge.judge(candidate="något annat", reference="a b c")
        assert judge.judge(candidate="a b c", reference="a b c").passed
        assert judge.usage.cached == 0
        hits.discard()
        judge.judge(candidate="a b c", reference="a b c")
        hits.commit()
    assert (judge.usage.calls, judge.usage.cached, backend.calls) == (1, 1, 1)
    assert judge.judge(candidate="något annat", reference="a b c") is not None  # outside: asked for real
    assert backend.calls == 2


def test_a_half_warm_run_matches_a_cold_one_and_asks_only_the_misses_in_the_pool() -> None:
    cold_backend, warm_backend = _Recording(), _Recording()
    cold = (MechanismJudge(cold_backend, model="m"), PairwiseJudge(cold_backend, model="m"))
    warm = (MechanismJudge(warm_backend, model="m"), PairwiseJudge(warm_backend, model="m"))
    score_clips(_clips(6)[:3], warm[0], concurrency=3)  # half of the questions are cached beforehand
    pair_clips(_clips(6)[:3], "candidate", "incumbent", warm[1], concurrency=3)
    asked_before = warm_backend.calls
    results = []
    for mech, pair in (cold, warm):
        clips = _clips(6)
        score_clips(clips, mech, concurrency=3)
        pair_clips(clips, "candidate", "incumbent", pair, concurrency=3)
        results.append([(c.outcome, c.pairwise, [a.mechanism for a in c.answers.values()]) for c in clips])
    assert results[0] == results[1]
    assert warm_backend.calls - asked_before == cold_backend.calls // 2
    assert all(name.startswith("humortune-judge") for name in warm_backend.threads)  # model calls: in the pool
    assert warm[0].usage.cached == 6 and warm[1].usage.cached == 6  # 3 clips × 2 answers; 3 clips × 2 orders


def test_a_warm_run_asks_nothing_and_uses_no_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = _Recording()
    mech, pair = MechanismJudge(backend, model="m"), PairwiseJudge(backend, model="m")
    score_clips(_clips(4), mech)
    pair_clips(_clips(4), "candidate", "incumbent", pair)
    asked = backend.calls

    def no_pool(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("every verdict is cached: no thread pool is needed")

    monkeypatch.setattr("humortune.evaluator.scoring.ThreadPoolExecutor", no_pool)
    clips = _clips(4)
    score_clips(clips, mech)
    pair_clips(clips, "candidate", "incumbent", pair)
    assert backend.calls == asked and all(c.outcome is not None for c in clips)
    assert (mech.usage.cached, pair.usage.cached) == (8, 8)
