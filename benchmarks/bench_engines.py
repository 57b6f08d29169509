"""The workspace on PostgreSQL against SQLite, in the same run (issue 16).

    python benchmarks/bench_engines.py [--requests 300] [--clips 500] [--queue 2000]

Starts Debian's PostgreSQL in a temp dir (tests/_postgres.py, as the postgres user when run as root), then on
each engine, with the same data:

* ``cached /v1/analyze``: the service (in-process, offline FakeGemini) answering the same clip from the
  analysis cache, requests per second;
* ``analyses.recent`` (100 rows), ``corrections.sources`` (every clip), ``analyses.put`` (one upsert): store
  calls per second;
* the review queue page (``GET /review/`` through the review app, ``benchmarks/bench_review.py``'s corpus of
  ``--queue`` corrections with two models' analyses, reviews and an evaluation): cold (right after a write
  outside the review UI, so the queue table is rebuilt) and warm (the table reused), pages per second.

Each figure is printed with its ratio to SQLite (above 1: PostgreSQL is faster). Measured 2026-12-02 on the
shared 2-core machine while ~5 other test suites ran (load average 8-14), three runs of the same build; the
spread is the load, so read the ratios, not the rates (PostgreSQL 15 on loopback, fsync off):

    cached /v1/analyze (req/s)                sqlite   56-210   postgresql  31-72    ratio 0.20-1.27
    analyses.put upsert (calls/s)             sqlite 2600-7000  postgresql 270-400   ratio 0.04-0.13
    review queue page, cold (pages/s)         sqlite    9-13    postgresql 3.8-6.9   ratio 0.36-0.53
    review queue page, warm (pages/s)         sqlite   25-69    postgresql   9-18    ratio 0.18-0.36

docs/deploying.md ("Performance of a shared workspace") has every row.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/ rigs, when run from anywhere
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_review.populate

import random
import re

from bench_review import populate
from fastapi.testclient import TestClient
from tests._analyzer_support import Sleeps, fake_client, register, tuned_endpoint
from tests._postgres import running_server
from tests._workspace_support import add_clip, sha

from humortune.feedback import ReviewSecurity, create_review_app
from humortune.feedback.security import loopback_hosts
from humortune.schema import Analysis
from humortune.service.app import create_app
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.testing import FakeGemini
from humortune.workspace import Corpus, Stores

TOKEN = "bench-token-0123456789"
VIDEO = "gs://bkt/training/videos/7301234567890123456.mp4"


def per_second(fn: Callable[[], object], calls: int) -> float:
    """Calls per second, median of 5 batches."""
    fn()
    rates = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        rates.append(calls / (time.perf_counter() - start))
    return statistics.median(rates)


def measure(settings: Settings, clips: int, requests: int) -> dict[str, float]:
    corpus = Corpus.open(settings=settings)
    stores = Stores.of(corpus.db)
    for n in range(clips):
        add_clip(corpus, n)
    for n in range(clips):
        stores.analyses.put(
            Analysis(
                id=f"a{n}",
                video_sha256=sha(n),
                video_uri=f"file:///{n}.mp4",
                model="m",
                prompt_version="p1",
                mode="narrative",
                narrative="En läsning.",
            )
        )
    client = fake_client(settings, FakeGemini(strict=True), sleeps=Sleeps())
    model_id, endpoint = tuned_endpoint(client)
    register(corpus, model_id, endpoint)
    served = settings.model_copy(update={"storage": "gs://bkt"})
    app = create_app(served, corpus=corpus, client=client, storage=LocalStorage(settings.workspace / "st"), token=TOKEN)
    figures: dict[str, float] = {}
    with TestClient(app) as api:
        auth = {"Authorization": f"Bearer {TOKEN}"}

        def analyze() -> None:
            response = api.post("/v1/analyze", json={"video": VIDEO, "mode": "narrative"}, headers=auth)
            assert response.status_code == 200, response.text

        figures["cached /v1/analyze (req/s)"] = per_second(analyze, requests // 5)
    figures["analyses.recent 100 rows (calls/s)"] = per_second(lambda: stores.analyses.recent(limit=100), 20)
    figures[f"corrections.sources {clips} rows (calls/s)"] = per_second(stores.corrections.sources, 5)
    upsert = Analysis(
        id="a0",
        video_sha256=sha(0),
        video_uri="file:///0.mp4",
        model="m",
        prompt_version="p1",
        mode="narrative",
        narrative="Ändrad.",
    )
    figures["analyses.put upsert (calls/s)"] = per_second(lambda: stores.analyses.put(upsert), 50)
    client.close()
    corpus.close()
    return figures


def measure_queue(settings: Settings, corrections: int) -> dict[str, float]:
    """The review queue page through the review app, cold and warm, pages per second."""
    figures: dict[str, float] = {}
    with Corpus.open(settings=settings) as corpus:
        storage = LocalStorage(settings.workspace / "st")
        populate(corpus, storage.root_uri, corrections, random.Random(corrections))
        security = ReviewSecurity(allowed_hosts=loopback_hosts() | {"testserver"})
        app = create_review_app(settings, corpus=corpus, storage=storage, security=security)
        with TestClient(app) as client:
            client.get(f"/review/?token={security.token}", follow_redirects=False)
            assert re.search(r'name="csrf_token"', client.get("/review/").text)

            def page(cold: bool) -> None:
                if cold:  # a write outside the review UI (an analysis, an import) makes the queue stale
                    corpus.db.execute("UPDATE corrections SET niche = niche WHERE id = 'c0'")
                assert client.get("/review/").status_code == 200

            figures["review queue page, cold (pages/s)"] = per_second(lambda: page(True), 4)
            figures["review queue page, warm (pages/s)"] = per_second(lambda: page(False), 20)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clips", type=int, default=500)
    parser.add_argument("--queue", type=int, default=2000, help="corrections behind the review queue page")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-engines-"))
    with running_server() as server, server.schema() as url, server.schema() as queue_url:
        results = {
            "sqlite": measure(Settings(workspace=root / "sqlite"), args.clips, args.requests)
            | measure_queue(Settings(workspace=root / "sqlite-queue"), args.queue),
            "postgresql": measure(Settings(workspace=root / "pg", database_url=url), args.clips, args.requests)
            | measure_queue(Settings(workspace=root / "pg-queue", database_url=queue_url), args.queue),
        }
    print(
        f"{args.clips} clips, {args.queue} queue corrections; median of 5 batches;"
        f" PostgreSQL {server.port} on loopback, fsync off"
    )
    for name, base in results["sqlite"].items():
        pg = results["postgresql"][name]
        print(f"{name:<42} sqlite {base:10.1f}   postgresql {pg:10.1f}   ratio {pg / base:5.2f}")


if __name__ == "__main__":
    main()
