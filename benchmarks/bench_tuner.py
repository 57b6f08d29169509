"""What the Gemini boundary and the tuner cost on our side, measured against FakeGemini (offline, < 30 s).

    python benchmarks/bench_tuner.py [--n 200]

Figures, each with its baseline measured in the same run:

* generate(): google-genai's code path over MockTransport and over the loopback server, against the fake's own
  request handling (``FakeGemini.handle``) — the SDK + our wrapper's overhead per call;
* tuning_request() (the dry-run body, built by google-genai against a capturing transport) against one
  create_tuning_job() round trip;
* one offline submit → wait → register cycle (duplicate check, create, polls, lineage), per job;
* retries: a generate that meets two 503s (zero backoff) against a clean one.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from humortune.app import default_client
from humortune.gemini import GeminiClient, RetryPolicy
from humortune.schema import CostEstimate, DatasetVersion
from humortune.settings import Settings
from humortune.testing import FakeGemini
from humortune.tuner import Tuner
from humortune.workspace import Corpus

VIDEO = "gs://humortune-demo/training/videos/7301234567890123456.mp4"
P = "/v1beta1/projects/demo-proj/locations/us-central1"


def per_call(fn: Callable[[], object], n: int) -> float:
    """Median of 5 batches, seconds per call."""
    fn()
    batches = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        batches.append((time.perf_counter() - start) / n)
    return statistics.median(batches)


def dataset(tmp: Path, i: int) -> DatasetVersion:
    row = {
        "contents": [
            {"role": "user", "parts": [{"fileData": {"fileUri": VIDEO, "mimeType": "video/mp4"}}, {"text": "x"}]},
            {"role": "model", "parts": [{"text": "Det roliga i detta klipp är x. Y. Det fungerar för att z."}]},
        ]
    }
    path = tmp / f"d{i}" / "train.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(row) + "\n", "utf-8")
    est = CostEstimate(
        base_model="gemini-2.5-flash",
        epochs=4,
        media_resolution="MEDIA_RESOLUTION_LOW",
        examples=1,
        tokens_per_epoch_low=1000,
        tokens_per_epoch_high=1200,
        price_per_mtok_usd=5.0,
        price_source="bench",
        usd_low=0.02,
        usd_high=0.024,
    )
    return DatasetVersion(
        id=f"ds-bench{i:04d}",
        prompt_version="p-bench",
        media_resolution="MEDIA_RESOLUTION_LOW",
        storage_prefix=path.parent.as_uri(),
        train_uri=path.as_uri(),
        valid=True,
        estimate=est,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    n = parser.parse_args().n
    logging.getLogger("humortune").setLevel(logging.ERROR)  # the retry figure logs a warning per retry
    tmp = Path(tempfile.mkdtemp(prefix="bench-tuner-"))
    settings = Settings(workspace=tmp / "ws", project="demo-proj")
    no_wait = RetryPolicy(attempts=4, initial_s=0, max_s=0, sleep=lambda _: None)

    fake = FakeGemini()
    body = json.dumps({"contents": [{"role": "user", "parts": [{"fileData": {"file_uri": VIDEO}}, {"text": "x"}]}]})
    raw = per_call(lambda: fake.handle("POST", f"{P}/publishers/google/models/gemini-2.5-flash:generateContent", {},
                                       body.encode()), n)  # fmt: skip
    client = GeminiClient.from_settings(settings, transport=fake.transport(), retry=no_wait)

    def gen() -> object:
        return client.generate(model="gemini-2.5-flash", prompt="x", video_uri=VIDEO)

    mock = per_call(gen, n)
    with fake.serve() as url:
        served = GeminiClient.from_settings(settings, base_url=url, retry=no_wait)
        loop = per_call(lambda: served.generate(model="gemini-2.5-flash", prompt="x", video_uri=VIDEO), n // 2)
    print(f"generate, fake handler alone     {raw * 1e3:7.3f} ms/call (baseline)")
    print(f"generate, SDK over MockTransport {mock * 1e3:7.3f} ms/call  ×{mock / raw:.1f}")
    print(f"generate, SDK over loopback HTTP {loop * 1e3:7.3f} ms/call  ×{loop / raw:.1f}")

    def retried() -> object:
        fake.inject("503", times=2)
        return gen()

    retry = per_call(retried, n // 4)
    print(f"generate through two 503s        {retry * 1e3:7.3f} ms/call  ×{retry / mock:.2f} of a clean call")

    args = {"base_model": "gemini-2.5-flash", "train_uri": "gs://b/train.jsonl", "epochs": 4, "adapter_size": 8}
    dry = per_call(lambda: client.tuning_request(**args), n // 4)  # type: ignore[arg-type]
    create = per_call(lambda: client.create_tuning_job(**args), n // 4)  # type: ignore[arg-type]
    print(f"create_tuning_job round trip     {create * 1e3:7.3f} ms/call (baseline)")
    print(f"tuning_request (dry-run body)    {dry * 1e3:7.3f} ms/call  ×{dry / create:.2f}")

    offline = Settings(workspace=tmp / "off", project="demo-proj", offline=True)
    jobs = 20
    with Corpus.open(settings=offline) as corpus:
        oc = default_client(offline, retry=no_wait)
        start = time.perf_counter()
        for i in range(jobs):
            Tuner(client=oc, corpus=corpus, settings=offline).submit(dataset(tmp, i)).wait(
                progress=False, sleep=lambda _: None
            )
        cycle = (time.perf_counter() - start) / jobs
        start = time.perf_counter()
        for i in range(jobs):
            assert Tuner(client=oc, corpus=corpus, settings=offline).submit(dataset(tmp, i)).reused
        dup = (time.perf_counter() - start) / jobs
    print(f"offline submit → wait → register {cycle * 1e3:7.1f} ms/job (create + 3 polls + lineage)")
    print(f"duplicate submit (returns job)   {dup * 1e3:7.1f} ms/job  ×{dup / cycle:.2f} of a full cycle")


if __name__ == "__main__":
    main()
