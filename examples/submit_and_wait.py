"""Submit a tuning job for a dataset version, wait for it with progress, and try the tuned model.

    python examples/submit_and_wait.py [--workspace DIR] [--online] [--epochs 4] [--adapter-size 8] [--yes]

Offline by default: the bundled FakeGemini plays Vertex AI (no credentials, nothing billed), and a dataset is
built from the sample battery if the workspace has none. With ``--online`` it submits to Vertex AI for real:
set ``HUMORTUNE_PROJECT`` and ``HUMORTUNE_STORAGE=gs://…``, log in with
``gcloud auth application-default login`` and build the dataset first (``humortune prepare``/``build``).

Running it again does not pay twice: the same dataset and hyperparameters return the existing job. Ctrl-C
stops waiting, never the job; resume with ``humortune jobs wait NAME``.
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import tempfile
from pathlib import Path

from humortune import Corpus, Settings
from humortune.app import default_client
from humortune.dataset import DatasetBuilder, list_versions
from humortune.errors import HumortuneError
from humortune.prompts import DEFAULT_PROMPT
from humortune.tuner import ModelRegistry, Tuner

SAMPLE = Path(__file__).resolve().parent.parent / "datasets" / "sample_battery.json"


def temporary_workspace(prefix: str) -> str:
    """A fresh folder for this run, removed when the example exits (pass --workspace to keep one)."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=None, help="default: a temporary folder, removed at exit")
    parser.add_argument("--online", action="store_true", help="Submit to Vertex AI (costs money).")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--adapter-size", type=int, default=None)
    parser.add_argument("--yes", action="store_true", help="Do not ask before costly jobs.")
    args = parser.parse_args()

    settings = Settings(workspace=args.workspace or temporary_workspace("humortune-tune-"), offline=not args.online)
    with Corpus.open(settings=settings) as corpus:
        versions = list_versions(corpus)
        if not versions:
            if args.online:
                print("no dataset yet: run `humortune prepare BATTERY` and `humortune build` first")
                return 1
            from humortune.ingest import Ingestor

            corpus.import_battery(SAMPLE)
            Ingestor(corpus, settings=settings).run()
            versions = [DatasetBuilder(corpus, settings=settings).build()]
        dataset = versions[0]
        print(f"dataset {dataset.id}: {dataset.counts} ({'valid' if dataset.valid else 'INVALID'})")

        tuner = Tuner(epochs=args.epochs, adapter_size=args.adapter_size, corpus=corpus, settings=settings)
        cost = tuner.estimate(dataset)
        if cost:
            print(f"estimated cost ${cost['usd_low']:.2f}–${cost['usd_high']:.2f} ({cost['epochs']} epochs)")
        try:
            job = tuner.submit(
                dataset, yes=args.yes, confirm=lambda message: input(f"{message} [y/N] ").strip().lower() == "y"
            )
            print(f"{job.name}: {'existing job (not paying twice)' if job.reused else 'submitted'}")
            model = job.wait(progress=True)
        except HumortuneError as exc:
            print(f"{type(exc).__name__}: {exc}")
            return 1

        print(f"\ntuned model {model.id}\nendpoint    {model.endpoint}")
        rec = model.stats.get("reconciliation", {})
        if rec.get("ratio_to_low") is not None:
            print(f"billable tokens/epoch {rec['billable_tokens']:,} = ×{rec['ratio_to_low']} the estimate's low end")
        lineage = ModelRegistry(corpus).lineage(model.id)
        print(
            f"lineage: dataset {lineage['dataset']['id']}, prompt {lineage['prompt_version']}, "
            f"{len(lineage['videos'])} training/validation videos"
        )

        # Ask the tuned endpoint and the base model about one training clip, with the training prompt.
        video = next(e["video_sha256"] for e in lineage["examples"] if e["split"] == "train")
        uri = corpus.video(video).uri  # type: ignore[union-attr]
        client = default_client(settings)
        for name in (str(model.endpoint), settings.base_model):
            answer = client.generate(
                model=name, prompt=DEFAULT_PROMPT.text, video_uri=uri, media_resolution=dataset.media_resolution
            )
            print(f"\n{name.rsplit('/', 1)[-1]}:\n  {answer.text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
