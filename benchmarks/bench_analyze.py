"""Benchmark: analysis throughput against the loopback FakeGemini with 300 ms per call.

Setup (not timed): FakeGemini served over real HTTP on 127.0.0.1 with ``latency_s=0.3`` on every answer, a
real `GeminiClient` pointed at it (``base_url``), a fresh workspace, and N distinct ``gs://`` clips. Mode
``narrative`` (one model call per analysis), so the ideal wall time at concurrency C is N / C × 0.3 s.

Timed, all in the same run:

* ``concurrency 1``: the baseline, on fewer clips (``--n1``, default 20) to keep the run short;
* ``concurrency 16``: N clips (default 200) through `Analyzer.analyze_many`; target within 1.3× of ideal;
* ``async concurrency 16``: the same through `Analyzer.aanalyze_many` on fresh clips;
* ``cached rerun``: the same N clips again; target under 2% of the cold run;
* ``rate limit``: ``max_rps=5`` for ``--rate-seconds`` (default 20 s) at concurrency 16, measured from the
  arrival times at the server; target within 10% of 5 requests/s.

    python benchmarks/bench_analyze.py [--n 200] [--n1 20] [--concurrency 16] [--rate-seconds 20] [--fake-defaults]
"""

from __future__ import annotations

import argparse
import asyncio
import socketserver
import tempfile
import time
from pathlib import Path
from typing import Any

from humortune.analyzer.analyzer import AnalysisResult, Analyzer
from humortune.gemini import GeminiClient
from humortune.settings import Settings
from humortune.testing.fake_gemini import FakeGemini
from humortune.workspace import Corpus

LATENCY_S = 0.3


class TimedFake(FakeGemini):
    """FakeGemini that also records when each generateContent request arrived."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.arrivals: list[float] = []

    def handle(self, method: str, path: str, query: dict[str, str], raw: bytes, authorized: bool = True) -> Any:
        if path.endswith(":generateContent"):
            self.arrivals.append(time.monotonic())
        return super().handle(method, path, query, raw, authorized)


def clips(prefix: str, n: int) -> list[str]:
    return [f"gs://bench/training/videos/{prefix}-{i:05d}.mp4" for i in range(n)]


def run_sync(analyzer: Analyzer, videos: list[str], concurrency: int, **kw: Any) -> tuple[float, list[AnalysisResult]]:
    started = time.perf_counter()
    results = list(analyzer.analyze_many(videos, concurrency=concurrency, **kw))
    return time.perf_counter() - started, results


def run_async(analyzer: Analyzer, videos: list[str], concurrency: int) -> tuple[float, list[AnalysisResult]]:
    async def go() -> list[AnalysisResult]:
        return [r async for r in analyzer.aanalyze_many(videos, concurrency=concurrency)]

    started = time.perf_counter()
    results = asyncio.run(go())
    return time.perf_counter() - started, results


def check(results: list[AnalysisResult]) -> None:
    failed = [r for r in results if not r.ok]
    if failed:
        raise SystemExit(f"{len(failed)} analyses failed, first: {failed[0].error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--n1", type=int, default=20, help="clips for the concurrency-1 baseline")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate-seconds", type=float, default=20.0)
    parser.add_argument(
        "--fake-defaults", action="store_true", help="keep the fake server's Nagle and backlog of 5 (slower)"
    )
    args = parser.parse_args()
    n, c = args.n, args.concurrency
    # Two artefacts of the stdlib-based fake server, not of humortune or Vertex (`--fake-defaults` keeps them):
    # * it writes headers and body in two sends; with Nagle on, the body waits for the client's delayed ACK
    #   (~40 ms per call on Linux);
    # * its listen backlog is 5, so a burst of 16 new connections (the async client's first round) overflows
    #   it and some connections are reset, then retried after a 1 s backoff.
    if not args.fake_defaults:
        socketserver.StreamRequestHandler.disable_nagle_algorithm = True
        socketserver.TCPServer.request_queue_size = 64

    fake = TimedFake(latency_s=LATENCY_S)
    with tempfile.TemporaryDirectory(prefix="bench-analyze-") as tmp, fake.serve() as url:
        settings = Settings(workspace=Path(tmp) / "ws")
        client = GeminiClient.from_settings(settings, base_url=url)
        with Corpus.open(settings=settings) as corpus:
            analyzer = Analyzer("gemini-2.5-flash", client=client, settings=settings, corpus=corpus, mode="narrative")
            analyzer.analyze("gs://bench/training/videos/warm-up.mp4")  # imports, connection, first SQL

            t1, results = run_sync(analyzer, clips("c1", args.n1), 1)
            check(results)
            per_call = t1 / args.n1
            t16, results = run_sync(analyzer, clips("c16", n), c)
            check(results)
            ideal = n / c * LATENCY_S
            ta, results = run_async(analyzer, clips("async", n), c)
            check(results)
            tc, results = run_sync(analyzer, clips("c16", n), c)
            check(results)
            cached = sum(1 for r in results if r.analysis is not None and r.analysis.cached)

            rate_n = int(5 * args.rate_seconds) + 1
            fake.arrivals.clear()
            tr, results = run_sync(analyzer, clips("rate", rate_n), c, max_rps=5)
            check(results)
            arrivals = sorted(fake.arrivals)
            measured_rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
            client.close()

    tuned = "stdlib defaults" if args.fake_defaults else "Nagle off, backlog 64"
    print(f"fake latency per call          {LATENCY_S * 1000:.0f} ms (loopback HTTP, google-genai client, {tuned})")
    print(f"concurrency 1   ({args.n1:>3} clips)    {t1:7.2f} s   {per_call * 1000:6.0f} ms/clip (baseline)")
    print(
        f"concurrency {c:<3} ({n:>3} clips)    {t16:7.2f} s   ideal {ideal:.2f} s → {t16 / ideal:.2f}x ideal"
        f" (target ≤ 1.30x); {per_call * n / t16:.1f}x faster than concurrency 1"
    )
    print(f"async {c:<3}       ({n:>3} clips)    {ta:7.2f} s   → {ta / ideal:.2f}x ideal")
    print(f"cached rerun    ({n:>3} clips)    {tc:7.3f} s   {100 * tc / t16:.2f}% of cold (< 2%); {cached}/{n} hits")
    print(
        f"rate limit 5/s  ({rate_n:>3} calls)    {tr:7.2f} s   measured {measured_rate:.3f} req/s at the server "
        f"({100 * (measured_rate - 5) / 5:+.1f}%, target within ±10%)"
    )


if __name__ == "__main__":
    main()
