"""Evaluate a tuned model against the owner, calibrate the judges, compare, promote and roll back.

    python examples/evaluate_models.py [--workspace DIR] [--clips 300] [--yes]

Runs offline with no cloud: `build_world` fills the workspace through the public API (`Corpus` and its typed
`Stores`) with synthetic Swedish owner corrections, a frozen test split, and cached analyses by a tuned and a
base model; the judges are the offline `LexicalJudge`, and the owner's PASS/FAIL marks and blind A/B choices
are simulated. On a real workspace, drop the synthetic part: `Evaluator(corpus)` uses your cached analyses,
analyses what is missing, and asks a base Gemini model to judge.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import random
import shutil
import tempfile
from pathlib import Path

from rich.console import Console

from humortune import (
    DEFAULT_PROMPT,
    Analysis,
    Corpus,
    Correction,
    Evaluator,
    HumorRecord,
    Settings,
    TunedModel,
    VideoAsset,
)
from humortune.analyzer.cache import analysis_id
from humortune.cli._render import print_summary
from humortune.errors import PromotionRefusedError
from humortune.evaluator import LexicalJudge
from humortune.schema import utcnow
from humortune.testing.synthetic import GENERIC, NICHES, model_answer, owner_correction
from humortune.workspace import Stores

TUNED = "projects/demo/locations/us-central1/models/101@1"
BASE = "gemini-3.5-flash"


def temporary_workspace(prefix: str) -> str:
    """A fresh folder for this run, removed when the example exits (pass --workspace to keep one)."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=None, help="default: a fresh temporary folder")
    parser.add_argument("--clips", type=int, default=300)
    parser.add_argument("--yes", action="store_true", help="confirm the promotion without asking")
    args = parser.parse_args()
    console = Console()
    workspace = Path(args.workspace or temporary_workspace("humortune-eval-"))
    settings = Settings(workspace=workspace)

    with Corpus.open(settings=settings) as corpus:
        if not corpus.corrections():
            build_world(corpus, args.clips, models={TUNED: 0.75, BASE: 0.45}, seed=5)
            simulate_owner_labels(corpus, a=TUNED, b=BASE, limit=60)
        judge = LexicalJudge(position_bias=0.1)  # a real run passes nothing: the judge is a base Gemini model

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
        kept = "" if args.workspace else "; temporary, removed at exit: pass --workspace DIR to keep it"
        console.print(f"workspace: {workspace}  (reports under {workspace / 'reports'}{kept})")


def _ask(question: str) -> bool:
    try:
        return input(question).strip().lower() == "y"
    except EOFError:  # not interactive: the owner did not confirm
        return False


# -- the synthetic world: what ingest + review would have stored on a real workspace -------------------------
# Its made-up clips come from humortune.testing.synthetic (the test rigs draw theirs from the same place).


def build_world(corpus: Corpus, n: int, *, models: dict[str, float], seed: int) -> None:
    """``n`` owner corrections on the held-out test split, and cached analyses by ``models`` (name → quality)."""
    rng, stores, now = random.Random(seed), Stores.of(corpus.db), utcnow()
    with corpus.db.transaction():
        for name in (m for m in models if m.startswith("projects/")):
            endpoint = name.split("@")[0].replace("/models/", "/endpoints/")
            stores.models.register(
                TunedModel(id=name, endpoint=endpoint, base_model=BASE, prompt_version=DEFAULT_PROMPT.version)
            )
        for i in range(n):
            owner_text, record = owner_correction(rng)
            video_id = 7_300_000_000_000_000_000 + seed * 1_000_000 + i
            corpus.add_correction(
                Correction(
                    id=f"syn-{seed}-{i:05d}",
                    video_url=f"https://www.tiktok.com/@demo/video/{video_id}",
                    gemini_said=rng.choice(GENERIC),
                    human_said=owner_text,
                    record=record if rng.random() < 0.8 else None,
                    niche=rng.choice(NICHES),
                )
            )
            sha = hashlib.sha256(f"synthetic-video-{seed}-{i}".encode()).hexdigest()
            asset = VideoAsset(
                sha256=sha, source_id=str(video_id), size_bytes=120_000, duration_s=8.0, width=720, height=1280,
                codec="h264", fps=30.0, has_audio=True, uri=f"file:///synthetic/{sha}.mp4",
            )  # fmt: skip
            corpus.add_video(asset)
            corpus.link_video(f"tiktok:{video_id}", sha)
            rng.random()  # the test rig draws a test share here: the same seed gives the same world in both
            stores.datasets.assign(f"tiktok:{video_id}", "test", seed=str(seed))  # held out: never trained on
            for name, quality in models.items():
                text, answer = model_answer(rng, record, quality)
                stores.analyses.put(_analysis(asset, name, text, answer).model_copy(update={"created_at": now}))


def _analysis(asset: VideoAsset, model: str, text: str, answer: HumorRecord) -> Analysis:
    version = DEFAULT_PROMPT.version
    key = analysis_id(
        video_sha256=asset.sha256, video_uri=asset.uri, model=model, prompt_version=version, mode="two-stage"
    )
    return Analysis(
        id=key, video_sha256=asset.sha256, video_uri=asset.uri, narrative=text, record=answer, model=model,
        prompt_version=version,
    )  # fmt: skip


def simulate_owner_labels(corpus: Corpus, *, a: str, b: str, limit: int) -> None:
    """PASS when ``a`` names the owner's mechanism; in a blind A/B, whichever of ``a`` and ``b`` names it."""
    stores = Stores.of(corpus.db)
    pairs = {p.video_sha256: p for p in stores.analyses.pairs(a, b)}
    owned = [s for s in stores.corrections.sources() if s.record_json and s.video_sha256 in pairs]
    for source in owned[:limit]:
        pair = pairs[source.video_sha256 or ""]
        owner = HumorRecord.model_validate_json(source.record_json or "{}").mechanism
        a_right, b_right = (_mechanism(stores, x) == owner for x in (pair.first_id, pair.second_id))
        choice = "tie" if a_right == b_right else ("a" if a_right else "b")
        label = {"verdict": "PASS" if a_right else "FAIL", "analysis_id": pair.first_id, "source": "simulated"}
        stores.labels.add("pass_fail", label, correction_id=source.correction_id)
        pick = {"choice": choice, "a_analysis_id": pair.first_id, "b_analysis_id": pair.second_id}
        stores.labels.add("pairwise", {**pick, "source": "simulated"}, correction_id=source.correction_id)


def _mechanism(stores: Stores, analysis_id: str) -> str | None:
    analysis = stores.analyses.get(analysis_id)
    return analysis.record.mechanism if analysis is not None and analysis.record is not None else None


if __name__ == "__main__":
    main()
