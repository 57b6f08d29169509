"""Benchmark: ingest time grows linearly with the number of sources (issue 13's quadratic wait loop).

Tiny local clips (one 0.25 s PyAV clip made distinct by a trailing MP4 ``free`` box, so every file has
its own sha256 and is probed, hashed and stored for real) are imported and ingested into a fresh
workspace, cold and then warm (nothing to do), for a small and a large run. The baseline is the small
run, measured here: the per-source time of the large run should stay close to it (ratio ≈ 1; the old
``wait()`` on the whole pending set made it grow with the run size).

    python benchmarks/bench_ingest_scale.py [--sizes 1000,10000] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import json
import struct
import tempfile
import time
from pathlib import Path


def make_clips(directory: Path, count: int) -> list[Path]:
    from humortune.testing.videos import make_test_video

    directory.mkdir(parents=True, exist_ok=True)
    base = make_test_video(directory / "base.mp4", seconds=0.25, width=32, height=32, fps=4, audio=False)
    data = base.read_bytes()
    paths = []
    for i in range(count):
        payload = f"humortune-bench-{i:08d}".encode()
        path = directory / f"clip-{i:06d}.mp4"
        path.write_bytes(data + struct.pack(">I", 8 + len(payload)) + b"free" + payload)
        paths.append(path)
    return paths


def run(count: int, concurrency: int, root: Path) -> dict[str, float]:
    from humortune.ingest import Ingestor
    from humortune.settings import Settings
    from humortune.storage import LocalStorage
    from humortune.workspace import Corpus

    clips = make_clips(root / "clips", count)
    battery = root / "battery.json"
    battery.write_text(json.dumps([{"video_url": str(p), "human_said": f"roligt {i}"} for i, p in enumerate(clips)]))
    settings = Settings(workspace=root / "ws")
    with Corpus.open(settings=settings) as corpus:
        corpus.import_battery(battery)
        storage = LocalStorage(settings.workspace / "storage")
        figures = {}
        for phase in ("cold", "warm"):
            clock = time.perf_counter()
            report = Ingestor(corpus, storage, settings=settings, concurrency=concurrency).run()
            figures[phase] = time.perf_counter() - clock
            expected = (
                {"ok": count, "present": 0, "failed": 0}
                if phase == "cold"
                else {"ok": 0, "present": count, "failed": 0}
            )
            assert report.counts == expected, report.counts
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated run sizes (first = baseline)")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[int, dict[str, float]] = {}
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="humortune-bench-scale-") as tmp:
            results[size] = run(size, args.concurrency, Path(tmp))
        r = results[size]
        print(
            f"{size:>6} sources: cold {r['cold']:7.2f} s ({1000 * r['cold'] / size:.2f} ms/source), "
            f"warm {r['warm']:6.2f} s ({1000 * r['warm'] / size:.2f} ms/source)",
            flush=True,
        )
    base = sizes[0]
    for size in sizes[1:]:
        for phase in ("cold", "warm"):
            ratio = (results[size][phase] / size) / (results[base][phase] / base)
            print(f"per-source {phase} time, {size} vs {base} sources: x{ratio:.2f} (target: about 1, linear)")


if __name__ == "__main__":
    main()
