"""Benchmark: the review UI's queue page and saves with 10,000 corrections in the corpus.

Setup (not timed): a fresh workspace with N corrections (default 10,000), each linked to its own stored
video row, N analyses by two models (half the clips have both, so there are disagreements), a third of
them already reviewed, and an evaluation with per-clip scores (so the low-score reason has work to do).
The same is built with 100 corrections as the baseline, in the same run.

Timed, through the real app (FastAPI TestClient, in process, cookie session, CSRF):

* ``queue page``: ``GET /review/`` cold (right after a write outside the review UI, so the queue table is
  rebuilt from SQL), warm (the queue table reused), and warm with a niche filter; target < 100 ms (median, cold);
* ``save``: ``POST /review/clip/<id>/save`` with an edited record (transaction + redirect to the next clip,
  which runs the queue query again); target p95 < 50 ms;
* ``store.save``: the same through `ReviewStore.save` alone (no HTTP).

    python benchmarks/bench_review.py [--n 10000] [--repeat 30] [--saves 100]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from humortune.feedback import ReviewSecurity, ReviewStore, create_review_app
from humortune.feedback.security import loopback_hosts
from humortune.schema import HumorRecord, utcnow
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.workspace import Corpus

BASE = "gemini-2.5-flash"
TUNED = "projects/p/locations/us-central1/models/42@1"
NICHES = ["restaurant", "service", "retail", "gym", None]
RECORD: dict[str, Any] = {
    "summary": "En servitör bär fem tallrikar och snubblar, men räddar allt med en piruett.",
    "mechanism": "förväntad katastrof som vänds till elegant triumf",
    "why_it_works": "Spänningen byggs upp och släpps med en oväntad, skicklig vändning.",
    "audience": "Restaurangpersonal och alla som jobbat i service",
    "category": "comedy",
    "quality": "good",
    "replicable": True,
}
CATEGORIES = ["comedy", "wholesome", "relatable", "clever", "chaotic"]


def populate(corpus: Corpus, storage_uri: str, n: int, rng: random.Random) -> list[str]:
    """N corrections + videos + analyses + reviews + an evaluation, inserted in bulk; returns pending ids."""
    now = utcnow()

    def stamp(i: int) -> str:
        return now.replace(microsecond=i % 1_000_000).isoformat(timespec="microseconds")

    videos, corrections, analyses, reviews, items = [], [], [], [], []
    for i in range(n):
        sha = hashlib.sha256(f"clip-{i}".encode()).hexdigest()
        tid = str(7_300_000_000_000_000_000 + i)
        videos.append((sha, tid, 100_000, 12.0, 576, 1024, "h264", 30.0, 1, "video/mp4", "mp4",
                       f"{storage_uri}/training/videos/{tid}.mp4", stamp(i)))  # fmt: skip
        record = {**RECORD, "category": rng.choice(CATEGORIES)}
        corrections.append((f"c{i}", f"https://www.tiktok.com/@u/video/{tid}", f"tiktok:{tid}", "Gemini sa något.",
                            f"Ägarens läsning {i}.", json.dumps(record), rng.choice(NICHES), "battery", "{}",
                            f"h{i}", sha, stamp(i), stamp(i)))  # fmt: skip
        models = [BASE, TUNED] if i % 2 == 0 else [rng.choice([BASE, TUNED])]
        for model in models:
            aid = "an-" + hashlib.sha256(f"{sha}{model}".encode()).hexdigest()[:16]
            answer = {**RECORD, "category": rng.choice(CATEGORIES)}
            analyses.append((aid, sha, f"gs://b/training/videos/{tid}.mp4", model, "p1", "two-stage",
                             f"Modellens berättelse om klipp {i}.", json.dumps(answer), stamp(i)))  # fmt: skip
            if rng.random() < 0.33:
                reviews.append((f"c{i}", aid, model, None, rng.choice(["edit", "accept", "skip"]), "{}", stamp(i)))
        if i % 3 == 0:
            items.append(("ev-1", f"c{i}", json.dumps({"overall": rng.random()})))
    with corpus.db.transaction() as conn:
        conn.executemany("INSERT INTO videos VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", videos)
        conn.executemany(
            "INSERT INTO corrections (id, video_url, video_key, gemini_said, human_said, record_json, niche, source,"
            " extra_json, content_hash, video_sha256, created_at, updated_at) VALUES"
            " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            corrections,
        )
        conn.executemany(
            "INSERT INTO analyses (id, video_sha256, video_uri, model, prompt_version, mode, narrative, record_json,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            analyses,
        )
        conn.executemany(
            "INSERT INTO reviews (correction_id, analysis_id, model, dataset_id, action, diff_json, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            reviews,
        )
        conn.execute("INSERT INTO evaluations (id, model, created_at, summary_json) VALUES ('ev-1', ?, ?, '{}')",
                     (TUNED, stamp(0)))  # fmt: skip
        conn.executemany("INSERT INTO evaluation_items VALUES (?, ?, ?)", items)
    reviewed = {r[1] for r in reviews}
    return [a[0] for a in analyses if a[0] not in reviewed]


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def measure(n: int, repeat: int, saves: int, workdir: Path) -> dict[str, tuple[float, float]]:
    settings = Settings(workspace=workdir / f"ws-{n}")
    rng = random.Random(n)
    out: dict[str, tuple[float, float]] = {}
    with Corpus.open(settings=settings) as corpus:
        storage = LocalStorage(settings.storage_uri)
        pending = populate(corpus, storage.root_uri, n, rng)
        security = ReviewSecurity(allowed_hosts=loopback_hosts() | {"testserver"})
        app = create_review_app(settings, corpus=corpus, storage=storage, security=security)
        with TestClient(app) as client:
            client.get(f"/review/?token={security.token}", follow_redirects=False)
            html = client.get("/review/").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
            cases = [
                ("queue page, cold (after any outside change)", "/review/", True),
                ("queue page, warm", "/review/", False),
                ("queue page, niche filter", "/review/?niche=restaurant", False),
            ]
            for label, url, cold in cases:
                times = []
                for _ in range(repeat):
                    if cold:  # a write outside the review UI (an analysis run, an import) makes the queue stale
                        corpus.db.execute("UPDATE corrections SET niche = niche WHERE id = 'c0'")
                    start = time.perf_counter()
                    response = client.get(url)
                    times.append(time.perf_counter() - start)
                    assert response.status_code == 200
                out[label] = _ms(times)
            form = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in RECORD.items()}
            times = []
            for aid in pending[:saves]:
                data = {**form, "csrf_token": csrf, "narrative": f"Ägaren rättar {aid}.", "category": "clever"}
                start = time.perf_counter()
                response = client.post(
                    f"/review/clip/{aid}/save",
                    data=data,
                    headers={"Origin": "http://testserver"},
                    follow_redirects=False,
                )
                times.append(time.perf_counter() - start)
                assert response.status_code == 303, response.text
            out["save (HTTP, incl. next-clip query)"] = _ms(times)
        store = ReviewStore(corpus)
        record = HumorRecord.model_validate(RECORD)
        times = []
        for aid in pending[saves : 2 * saves]:
            start = time.perf_counter()
            store.save(aid, narrative="Ägaren.", record=record, niche="restaurant")
            times.append(time.perf_counter() - start)
        out["store.save (no HTTP)"] = _ms(times)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--saves", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = measure(args.baseline, args.repeat, min(args.saves, args.baseline // 4), Path(tmp))
        big = measure(args.n, args.repeat, args.saves, Path(tmp))
    print(f"review UI, {args.n:,} corrections vs a {args.baseline}-correction baseline (same run)")
    print(f"{'':46} {'median ms':>10} {'p95 ms':>8} {'baseline':>9} {'ratio':>6}")
    for label, (median, p95) in big.items():
        b_median, _ = base[label]
        print(f"{label:46} {median:10.1f} {p95:8.1f} {b_median:9.1f} {median / b_median:6.1f}x")
    cold = big["queue page, cold (after any outside change)"][0]
    warm = big["queue page, warm"][0]
    save = big["save (HTTP, incl. next-clip query)"][1]
    verdict = {True: "met", False: "MISSED"}
    print(
        f"targets: queue page < 100 ms: warm {verdict[warm < 100]} ({warm:.0f} ms), cold {verdict[cold < 100]}"
        f" ({cold:.0f} ms); save p95 < 50 ms: {verdict[save < 50]} ({save:.0f} ms)"
    )


if __name__ == "__main__":
    main()
