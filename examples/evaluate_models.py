"""Evaluate a tuned model against the owner, calibrate the judges, compare, promote and roll back.

    python examples/evaluate_models.py [--workspace DIR] [--clips 300] [--yes]

Runs offline with no cloud: the workspace is filled with synthetic Swedish owner corrections and cached
analyses by a tuned and a base model (`humortune.testing.evaluation`), the judges are a deterministic fake,
and the owner's PASS/FAIL marks and blind A/B choices are simulated. On a real workspace, drop the
synthetic part: `Evaluator(corpus)` uses your cached analyses, analyses what is missing, and asks a base
Gemini model to judge.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rich.console import Console

from humortune import Corpus, Evaluator, Settings
from humortune.errors import PromotionRefusedError
from humortune.evaluator.report import print_summary
from humortune.testing.evaluation import FakeJudge, populate_evaluation, simulate_owner_labels

TUNED = "projects/demo/locations/us-central1/models/101@1"
BASE = "gemini-3.5-flash"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=None, help="default: a fresh temporary folder")
    parser.add_argument("--clips", type=int, default=300)
    parser.add_argument("--yes", action="store_true", help="confirm the promotion without asking")
    args = parser.parse_args()
    console = Console()
    workspace = Path(args.workspace or tempfile.mkdtemp(prefix="humortune-eval-"))
    settings = Settings(workspace=workspace)

    with Corpus.open(settings=settings) as corpus:
        if not corpus.corrections():
            populate_evaluation(corpus, args.clips, models={TUNED: 0.75, BASE: 0.45}, seed=5)
            simulate_owner_labels(corpus, a=TUNED, b=BASE, limit=60)
        judge = FakeJudge(position_bias=0.1)  # a real run passes nothing: the judge is a base Gemini model

        console.rule("1. the tuned model on the held-out clips, beside its base model and the old answers")
        evaluator = Evaluator(corpus, settings=settings, judge=judge)
        print_summary(evaluator.evaluate(TUNED).as_dict(), console)

        console.rule("2. can the judges be trusted? (checked against the owner's own labels)")
        for name, report in evaluator.calibrate().items():
            rates = ""
            if report.false_pass_rate is not None and report.false_fail_rate is not None:
                rates = f"false-pass {report.false_pass_rate:.2f}  false-fail {report.false_fail_rate:.2f}  "
            console.print(f"{name:9} κ {report.kappa or 0:.2f}  {rates}→ {report.status}")

        console.rule("3. A/B against the base model with the pairwise judge")
        print_summary(evaluator.compare(TUNED, BASE).as_dict(), console)

        console.rule("4. promote, with outcomes from paired scores (the pairwise judge is not calibrated)")
        by_scores = Evaluator(corpus, settings=settings, judge=judge, pairwise=False)
        try:
            event = by_scores.promote(
                TUNED,
                yes=args.yes,
                confirm=lambda decision, report: _ask(f"{decision.summary()}\npromote? [y/N] "),
            )
        except PromotionRefusedError as exc:
            console.print(f"[red]{exc}[/]")
            return
        console.print(
            f"{event.action}: {event.model_id} (replacing {event.previous_id}); evidence: {event.evidence['summary']}"
        )

        if event.action == "promote":
            console.rule("5. roll back")
            back = by_scores.rollback(reason="demo")
            console.print(f"current is {back.model_id} again")
        console.print("history:", [(e.action, e.model_id) for e in by_scores.registry.history()])
        console.print(f"workspace: {workspace}  (reports under {workspace / 'reports'})")


def _ask(question: str) -> bool:
    try:
        return input(question).strip().lower() == "y"
    except EOFError:  # not interactive: the owner did not confirm
        return False


if __name__ == "__main__":
    main()
