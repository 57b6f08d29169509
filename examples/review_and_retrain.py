"""The feedback loop offline: analyse clips, review them as the owner would, retrain, confirm the candidate.

    python examples/review_and_retrain.py [--workspace DIR] [--serve] [--yes]

Runs with no cloud: the sample battery's clips are stored locally, FakeGemini plays Vertex AI (analysis and
tuning) and the reviews are scripted through `ReviewStore` (the same calls the review UI makes). Then
`Retrainer` builds the next dataset, tunes a candidate, evaluates it against the current model and records a
proposal, which is confirmed here with ``--yes`` (in real life: the Promotions page of ``humortune review``).

With ``--serve`` it finishes by starting the review UI on 127.0.0.1 so you can click (and type) through the
queue yourself; the URL with its token is printed.

A 12-clip sample proves nothing statistically, so the demo scores with reference metrics only and turns the
gate's win-rate check off (``GatePolicy(min_win_rate_low=-1.0)``); a real workspace keeps the default gate
and calibrated judges.
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import tempfile
from functools import partial
from pathlib import Path

from humortune import Analyzer, Corpus, Quality, Settings
from humortune.evaluator import Evaluator, GatePolicy
from humortune.feedback import BlindAB, Retrainer, RetrainPolicy, ReviewQueue, ReviewResult, ReviewStore
from humortune.feedback.promotions import decide_proposal, pending_proposals
from humortune.ingest import Ingestor

SAMPLE = Path(__file__).resolve().parent.parent / "datasets" / "sample_battery.json"


def temporary_workspace(prefix: str) -> str:
    """A fresh folder for this run, removed when the example exits (pass --workspace to keep one)."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=None, help="default: a fresh temporary folder")
    parser.add_argument("--serve", action="store_true", help="start the review UI at the end")
    parser.add_argument("--yes", action="store_true", help="confirm the proposed promotion")
    args = parser.parse_args()
    settings = Settings(workspace=args.workspace or temporary_workspace("humortune-review-"), offline=True)

    with Corpus.open(settings=settings) as corpus:
        if not corpus.corrections():
            corpus.import_battery(SAMPLE)
            Ingestor(corpus, settings=settings).run()
        demo_gate = GatePolicy(min_win_rate_low=-1.0, min_slice_size=1000)

        def evaluator(client: object) -> Evaluator:
            return Evaluator(corpus, settings=settings, client=client, judges=False, policy=demo_gate)  # type: ignore[arg-type]

        print("1. first model: the 12 battery corrections are new data")
        first = Retrainer(corpus, RetrainPolicy(min_new_corrections=5), settings=settings, evaluator=evaluator)
        outcome = first.run(yes=True)
        print(f"   {outcome.status}: {outcome.message}")
        for proposal in pending_proposals(corpus):
            print("   " + decide_proposal(corpus, proposal.id, True, who="owner (example)"))

        print("2. the current model and the base model analyse every clip")
        for model in ("current", settings.base_model):
            with Analyzer(model, corpus=corpus, settings=settings) as analyzer:
                for video in corpus.videos():
                    analyzer.analyze(video)
        queue = ReviewQueue(corpus)
        counts = queue.counts()
        print(f"   review queue: {sum(counts.values())} outputs ({counts})")

        print("3. the owner reviews: accepts some, corrects some, skips one, undoes one, and picks blind A/B")
        store = ReviewStore(corpus)

        def review(analysis_id: str, n: int) -> ReviewResult:
            # What the clip page's buttons do: accept as-is (a), skip (s), or edit and save (Ctrl+Enter).
            if n % 4 == 0:
                return store.accept(analysis_id)
            if n % 4 == 3:
                return store.skip(analysis_id)
            clip = store.clip(analysis_id)
            assert clip is not None
            previous = clip.previous
            record = (
                previous.record.model_copy(update={"quality": Quality.GOOD}) if previous and previous.record else None
            )
            narrative = (previous.human_said if previous else clip.analysis.narrative) + " (rättad)"
            return store.save(analysis_id, narrative=narrative, record=record)

        for n, item in enumerate(queue.items(limit=8)):
            result = queue.apply(partial(review, item.analysis_id, n), lambda r: r.analysis_id)
            if result.action == "edit":
                print(f"   saved {result.correction_id}: {len(result.diff)} field(s) differ from the model")
        undone = store.undo()
        print(f"   undid the last {undone.undone if undone else 'nothing'} → the clip is back in the queue")
        ab = BlindAB(corpus)
        models = ab.default_models()
        chosen = 0
        while models and (pair := ab.next_pair(*models)) is not None and chosen < 4:
            ab.record(pair.token, "a" if len(pair.a.narrative) >= len(pair.b.narrative) else "b")
            chosen += 1
        print(f"   {chosen} blind A/B choice(s) stored for judge calibration")

        print("4. retrain: enough new corrections → next dataset → candidate → evaluated → proposed")
        retrainer = Retrainer(corpus, RetrainPolicy(min_new_corrections=3), settings=settings, evaluator=evaluator)
        print(f"   triggers: {retrainer.triggers().reasons}")
        outcome = retrainer.run(yes=True)
        print(f"   {outcome.status}: {outcome.message}")
        print(f"   tuned from {outcome.start_model} on {outcome.dataset_id}; report {outcome.report_path}")
        again = Retrainer(corpus, RetrainPolicy(min_new_corrections=3), settings=settings, evaluator=evaluator).run()
        print(f"   rerun (as cron would): {again.status}: {again.message}")
        for proposal in pending_proposals(corpus):
            if args.yes:
                print("   " + decide_proposal(corpus, proposal.id, True, who="owner (example --yes)"))
            else:
                print(f"   waiting for you: proposal {proposal.id} ({proposal.model_id}); confirm it in the review UI")
    print(f"workspace: {settings.workspace}" + ("" if args.workspace else " (temporary: removed at exit)"))

    if args.serve:
        from humortune.cli import main as cli

        return cli(["-w", str(settings.workspace), "review", "--offline"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
