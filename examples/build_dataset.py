"""Build a validated, versioned, priced Vertex AI tuning dataset from a battery file.

    python examples/build_dataset.py [BATTERY] [--workspace DIR] [--split 0.8,0.2] [--target narrative]

Runs offline on the bundled sample battery by default: the clips are local files, stored in the workspace's
LocalStorage. Point ``HUMORTUNE_STORAGE`` at ``gs://bucket/prefix`` to build a dataset Vertex can read.
Running it twice builds nothing new: the dataset id is the hash of what went into it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from humortune import Corpus, DatasetBuilder, Settings
from humortune.ingest import Ingestor
from humortune.tuner.request import tuning_request_preview

SAMPLE = Path(__file__).resolve().parent.parent / "datasets" / "sample_battery.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("battery", nargs="?", default=str(SAMPLE))
    parser.add_argument("--workspace", default=".humortune")
    parser.add_argument("--split", default="0.8,0.2", help="train,validation[,test] shares")
    parser.add_argument("--target", default="narrative", choices=["narrative", "narrative+record"])
    args = parser.parse_args()

    settings = Settings(workspace=args.workspace)
    with Corpus.open(settings=settings) as corpus:
        imported = corpus.import_battery(args.battery)
        print(f"import: {imported.added} new, {imported.updated} updated, {imported.unchanged} unchanged")

        ingested = Ingestor(corpus, settings=settings).run()  # local files: copied, probed, stored
        print(f"ingest: {ingested.summary()}")

        result = DatasetBuilder(corpus, settings=settings).run(
            split=tuple(float(x) for x in args.split.split(",")),
            target_format=args.target,
        )
    version = result.version
    print(f"\ndataset {version.id} ({'new' if result.created else 'already built, nothing written'})")
    print(f"  examples: {version.counts}   valid: {version.valid}   in GCS: {version.in_gcs}")
    print(f"  train:      {version.train_uri}")
    print(f"  validation: {version.validation_uri}")
    for skipped in result.skipped:
        print(f"  skipped {skipped.correction_id}: {skipped.reason} — {skipped.hint}")
    for warning in version.warnings:
        print(f"  warning: {warning}")
    if version.estimate:
        e = version.estimate
        print(f"\nestimated training cost on {e.base_model}, {e.epochs} epochs: ${e.usd_low:.2f}–${e.usd_high:.2f}")
        print(f"  tokens per epoch: {e.tokens_per_epoch_low:,}–{e.tokens_per_epoch_high:,}")
        for assumption in e.assumptions:
            print(f"  · {assumption}")
    print("\nthe tuning request `humortune tune` would send (nothing is sent):")
    print(json.dumps(tuning_request_preview(version, settings), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
