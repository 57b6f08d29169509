"""Benchmark: evaluate and compare 1,000 held-out clips with cached analyses and a fake judge.

Setup (not timed): a fresh workspace with N owner corrections (Swedish, ~80% with a record, five niches),
their stored-video rows, a frozen test split, and cached analyses by a tuned and a base model
(`tests.rigs.evaluation.populate_evaluation`). The judge is `LexicalJudge` (deterministic, no HTTP), so
the figures measure humortune, not a model.

Timed, all in the same run:

* ``read analyses`` (baseline): the SQL that loads both models' cached analyses — the unavoidable I/O;
* ``compare, cold``: `Evaluator.compare` end to end: select the test set, load cached analyses, metrics,
  mechanism judge on 3 systems, pairwise judge in both orders, paired stats with 2,000 bootstrap
  resamples, per-niche/category slices, gate, JSON + HTML report, storage in the corpus;
* ``compare, warm``: the same again by a new `Evaluator` (as a new process would): nothing it depends on
  changed, so the stored evaluation is reused (`humortune.evaluator.reuse`); once more with ``write=False``
  (not reused: the full path, with judge verdicts and chrF/ROUGE-L scores cached); and once with another
  bootstrap seed (one input changed: the full path, caches warm, the identical report files kept);
* the parts, measured on the cold run's clips: ``metrics`` (chrF + ROUGE-L + record fields), ``stats``
  (overall + slices, bootstrap), ``report`` (JSON + HTML written);
* ``ROUGE-L LCS``: the bit-parallel LCS vs the textbook dynamic programme on the same narratives.

Targets: stats + report under 5 s (the statistics and the report must not be the bottleneck); a warm compare,
report included, ≤ 10% of the cold one (issue 13).

    python benchmarks/bench_eval.py [--n 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the test rigs live in tests/ at the repo root

from tests.rigs.evaluation import populate_evaluation

from humortune.evaluator import AnalyzerLike, Evaluator, LexicalJudge
from humortune.evaluator.metrics import lcs_length, tokens
from humortune.evaluator.report import write_report
from humortune.evaluator.scoring import build_clips, paired_figures, score_clips
from humortune.evaluator.stats import DEFAULT_SEED
from humortune.settings import Settings
from humortune.workspace import Corpus

TUNED = "projects/bench/locations/us-central1/models/1@1"
BASE = "gemini-2.5-flash"


def _lcs_table(a: list[str], b: list[str]) -> int:
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
    return table[-1][-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(workspace=Path(tmp) / "ws")
        corpus = Corpus.open(settings=settings)
        t = time.perf_counter()
        populate_evaluation(corpus, args.n, models={TUNED: 0.75, BASE: 0.45}, seed=11)
        print(f"setup: {args.n} clips, 2 models, cached analyses ({time.perf_counter() - t:.1f} s, not timed)")

        t = time.perf_counter()
        rows = corpus.db.query("SELECT * FROM analyses WHERE model IN (?, ?)", (TUNED, BASE))
        read_s = time.perf_counter() - t
        assert len(rows) == 2 * args.n

        judge = LexicalJudge(position_bias=0.1)
        evaluator = Evaluator(corpus, settings=settings, judge=judge, analyzer=_no_analyzer)
        t = time.perf_counter()
        report = evaluator.compare(TUNED, BASE)
        cold_s = time.perf_counter() - t
        calls = judge.calls
        again = Evaluator(corpus, settings=settings, judge=judge, analyzer=_no_analyzer)
        t = time.perf_counter()
        warm = again.compare(TUNED, BASE)
        warm_s = time.perf_counter() - t
        assert judge.calls == calls, "the warm run should not call the judge"
        assert warm.comparison == report.comparison, "a reused evaluation shows the cold run's figures"
        t = time.perf_counter()
        again.compare(TUNED, BASE, write=False)
        warm_bare_s = time.perf_counter() - t
        reseeded = Evaluator(corpus, settings=settings, judge=judge, analyzer=_no_analyzer, seed=DEFAULT_SEED + 1)
        t = time.perf_counter()
        reseeded.compare(TUNED, BASE)
        changed_s = time.perf_counter() - t
        assert judge.calls == calls, "another seed needs no new verdict"

        clips = build_clips(evaluator.test_set().entries)
        for clip, done in zip(clips, report.clips, strict=True):
            for role in ("incumbent", "candidate"):
                clip.answers[role] = done.answers[role]
        t = time.perf_counter()
        score_clips(clips, None)
        metrics_s = time.perf_counter() - t
        t = time.perf_counter()
        paired_figures(report.clips, "candidate", "incumbent", resamples=2000, seed=1, small_below=10)
        stats_s = time.perf_counter() - t
        t = time.perf_counter()
        html = write_report(report, Path(tmp) / "bench-report")
        report_s = time.perf_counter() - t
        size_mb = html.stat().st_size / 1e6

        pairs = [(tokens(c.owner), tokens(c.answers["candidate"].text)) for c in report.clips[:300]]
        t = time.perf_counter()
        fast = [lcs_length(a, b) for a, b in pairs]
        fast_s = time.perf_counter() - t
        t = time.perf_counter()
        slow = [_lcs_table(a, b) for a, b in pairs]
        slow_s = time.perf_counter() - t
        assert fast == slow
        corpus.close()

    c = report.comparison
    assert c is not None
    print(f"result: win rate {c.win_rate.estimate:.3f} (95% CI {c.win_rate.low:.3f}–{c.win_rate.high:.3f}), "
          f"{c.wins}W/{c.ties}T/{c.losses}L over {c.n} clips; {calls} judge calls")  # fmt: skip
    print(f"{'step':<28}{'seconds':>9}{'× baseline':>12}{'of cold':>9}")
    for name, seconds in (
        ("read analyses (baseline)", read_s),
        ("compare, cold", cold_s),
        ("compare, warm (reused)", warm_s),
        ("  without report files", warm_bare_s),
        ("  another seed (full path)", changed_s),
        ("  metrics", metrics_s),
        ("  stats (overall + slices)", stats_s),
        ("  report (JSON + HTML)", report_s),
    ):
        print(f"{name:<28}{seconds:>9.3f}{seconds / read_s:>12.1f}{seconds / cold_s:>9.0%}")
    print(f"HTML report: {size_mb:.1f} MB for {len(report.clips)} clips")
    print(f"ROUGE-L LCS on 300 narratives: bit-parallel {fast_s * 1000:.1f} ms vs table {slow_s * 1000:.1f} ms "
          f"({slow_s / fast_s:.0f}× faster)")  # fmt: skip
    warm_share, bare_share = warm_s / cold_s, warm_bare_s / cold_s
    print(f"warm compare: {warm_share:.1%} of cold with the report, {bare_share:.1%} without — "
          f"{'OK' if warm_share <= 0.10 else 'OVER'} (target ≤ 10% with the report: unchanged inputs reuse the "
          "stored evaluation)")  # fmt: skip
    budget = stats_s + report_s
    print(f"stats + report: {budget:.2f} s — {'OK' if budget < 5 else 'OVER'} (target < 5 s)")


def _no_analyzer(model: str) -> AnalyzerLike:
    raise AssertionError(f"every analysis should be cached, but {model} was asked to analyse")


if __name__ == "__main__":
    main()
