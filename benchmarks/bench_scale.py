"""Benchmark: how each step's cost grows with the corpus, 1k → 10k (→ 100k) local clips (issue 13).

Each size runs in its own child process (so its peak RSS is its own) on a fresh workspace: tiny unique local
clips (one 0.25 s PyAV clip, made distinct by a trailing MP4 ``free`` box, so every file has its own sha256
and is probed, hashed and stored for real) in a battery file, then, timed:

* ``import`` of the battery, and ``re-import`` of the unchanged battery;
* ``ingest cold`` (probe, hash, store every clip) and ``ingest warm`` (nothing to do);
* ``build`` a dataset version (split, rows, storage checks, validation, estimate, JSONL + manifest);
* ``validate`` the written JSONL files, as ``humortune validate FILE`` does;
* ``status`` (``humortune status``, in-process, output discarded);
* ``review queue page``: ``GET /review/`` right after an outside write (cold), with one cached analysis per
  clip inserted in bulk beforehand (not timed).

Printed: wall seconds per step and size, each step's growth factor per 10× clips with met/MISSED, the CPU
seconds' growth beside it (steadier than wall time on a shared machine), peak RSS per size, and per size and
per 10× step the targets: every step ≤ 12× per 10×; warm ingest ≤ 10% of cold; unchanged re-import ≤ 25%
of the first; peak RSS grows sub-linearly (< 10× per 10×). The build uses a validation share Vertex accepts
(at most 5,000 validation rows: 20% up to 10k clips, 4% at 100k).

100k clips take a long time on a loaded 2-core machine (25–40 min, mostly the cold ingest), so the default
stops at 10k; ``--max 100000`` adds the 100k run. ``--save FILE`` keeps each size's figures as it finishes
and skips sizes already in the file, so a long run can be resumed or reported again.

Sizes up to 10k run ``--repeat`` times (default 3, each in a fresh child and workspace) and their medians are
printed: a 1k step takes tens of milliseconds, where one run's noise could decide a growth factor alone. Within
every run, at every size, ``build`` and ``validate`` are timed three times after the one ingest (each build on
its own copy of the ingested workspace) and the median kept: a single 100k build varied by ±15% between runs
on an otherwise idle machine, which alone could move its growth factor from ×11 to ×14.

    python benchmarks/bench_scale.py [--max 10000] [--concurrency 4] [--repeat 3] [--save FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_ingest_scale import make_clips

STEPS = ["import", "re-import", "ingest cold", "ingest warm", "build", "validate", "status", "review queue page"]


def _timed(out: dict[str, float], step: str, fn: object) -> None:
    """Wall seconds of ``fn`` as ``out[step]``, its CPU seconds (all threads) as ``out["cpu " + step]``: on a
    shared machine CPU time is the steadier sign of how a step grows.

    Dirty pages are written out first (``os.sync``), so a step does not run beside the kernel's writeback of
    what the step before it wrote: the 100k clips (a gigabyte, written without fsync) were still being
    flushed during the 100k import, which no smaller size ever saw."""
    os.sync()
    start, cpu = time.perf_counter(), time.process_time()
    fn()  # type: ignore[operator]
    out[step], out[f"cpu {step}"] = time.perf_counter() - start, time.process_time() - cpu


def _median_of(out: dict[str, float], step: str, runs: list[dict[str, float]]) -> None:
    """The median wall and CPU seconds of several timed runs of one step."""
    for key in (step, f"cpu {step}"):
        out[key] = statistics.median(run[key] for run in runs)


def _snapshot(settings: object, path: Path) -> None:
    """A consistent copy of the workspace database (SQLite's backup API reads it under the open corpus)."""
    import sqlite3

    source = sqlite3.connect(Path(settings.workspace) / "humortune.db")  # type: ignore[attr-defined]
    target = sqlite3.connect(path)
    with source, target:
        source.backup(target)
    source.close()
    target.close()


def _insert_analyses(corpus: object) -> None:
    """One cached analysis per stored clip, in bulk (the review queue needs something to show)."""
    from humortune.schema import utcnow

    db = corpus.db  # type: ignore[attr-defined]
    now = utcnow().isoformat(timespec="microseconds")
    rows = [
        (f"an-{sha[:16]}", sha, uri, "gemini-2.5-flash", "p-bench", "two-stage", f"Berättelse {i}.", None, now)
        for i, (sha, uri) in enumerate(db.query("SELECT sha256, uri FROM videos"))
    ]
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO analyses (id, video_sha256, video_uri, model, prompt_version, mode, narrative, record_json,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def run_one(count: int, concurrency: int, root: Path, repeat: int = 3) -> dict[str, float]:
    """The child process: every step at one size; returns seconds per step and peak RSS (MB).

    ``build`` and ``validate`` are timed ``repeat`` times after the one ingest and their medians returned:
    each build on its own copy of the ingested workspace (the same work every time: nothing recorded, no
    dataset file in storage), the last one on the workspace itself, which the later steps then use."""
    from fastapi.testclient import TestClient

    from humortune.cli import main as cli
    from humortune.dataset import DatasetBuilder, validate_jsonl
    from humortune.dataset.issues import VideoFacts
    from humortune.feedback.app import create_review_app
    from humortune.feedback.security import ReviewSecurity, loopback_hosts
    from humortune.ingest import Ingestor
    from humortune.settings import Settings
    from humortune.storage import LocalStorage
    from humortune.workspace import Corpus

    clips = make_clips(root / "clips", count)
    battery = root / "battery.json"
    entries = [{"video_url": str(p), "human_said": f"Det roliga i detta klipp är {i}."} for i, p in enumerate(clips)]
    battery.write_text(json.dumps(entries), "utf-8")
    settings = Settings(workspace=root / "ws", offline=True)
    out: dict[str, float] = {}
    # Vertex takes at most 5,000 validation examples: 20% up to 10k clips, 4,000 rows at 100k.
    validation = min(0.2, 4000 / count)
    with Corpus.open(settings=settings) as corpus:
        _timed(out, "import", lambda: corpus.import_battery(battery))
        _timed(out, "re-import", lambda: corpus.import_battery(battery))
        storage = LocalStorage(settings.storage_uri)
        for phase in ("cold", "warm"):
            ingestor = Ingestor(corpus, storage, settings=settings, concurrency=concurrency)
            _timed(out, f"ingest {phase}", ingestor.run)
        snapshot, builds = root / "ingested.db", []
        _snapshot(settings, snapshot)
        for copy in range(repeat):
            ws = root / f"ws-copy-{copy}"
            if copy < repeat - 1:  # a copy of the ingested workspace, on the same storage
                ws.mkdir()
                shutil.copyfile(snapshot, ws / "humortune.db")
            target = Corpus.open(settings=Settings(workspace=ws, offline=True)) if copy < repeat - 1 else corpus
            builder = DatasetBuilder(target, storage, settings=settings)
            result = None

            def build(builder: DatasetBuilder = builder) -> None:
                nonlocal result
                result = builder.run(split=(1 - validation, validation), seed="scale")

            shutil.rmtree(storage.path("training/datasets"), ignore_errors=True)
            builds.append({})
            _timed(builds[-1], "build", build)
            assert result is not None and result.created and result.version.valid, result
            if target is not corpus:
                target.close()
                shutil.rmtree(ws)
        _median_of(out, "build", builds)
        version = result.version
        files = {"train": Path(version.train_uri.removeprefix("file://"))}
        if version.validation_uri:
            files["validation"] = Path(version.validation_uri.removeprefix("file://"))
        facts = {v.uri: VideoFacts(True, v.size_bytes, v.duration_s, v.has_audio) for v in corpus.videos()}
        validations: list[dict[str, float]] = [{} for _ in range(repeat)]
        for timed in validations:
            _timed(
                timed,
                "validate",
                lambda: validate_jsonl(files, base_model=settings.base_model, for_vertex=False, facts=facts),
            )
        _median_of(out, "validate", validations)
        with contextlib.redirect_stdout(io.StringIO()):
            _timed(out, "status", lambda: cli(["-w", str(settings.workspace), "status"]))
        _insert_analyses(corpus)
        security = ReviewSecurity(allowed_hosts=loopback_hosts() | {"testserver"})
        app = create_review_app(settings, corpus=corpus, storage=storage, security=security)
        with TestClient(app) as client:
            client.get(f"/review/?token={security.token}", follow_redirects=False)
            corpus.db.execute("UPDATE corrections SET niche = niche WHERE rowid = 1")  # an outside write
            _timed(out, "review queue page", lambda: client.get("/review/").raise_for_status())
    out["peak RSS MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=10_000, help="largest size: 10000 or 100000")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each size up to 10k (medians are printed)")
    parser.add_argument("--save", type=Path, help="JSON file: sizes in it are not run again, new ones are added")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        with tempfile.TemporaryDirectory(prefix="humortune-bench-scale-") as tmp:
            print(json.dumps(run_one(args.one, args.concurrency, Path(tmp))))
        return
    sizes = [n for n in (1_000, 10_000, 100_000) if n <= args.max]
    results = _load(args.save)
    for size in sizes:
        if size in results:  # a step-by-step run: a 100k size takes long, so each size is kept once measured
            print(f"{size:>7} clips: from {args.save}", flush=True)
            continue
        child = [sys.executable, __file__, "--one", str(size), "--concurrency", str(args.concurrency)]
        clock, runs = time.perf_counter(), []
        for _ in range(args.repeat if size <= 10_000 else 1):  # each a fresh child and workspace
            output = subprocess.run(child, check=True, capture_output=True, text=True).stdout
            runs.append(json.loads(output.splitlines()[-1]))
        results[size] = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        results[size]["wall s"] = time.perf_counter() - clock
        if args.save:
            args.save.write_text(json.dumps({str(n): r for n, r in results.items()}, indent=1), "utf-8")
        print(f"{size:>7} clips done: " + ", ".join(f"{k} {v:.2f}" for k, v in results[size].items()), flush=True)
    _report(sizes, results)


def _load(path: Path | None) -> dict[int, dict[str, float]]:
    if path is None or not path.exists():
        return {}
    return {int(n): r for n, r in json.loads(path.read_text("utf-8")).items()}


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _report(sizes: list[int], results: dict[int, dict[str, float]]) -> None:
    """Seconds per step and size, growth per 10× with its verdict, then the ratio targets per size."""
    pairs = list(itertools.pairwise(sizes))
    head = "".join(f"{f'{n // 1000}k s':>10}" for n in sizes)
    growth = "".join(f"{f'×{b // 1000}k/{a // 1000}k':>18}" for a, b in pairs)
    cpu = "".join(f"{f'cpu ×{b // 1000}k/{a // 1000}k':>16}" for a, b in pairs)
    print(f"\n{'step':<20}{head}{growth}{cpu}")
    for step in [*STEPS, "peak RSS MB"]:
        cells = "".join(f"{results[n][step]:>10.2f}" for n in sizes)
        limit, sign = (10.0, "<") if step == "peak RSS MB" else (12.0, "≤")
        factors = [results[b][step] / results[a][step] for a, b in pairs]
        marks = "".join(f"{f'{f:.1f} ' + _verdict(f < limit if sign == '<' else f <= limit):>18}" for f in factors)
        key = f"cpu {step}"
        cpus = "".join(
            f"{results[b][key] / results[a][key]:>16.1f}" if key in results[a] and results[a][key] else f"{'':>16}"
            for a, b in pairs
        )
        print(f"{step:<20}{cells}{marks}{cpus}")
    print("\ntargets: every step ≤ 12× per 10× clips; peak RSS < 10× per 10× (sub-linear)")
    for size in sizes:
        r = results[size]
        warm, again = r["ingest warm"] / r["ingest cold"], r["re-import"] / r["import"]
        print(
            f"{size // 1000:>4}k: warm ingest {warm:.1%} of cold — {_verdict(warm <= 0.10)} (≤ 10%); "
            f"unchanged re-import {again:.0%} of the first — {_verdict(again <= 0.25)} (≤ 25%)"
            + (f"; {r['wall s']:.0f} s in all" if "wall s" in r else "")
        )
    for a, b in pairs:
        # a step under 20 ms at the smaller size (an unchanged re-import) grows from timer noise: not judged
        steps = [s for s in STEPS if results[a][s] >= 0.02 and results[b][s] / results[a][s] > 12]
        rss = results[b]["peak RSS MB"] / results[a]["peak RSS MB"]
        print(
            f"{a // 1000}k → {b // 1000}k: growth {_verdict(not steps)}"
            + (f" (over 12×: {', '.join(steps)})" if steps else "")
            + f"; peak RSS ×{rss:.1f} — {_verdict(rss < 10)}"
        )


if __name__ == "__main__":
    main()
