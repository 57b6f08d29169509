"""Benchmark: ingest 200 clips from a loopback server that adds 100 ms to every request.

Everything is real except the internet: the server is `tests.rigs.video_server.VideoServer` in its
own process (so it does not compete for our GIL), downloads go through yt-dlp (generic extractor: two HTTP
requests per clip), every file is probed with PyAV, hashed and stored in `LocalStorage`.

Figures, all measured in this run:

* cold ingest of the clips at the default concurrency vs concurrency 1 (target: at least 4x faster);
* warm rerun of the same clips: no request reaches the server, nothing is uploaded (target: at most 5% of
  the cold time);
* peak RSS while ingesting one 5 MB vs one 50 MB file, each in a fresh subprocess, for LocalStorage and for
  GCSStorage (against the Cloud Storage emulator in another process): memory must not grow with file size.

    python benchmarks/bench_ingest.py [--clips 200] [--latency 0.1] [--c1-clips N] [--no-gcs]

``--c1-clips`` runs the concurrency-1 baseline on fewer clips and extrapolates linearly; the output says so.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from humortune.ingest import IngestReport

BENCH = Path(__file__).resolve()
sys.path.insert(0, str(BENCH.parents[1]))  # the test rigs live in tests/ at the repo root


# -- child process modes ------------------------------------------------------------------------------


def serve(directory: Path, latency: float) -> None:
    """Serve every file in ``directory``; print the port, then report counters on each stdin line."""
    from tests.rigs.video_server import VideoServer

    server = VideoServer(latency=latency)
    for path in sorted(directory.iterdir()):
        server.add_file(path.name, path)
    server.start()
    print(server.port, flush=True)
    for line in sys.stdin:  # "stats" → counters; "reset" → zero them; EOF → exit
        if line.strip() == "reset":
            server.reset_counters()
        print(json.dumps({"requests": sum(server.hits.values()), "bytes": server.bytes_sent}), flush=True)
    server.stop()


def rss_child(url: str, warmup_url: str, storage_uri: str, workspace: Path) -> None:
    """Ingest a warm-up clip, then one large file; print baseline and peak RSS (MB)."""
    from humortune.ingest import Ingestor
    from humortune.schema import Correction
    from humortune.settings import Settings
    from humortune.storage import open_storage
    from humortune.workspace import Corpus

    settings = Settings(workspace=workspace, storage=storage_uri or None, download_backoff_s=0.0)
    with Corpus.open(settings=settings) as corpus:
        storage = open_storage(settings=settings)
        corpus.add_correction(Correction(id="warmup", video_url=warmup_url, human_said="warm-up"))
        warm = Ingestor(corpus, storage, settings=settings).run()
        assert warm.counts["ok"] == 1, warm.to_dict()
        _reset_peak()
        baseline = _status_mb("VmRSS")
        corpus.add_correction(Correction(id="big", video_url=url, human_said="big"))
        report = Ingestor(corpus, storage, settings=settings).run()
        assert report.counts["ok"] == 1, report.to_dict()
        print(json.dumps({"baseline": baseline, "peak": _status_mb("VmHWM"), "bytes": report.bytes_uploaded}))


def _reset_peak() -> None:
    # Linux: "5" resets the peak-RSS watermark (VmHWM) to the current RSS, so the peak measured next is
    # the peak of the big ingest alone. (ru_maxrss cannot be reset and even survives exec.)
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- helpers --------------------------------------------------------------------------------------------


class Server:
    """The video server in a subprocess, with its counters on request."""

    def __init__(self, directory: Path, latency: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(BENCH), "--serve", str(directory), "--latency", str(latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def stats(self, reset: bool = False) -> dict[str, int]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("reset\n" if reset else "stats\n")
        self.proc.stdin.flush()
        return dict(json.loads(self.proc.stdout.readline()))

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


def make_clips(directory: Path, n: int) -> None:
    from humortune.testing.videos import make_test_video

    for i in range(n):
        make_test_video(directory / f"clip{i:04d}.mp4", seconds=1.0, seed=i)


def padded_mp4(source: Path, target: Path, size_mb: int) -> Path:
    """A valid MP4 of ``size_mb`` MB: a real clip plus a top-level ``free`` box (players skip it)."""
    data = source.read_bytes()
    pad = size_mb * 1024 * 1024 - len(data) - 8
    with open(target, "wb") as fh:
        fh.write(data)
        fh.write(struct.pack(">I", pad + 8) + b"free")
        chunk = b"\0" * (1024 * 1024)
        while pad > 0:
            fh.write(chunk[: min(pad, len(chunk))])
            pad -= len(chunk)
    return target


def ingest_all(urls: list[str], workspace: Path, concurrency: int) -> tuple[float, IngestReport]:
    from humortune.ingest import Ingestor
    from humortune.schema import Correction
    from humortune.settings import Settings
    from humortune.storage import LocalStorage
    from humortune.workspace import Corpus

    settings = Settings(workspace=workspace, download_backoff_s=0.1)
    with Corpus.open(settings=settings) as corpus:
        with corpus.db.transaction():
            for i, url in enumerate(urls):
                corpus.add_correction(Correction(id=f"c{i:04d}", video_url=url, human_said=f"klipp {i}"))
        storage = LocalStorage(workspace / "storage")
        start = time.perf_counter()
        report = Ingestor(corpus, storage, settings=settings, concurrency=concurrency).run()
        elapsed = time.perf_counter() - start
    assert report.counts["failed"] == 0, [o for o in report.failed][:3]
    return elapsed, report


def start_emulator() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    exe = shutil.which("gcp-storage-emulator") or "gcp-storage-emulator"
    proc = subprocess.Popen(
        [exe, "start", "--host=127.0.0.1", f"--port={port}", "--in-memory", "--default-bucket=bench", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return proc, endpoint
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the storage emulator did not start")


def measure_rss(server: Server, sizes: list[int], storage_uri: str, env: dict[str, str], root: Path) -> list[str]:
    lines = []
    for size in sizes:
        workspace = Path(tempfile.mkdtemp(dir=root, prefix=f"rss{size}-"))
        out = subprocess.run(
            [
                sys.executable,
                str(BENCH),
                "--rss-child",
                server.url(f"big{size}.mp4"),
                server.url("warmup.mp4"),
                storage_uri,
                str(workspace),
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **env},
        ).stdout
        data = json.loads(out.strip().splitlines()[-1])
        lines.append(
            f"  {size:>3} MB file: baseline {data['baseline']:6.1f} MB, peak {data['peak']:6.1f} MB "
            f"(+{data['peak'] - data['baseline']:5.1f} MB), stored {data['bytes'] / 2**20:.0f} MB"
        )
    return lines


# -- main -------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every request")
    parser.add_argument("--concurrency", type=int, default=None, help="default: settings.download_concurrency")
    parser.add_argument("--c1-clips", type=int, default=None, help="run the concurrency-1 baseline on fewer clips")
    parser.add_argument("--no-gcs", action="store_true", help="skip the GCS memory measurement")
    args = parser.parse_args()

    from humortune.settings import Settings

    concurrency = args.concurrency or Settings().download_concurrency
    root = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        clips = root / "clips"
        clips.mkdir()
        t = time.perf_counter()
        make_clips(clips, args.clips)
        padded_mp4(clips / "clip0000.mp4", clips / "big5.mp4", 5)
        padded_mp4(clips / "clip0000.mp4", clips / "big50.mp4", 50)
        padded_mp4(clips / "clip0000.mp4", clips / "big95.mp4", 95)
        shutil.copyfile(clips / "clip0001.mp4", clips / "warmup.mp4")
        print(f"setup: {args.clips} distinct clips made in {time.perf_counter() - t:.1f} s (not timed below)")
        server = Server(clips, args.latency)
        try:
            urls = [server.url(f"clip{i:04d}.mp4") for i in range(args.clips)]
            # warm-up of imports and caches (yt-dlp's extractor list, PyAV), not timed
            ingest_all([server.url("warmup.mp4")], root / "ws-warmup", 1)

            server.stats(reset=True)
            cold, cold_report = ingest_all(urls, root / "ws-cold", concurrency)
            served = server.stats()
            warm, warm_report = ingest_all(urls, root / "ws-cold", concurrency)
            after_warm = server.stats()
            c1_n = min(args.c1_clips or args.clips, args.clips)
            c1_time, _ = ingest_all(urls[:c1_n], root / "ws-c1", 1)
            c1_full = c1_time * args.clips / c1_n
        finally:
            server.close()

        per = args.clips / cold
        print(
            f"\ningest of {args.clips} clips, loopback server +{args.latency * 1000:.0f} ms per request, LocalStorage"
        )
        print(
            f"  cold, concurrency {concurrency:<2}: {cold:6.2f} s  ({per:5.1f} clips/s; "
            f"{served['requests']} requests, {served['bytes'] / 2**20:.1f} MB served)"
        )
        label = (
            "" if c1_n == args.clips else f"  [EXTRAPOLATED from {c1_n} clips: {c1_time:.2f} s x {args.clips}/{c1_n}]"
        )
        print(f"  cold, concurrency 1 : {c1_full:6.2f} s  ({args.clips / c1_full:5.1f} clips/s){label}")
        speedup = c1_full / cold
        print(f"  speed-up            : {speedup:6.1f}x  (target >= 4x: {'met' if speedup >= 4 else 'MISSED'})")
        moved = after_warm["requests"] - served["requests"]
        share = warm / cold
        print(
            f"  warm rerun          : {warm:6.3f} s = {share:.1%} of cold  (target <= 5%: "
            f"{'met' if share <= 0.05 else 'MISSED'}); requests to the server {moved}, "
            f"downloaded {warm_report.bytes_downloaded} B, uploaded {warm_report.bytes_uploaded} B, "
            f"{warm_report.counts['present']} already present"
        )
        assert cold_report.counts["ok"] == args.clips and warm_report.counts["present"] == args.clips

        server = Server(clips, 0.0)
        try:
            print("\npeak RSS while ingesting one file (fresh subprocess each; yt-dlp from loopback → storage)")
            print(" LocalStorage:")
            for line in measure_rss(server, [5, 50, 95], "", {}, root):
                print(line)
            if not args.no_gcs:
                emulator, endpoint = start_emulator()
                try:
                    env = {"STORAGE_EMULATOR_HOST": endpoint, "GOOGLE_CLOUD_PROJECT": "bench"}
                    print(" GCSStorage (emulator in its own process; resumable upload in 8 MiB chunks):")
                    for line in measure_rss(server, [5, 50, 95], "gs://bench/humortune", env, root):
                        print(line)
                finally:
                    emulator.send_signal(signal.SIGTERM)
                    emulator.wait(timeout=10)
        finally:
            server.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(Path(sys.argv[2]), float(sys.argv[4]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--rss-child":
        rss_child(sys.argv[2], sys.argv[3], sys.argv[4] or "", Path(sys.argv[5]))
    else:
        main()
