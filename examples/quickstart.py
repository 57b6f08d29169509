"""Import the owner's corrections and look at the corpus: the first five minutes with humortune.

    python examples/quickstart.py [BATTERY] [--workspace DIR]

Runs offline on the bundled sample battery by default.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from humortune import Corpus, Settings

SAMPLE = Path(__file__).resolve().parent.parent / "datasets" / "sample_battery.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("battery", nargs="?", default=str(SAMPLE))
    parser.add_argument("--workspace", default=".humortune")
    args = parser.parse_args()

    settings = Settings(workspace=args.workspace)
    with Corpus.open(settings=settings) as corpus:
        report = corpus.import_battery(args.battery)
        print(f"{report.added} new, {report.updated} updated, {report.unchanged} unchanged")
        for problem in report.problems:
            print("  skipped:", problem)
        for entry in corpus.entries():
            c = entry.correction
            record = f"{c.record.category}/{c.record.quality}" if c.record else "no record"
            print(f"{c.id:<10} {entry.video_key[:40]:<40} {c.niche or '-':<10} {record}")
        print(corpus.status())


if __name__ == "__main__":
    main()
