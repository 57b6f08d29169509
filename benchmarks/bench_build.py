"""Benchmark: build + validate 10,000 examples from an already-ingested corpus.

Setup (not timed): a fresh workspace with N corrections whose videos are already stored and probed (a few
bytes each in LocalStorage; nothing is probed or downloaded). Timed:

* ``build``: `DatasetBuilder.run` end to end: load the corpus, split, build rows, check that every video
  exists in storage, validate every row, estimate, write train/validation JSONL + manifest, record the
  version and its examples;
* ``rebuild``: the same build again (same id, nothing written);
* ``validate_jsonl``: re-validating the written files from disk, as ``humortune validate FILE`` does;
* baseline: plain ``json.dumps`` of the same row dicts (one JSONL line each), in the same run.

Targets: build < 2 s on the 2-core dev machine and < 10x the json.dumps baseline.

    python benchmarks/bench_build.py [--n 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from humortune.dataset import DatasetBuilder, validate_jsonl
from humortune.dataset.issues import VideoFacts
from humortune.schema import Correction, VideoAsset
from humortune.settings import Settings
from humortune.storage import LocalStorage, video_key
from humortune.workspace import Corpus

NICHES = ("restaurant", "cats", "gym", "office", None)


def make_corpus(root: Path, n: int) -> tuple[Settings, Corpus, LocalStorage]:
    settings = Settings(workspace=root / "ws")
    corpus = Corpus.open(settings=settings)
    storage = LocalStorage(root / "ws" / "storage")
    with corpus.db.transaction():
        for i in range(n):
            vid = str(7_300_000_000_000_000_000 + i)
            data = f"clip {i}".encode()
            sha = hashlib.sha256(data).hexdigest()
            key = video_key(vid)
            storage.put_bytes(key, data, content_type="video/mp4")
            corpus.add_correction(
                Correction(
                    id=f"c{i:06d}",
                    video_url=f"https://www.tiktok.com/@u/video/{vid}",
                    human_said=(
                        f"Det roliga i detta klipp är att katten nummer {i} välter koppen och sedan tittar "
                        "oskyldigt in i kameran. Det fungerar för att alla kattägare känner igen blicken; "
                        "kontrasten mellan brott och min gör det. Åäö."
                    ),
                    niche=NICHES[i % len(NICHES)],
                )
            )
            corpus.add_video(
                VideoAsset(
                    sha256=sha, source_id=vid, size_bytes=5_000_000 + i, duration_s=15.0 + (i % 40),
                    width=720, height=1280, codec="h264", fps=30.0, has_audio=i % 7 != 0, mime="video/mp4",
                    uri=storage.uri(key),
                )
            )  # fmt: skip
            corpus.link_video(f"tiktok:{vid}", sha)
    return settings, corpus, storage


def timed(fn: object, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        result = fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench_build_"))
    t = time.perf_counter()
    settings, corpus, storage = make_corpus(root, args.n)
    print(f"setup: {args.n} ingested corrections in {time.perf_counter() - t:.1f} s (not timed)")

    builder = DatasetBuilder(corpus, storage, settings=settings)
    # The first build also records 10,000 split assignments; later fresh builds (another seed: a new id)
    # write their own files, manifest, version and examples. Baseline runs are interleaved with them so
    # machine load hits both alike.
    rows: list[object] = []
    build_times, dumps_times = [], []
    version = None
    for i in range(args.repeat):
        gc.collect()
        t = time.perf_counter()
        result = builder.run(split=(0.8, 0.2), seed=f"bench-{i}")
        build_times.append(time.perf_counter() - t)
        assert result.created and result.version.valid, result.version.errors
        if version is None:
            version = result.version
            files = {"train": _path(version.train_uri), "validation": _path(version.validation_uri or "")}
            rows = [json.loads(line) for f in files.values() for line in f.read_text("utf-8").splitlines()]
        for _ in range(2):
            gc.collect()
            t = time.perf_counter()
            [json.dumps(r, ensure_ascii=False) for r in rows]
            dumps_times.append(time.perf_counter() - t)
    assert version is not None
    build_s, first_s = statistics.median(build_times), build_times[0]
    dumps_s = statistics.median(dumps_times)

    rebuild_s, again = timed(lambda: builder.run(split=(0.8, 0.2), seed="bench-0"), args.repeat)
    assert not again.created and again.version.id == version.id  # type: ignore[attr-defined]

    facts = {v.uri: VideoFacts(True, v.size_bytes, v.duration_s, v.has_audio) for v in corpus.videos()}
    validate_s, report = timed(
        lambda: validate_jsonl(files, base_model=settings.base_model, for_vertex=False, facts=facts), args.repeat
    )
    assert report.ok  # type: ignore[attr-defined]

    def line(label: str, seconds: float) -> None:
        print(f"{label:<42} {seconds * 1000:8.1f} ms = {seconds / dumps_s:5.1f}x json.dumps")

    print(f"rows: {sum(version.counts.values())} ({version.counts})")
    print(f"{'baseline: json.dumps of the same rows':<42} {dumps_s * 1000:8.1f} ms (median of {len(dumps_times)})")
    line("first build (also records the splits)", first_s)
    line(f"build + validate (median of {len(build_times)} fresh builds)", build_s)
    line("rebuild (same id, nothing written)", rebuild_s)
    line("validate_jsonl of the written files", validate_s)
    met = build_s < 2 and build_s / dumps_s < 10
    print(f"target: build < 2000 ms and < 10x json.dumps: {'MET' if met else 'NOT MET'}")
    corpus.close()


def _path(uri: str) -> Path:
    return Path(unquote(urlsplit(uri).path))


if __name__ == "__main__":
    main()
