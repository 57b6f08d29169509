"""Ingest a battery's videos into storage, twice, and show the per-source report.

    python examples/ingest_battery.py [BATTERY] [--workspace DIR] [--concurrency N] [--broken]

Runs offline on the bundled sample battery: its clips are local files, probed with PyAV and stored in the
workspace's LocalStorage under ``training/videos/<sha256>.mp4`` (TikTok links are stored under their video
id). The second run downloads and uploads nothing. ``--broken`` adds two bad sources (a missing file and a
file that is not a video) to show how failures are reported. Set ``HUMORTUNE_STORAGE=gs://bucket/prefix``
to store in Cloud Storage instead.
"""

from __future__ import annotations

import argparse
import atexit
import json
import shutil
import tempfile
from pathlib import Path

from humortune import Corpus, Ingestor, Settings
from humortune.ingest import IngestProgress
from humortune.schema import Correction

SAMPLE = Path(__file__).resolve().parent.parent / "datasets" / "sample_battery.json"


def progress(event: IngestProgress) -> None:
    if event.outcome is not None:
        o = event.outcome
        detail = o.object_key if o.status != "failed" else f"{o.category}: {o.message}"
        print(f"  [{event.completed:>3}/{event.total}] {o.status:<7} {Path(o.url).name:<16} {detail}")


def temporary_workspace(prefix: str) -> str:
    """A fresh folder for this run, removed when the example exits (pass --workspace to keep one)."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("battery", nargs="?", default=str(SAMPLE))
    parser.add_argument("--workspace", default=None, help="default: a fresh temporary directory")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--broken", action="store_true", help="add a missing file and a non-video")
    args = parser.parse_args()

    workspace = Path(args.workspace or temporary_workspace("humortune-ingest-"))
    settings = Settings(workspace=workspace)
    with Corpus.open(settings=settings) as corpus:
        imported = corpus.import_battery(args.battery)
        print(f"workspace {workspace}: imported {imported.imported} correction(s)")
        if args.broken:
            not_video = workspace / "notes.mp4"
            not_video.write_text("this is a text file with a video suffix")
            for cid, path in (("broken-missing", workspace / "missing.mp4"), ("broken-text", not_video)):
                corpus.add_correction(Correction(id=cid, video_url=path.as_uri(), human_said="trasig källa"))

        ingestor = Ingestor(corpus, settings=settings, concurrency=args.concurrency, progress=progress)
        print(f"\nfirst run → {ingestor.storage.root_uri}")
        first = ingestor.run()
        print(first.summary())
        for failed in first.failed:
            print(f"  needs attention: {failed.url}\n    {failed.category}: {failed.message}\n    fix: {failed.hint}")

        print("\nsecond run (idempotent: nothing is downloaded or uploaded again)")
        second = Ingestor(corpus, settings=settings, concurrency=args.concurrency).run()
        print(second.summary())
        assert second.bytes_uploaded == 0

        path = second.save_json(workspace / "reports" / "ingest.json")
        print(f"\nreport: {path}")
        video = corpus.entries()[0].video
        if video is not None:
            print("first stored video:", json.dumps(video.model_dump(), ensure_ascii=False))


if __name__ == "__main__":
    main()
