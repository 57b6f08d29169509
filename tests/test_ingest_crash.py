"""kill -9 in the middle of an ingest, twice, then rerun: complete, no duplicates, nothing partial, no temp files."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from humortune.settings import Settings
from humortune.testing.videos import make_test_video
from humortune.workspace import Corpus
from tests.rigs.video_server import VideoServer

N = 24


def _visible_objects(storage: Path) -> list[Path]:
    folder = storage / "training" / "videos"
    return sorted(p for p in folder.glob("*.mp4") if not p.name.startswith(".")) if folder.is_dir() else []


def _assert_nothing_partial(storage: Path) -> None:
    # http sources are named by content hash, so a visible object's name must be the sha256 of its bytes.
    for obj in _visible_objects(storage):
        assert hashlib.sha256(obj.read_bytes()).hexdigest() == obj.stem, f"partial object visible: {obj.name}"


def _start(workspace: Path, battery: Path) -> subprocess.Popen[bytes]:
    code = "import sys; from humortune.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "HUMORTUNE_DOWNLOAD_BACKOFF_S": "0.05"}
    return subprocess.Popen(
        [sys.executable, "-c", code, "-w", str(workspace), "prepare", str(battery)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill_when(proc: subprocess.Popen[bytes], storage: Path, objects: int, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if len(_visible_objects(storage)) >= objects:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the ingest finished before it could be killed; slow the server down"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return len(_visible_objects(storage))


def test_kill_9_mid_ingest_then_rerun(tmp_path: Path) -> None:
    workspace, storage = tmp_path / "ws", tmp_path / "ws" / "storage"
    with VideoServer(latency=0.08) as server:
        items = []
        for i in range(N):
            clip = make_test_video(tmp_path / "clips" / f"{i}.mp4", seconds=1.0, seed=100 + i)
            items.append({"id": f"c{i}", "video_url": server.add_file(f"{i}.mp4", clip), "human_said": f"klipp {i}"})
        battery = tmp_path / "battery.json"
        battery.write_text(json.dumps(items))

        first = _kill_when(_start(workspace, battery), storage, objects=3)
        _assert_nothing_partial(storage)
        assert list((workspace / "tmp" / "ingest").iterdir())  # the killed run left its temp directory
        second = _kill_when(_start(workspace, battery), storage, objects=first + 8)
        _assert_nothing_partial(storage)
        assert 0 < first < second < N

        done = _start(workspace, battery)
        assert done.wait(timeout=120) == 0

    report = json.loads((workspace / "reports" / "ingest.json").read_text())
    assert report["counts"]["failed"] == 0
    assert report["counts"]["ok"] + report["counts"]["present"] == N
    assert report["counts"]["ok"] <= N - second  # what was stored before the kills was not uploaded again
    objects = _visible_objects(storage)
    assert len(objects) == N  # one object per clip: no duplicates
    _assert_nothing_partial(storage)
    with Corpus.open(settings=Settings(workspace=workspace)) as corpus:
        entries = corpus.entries()
        assert len(entries) == N and all(e.video is not None for e in entries)
        assert {e.video.sha256 for e in entries if e.video} == {o.stem for o in objects}
        assert len(corpus.videos()) == N
    leftovers = [
        p for p in workspace.rglob("*") if p.is_file() and (p.suffix in {".tmp", ".part"} or ".ytdl" in p.name)
    ]
    assert leftovers == []
    assert list((workspace / "tmp" / "ingest").iterdir()) == []
