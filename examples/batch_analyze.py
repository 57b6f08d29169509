"""Analyse a folder of clips concurrently, with a rate limit, a progress line and per-clip errors.

    python examples/batch_analyze.py [VIDEO_OR_DIR …] [--model current] [--mode two-stage] [--workspace DIR]
                                     [--concurrency 8] [--max-rps 5] [--online]

Runs offline by default (the bundled FakeGemini answers; nothing leaves the machine) on the sample clips in
``datasets/sample_videos``. Run it twice: the second pass is served from the corpus cache and costs nothing.
With ``--online`` it calls Vertex AI (needs a project and credentials, and ``HUMORTUNE_STORAGE=gs://…`` so the
clips are uploaded where Vertex can read them). For thousands of clips, see ``Analyzer.batch`` (Vertex batch
prediction, half price) in docs/analyzing.md.
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import sys
import tempfile
import time
from pathlib import Path

from humortune import AnalysisResult, Analyzer, App, Settings

SAMPLES = Path(__file__).resolve().parent.parent / "datasets" / "sample_videos"
VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".m4v"}


def expand(inputs: list[str]) -> list[str]:
    """Directories become the videos inside them; URIs and files pass through."""
    out: list[str] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            out += sorted(str(p) for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
        else:
            out.append(item)
    return out


def temporary_workspace(prefix: str) -> str:
    """A fresh folder for this run, removed when the example exits (pass --workspace to keep one)."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="*", default=[str(SAMPLES)])
    parser.add_argument("--model", default=None, help="alias, model id, endpoint or base model (default: current)")
    parser.add_argument("--mode", default="two-stage", choices=["two-stage", "joint", "narrative"])
    parser.add_argument("--workspace", default=None, help="default: a temporary folder, removed at exit")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-rps", type=float, default=5.0, help="model calls per second, across all clips")
    parser.add_argument("--online", action="store_true", help="call Vertex AI instead of the offline fake")
    parser.add_argument("--refresh", action="store_true", help="ignore the cache")
    args = parser.parse_args()

    videos = expand(args.videos)
    settings = Settings(workspace=args.workspace or temporary_workspace("humortune-batch-"), offline=not args.online)
    done = 0

    def progress(result: AnalysisResult) -> None:
        nonlocal done
        done += 1
        status = "ok" if result.ok else f"FAILED ({type(result.error).__name__})"
        print(f"[{done}/{len(videos)}] {Path(result.video).name}: {status}", file=sys.stderr)

    started = time.perf_counter()
    with (
        App(settings) as app,  # the corpus, storage and Gemini client, each opened on first use, closed at the end
        Analyzer.from_app(app, args.model, mode=args.mode) as analyzer,
    ):
        for note in analyzer.notes:
            print(f"note: {note}", file=sys.stderr)
        results = list(
            analyzer.analyze_many(
                videos, concurrency=args.concurrency, max_rps=args.max_rps, refresh=args.refresh, progress=progress
            )
        )
    elapsed = time.perf_counter() - started

    cost = 0.0
    for result in sorted(results, key=lambda r: r.index):
        print(f"\n== {result.video}")
        if result.analysis is None:
            print(f"   error: {result.error}")
            continue
        analysis = result.analysis
        print(f"   {analysis.narrative}")
        if analysis.record is not None:
            r = analysis.record
            print(f"   mechanism: {r.mechanism} | {r.category.value}, {r.quality.value}, replicable={r.replicable}")
        for warning in analysis.warnings:
            print(f"   warning: {warning}")
        if not analysis.cached:
            cost += analysis.cost_usd or 0.0
    cached = sum(1 for r in results if r.analysis is not None and r.analysis.cached)
    failed = sum(1 for r in results if not r.ok)
    print(
        f"\n{len(results)} clip(s) in {elapsed:.1f} s: {len(results) - failed - cached} analysed, {cached} from the "
        f"cache, {failed} failed; estimated cost of this run ${cost:.4f}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
