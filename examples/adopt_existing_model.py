"""Check the base model's lifecycle, then adopt a model tuned before humortune so it can be compared.

    python examples/adopt_existing_model.py [--workspace DIR] [--online NAME]

Offline by default: the bundled FakeGemini plays Vertex AI, and a tuning job is first made straight through
the client (as the owner did before humortune), then adopted. With ``--online NAME`` it adopts your real model
(``projects/…/models/…@1``, a ``…/tuningJobs/…`` name or the job's display name): set ``HUMORTUNE_PROJECT`` and
``HUMORTUNE_LOCATION`` and log in with ``gcloud auth application-default login``.
"""

from __future__ import annotations

import argparse

from humortune import Corpus, Settings, catalog
from humortune.app import default_client
from humortune.errors import HumortuneError
from humortune.gemini import GeminiClient
from humortune.tuner.adopt import adopt


def outside_model(client: GeminiClient) -> str:
    """Offline only: a job made without humortune, on a base that has since retired."""
    job = client.create_tuning_job(
        base_model="gemini-2.5-flash", train_uri="gs://owner/old/train.jsonl", display_name="humor-analysis-v1"
    )
    while not job.has_ended:
        job = client.get_tuning_job(job.name)
    return str(job.tuned_model)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=".humortune-example")
    parser.add_argument("--online", metavar="NAME", help="Adopt this real model or job (reads Vertex AI).")
    args = parser.parse_args()

    settings = Settings(workspace=args.workspace, offline=not args.online)
    print("default base model:", catalog.default_reason(settings.location))
    client = default_client(settings)
    try:
        with Corpus.open(settings=settings) as corpus:
            model = adopt(args.online or outside_model(client), client=client, corpus=corpus)
    except HumortuneError as exc:
        print(f"error: {exc}")
        return 1
    finally:
        client.close()
    print(f"adopted {model.id} (lineage {model.stats['lineage']}), base {model.base_model}")
    life = catalog.lifecycle(model.base_model, within_days=catalog.WARN_WITHIN_DAYS)
    if life.state in ("retiring", "retired"):
        print(f"{life.message()}: humortune retrain --from base --base-model {life.successor}, then compare")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
