"""Every injected fault, end to end: loopback server → real yt-dlp → probe → storage → per-URL outcome."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from humortune.ingest import Ingestor, SourceOutcome
from humortune.schema import Correction
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.testing.videos import make_test_video
from humortune.workspace import Corpus
from tests.rigs.video_server import VideoServer, reset, slow, stall, status, truncate

from .test_sources_ytdlp import pad_mp4

FAULTS = [
    *("ok", "503-then-200", "reset-mid-body", "slow-body"),  # recovered
    *("stalled-body", "cut-short", "truncated-file", "html", "404"),  # reported
]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, SourceOutcome], VideoServer, Path]]:
    root = tmp_path_factory.mktemp("faults")
    settings = Settings(workspace=root / "ws", download_timeout_s=0.5, download_attempts=2)
    with VideoServer() as server, Corpus.open(settings=settings) as corpus:
        for i, name in enumerate(FAULTS):
            clip = make_test_video(root / f"{name}.mp4", seconds=2.0, seed=20 + i)
            server.add_file(f"{name}.mp4", clip)
        pad_mp4(root / "reset-mid-body.mp4", root / "reset-mid-body.mp4", 2 * 1024 * 1024)  # several read blocks
        server.add_file("reset-mid-body.mp4", root / "reset-mid-body.mp4")
        truncated = (root / "truncated-file.mp4").read_bytes()
        server.add_bytes("truncated-file.mp4", truncated[: len(truncated) // 2])  # served whole, but broken
        server.add_bytes("html.mp4", b"<!DOCTYPE html><html><body>This video is unavailable</body></html>", "text/html")
        server.add_faults("503-then-200.mp4", status(503))
        server.add_faults("reset-mid-body.mp4", slow(chunk=1 << 20, delay=0), reset(after=700_000))
        server.add_faults("slow-body.mp4", slow(chunk=1 << 20, delay=0), slow(chunk=4096, delay=0.01))
        server.add_faults("stalled-body.mp4", *[stall(after=3000, seconds=2.0)] * 20)
        server.add_faults("cut-short.mp4", *[truncate(after=3000)] * 20)  # Content-Length promises more
        urls = {name: server.url("gone.mp4" if name == "404" else f"{name}.mp4") for name in FAULTS}
        for name, url in urls.items():
            corpus.add_correction(Correction(id=name, video_url=url, human_said=f"about {name}"))
        storage = LocalStorage(root / "storage")
        report = Ingestor(corpus, storage, settings=settings, concurrency=4, backoff_s=0.01).run()
        outcomes = {name: next(o for o in report.outcomes if o.url == urls[name]) for name in FAULTS}
        yield outcomes, server, root


@pytest.mark.parametrize("name", ["ok", "503-then-200", "reset-mid-body", "slow-body"])
def test_recoverable_faults_end_stored(run: tuple[dict[str, SourceOutcome], VideoServer, Path], name: str) -> None:
    outcomes, _, root = run
    outcome = outcomes[name]
    assert outcome.status == "ok", outcome
    assert (
        outcome.uri is not None
        and Path(outcome.uri.removeprefix("file://")).read_bytes() == (root / f"{name}.mp4").read_bytes()
    )


def test_503_then_200_took_a_second_attempt(run: tuple[dict[str, SourceOutcome], VideoServer, Path]) -> None:
    assert run[0]["503-then-200"].attempts == 2


def test_reset_was_resumed_inside_one_attempt(run: tuple[dict[str, SourceOutcome], VideoServer, Path]) -> None:
    outcomes, server, _ = run
    assert outcomes["reset-mid-body"].attempts == 1
    assert server.range_requests["reset-mid-body.mp4"] == 1


@pytest.mark.parametrize(
    ("name", "category", "attempts", "transient"),
    [
        ("stalled-body", "network", 2, True),
        ("cut-short", "network", 2, True),
        ("truncated-file", "not_video", 1, False),
        ("html", "unsupported", 1, False),
        ("404", "removed", 1, False),
    ],
)
def test_failures_are_categorised_with_a_fix(
    run: tuple[dict[str, SourceOutcome], VideoServer, Path], name: str, category: str, attempts: int, transient: bool
) -> None:
    outcome = run[0][name]
    assert outcome.status == "failed"
    assert (outcome.category, outcome.attempts, outcome.transient) == (category, attempts, transient)
    assert outcome.message and outcome.hint
    assert outcome.uri is None


def test_nothing_partial_is_left_behind(run: tuple[dict[str, SourceOutcome], VideoServer, Path]) -> None:
    _, _, root = run
    stored = sorted(p.name for p in (root / "storage" / "training" / "videos").iterdir() if p.suffix == ".mp4")
    assert len(stored) == 4
    leftovers = [
        p for p in root.rglob("*") if p.is_file() and (p.name.startswith(".") or p.suffix in {".part", ".tmp"})
    ]
    assert leftovers == []
    assert list((root / "ws" / "tmp" / "ingest").iterdir()) == []
