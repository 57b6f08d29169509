"""``humortune ingest`` and ``humortune prepare``: local storage offline, and gs:// against the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from humortune.cli import main
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.testing.videos import make_test_video
from humortune.workspace import Corpus
from tests.rigs.gcs_emulator import GCSEmulator

from .conftest import SAMPLE_BATTERY


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def emulator() -> Iterator[GCSEmulator]:
    with GCSEmulator() as emu:
        yield emu


def test_prepare_ingests_the_sample_battery_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    code, out, _ = run(capsys, "-w", str(ws), "prepare", str(SAMPLE_BATTERY))
    assert code == 0, out
    assert "imported 12 item(s)" in out and "12 stored, 0 already present, 0 failed" in out
    report = json.loads((ws / "reports" / "ingest.json").read_text())
    assert report["counts"] == {"ok": 12, "present": 0, "failed": 0}
    assert report["storage"] == (ws / "storage").resolve().as_uri()
    assert len(LocalStorage(ws / "storage").list("training/videos/")) == 12
    with Corpus.open(settings=Settings(workspace=ws)) as corpus:
        assert corpus.status()["corrections_without_video"] == 0

    code, out, _ = run(capsys, "-w", str(ws), "prepare", str(SAMPLE_BATTERY))
    assert code == 0 and "0 stored, 12 already present" in out and "0.0 MB up" in out


def test_ingest_reports_failures_and_only_failed_retries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws, clips = tmp_path / "ws", tmp_path / "clips"
    make_test_video(clips / "a.mp4", seconds=1.0, seed=1)
    battery = tmp_path / "battery.json"
    battery.write_text(
        json.dumps(
            [
                {"id": "a", "video_url": "clips/a.mp4", "human_said": "roligt a"},
                {"id": "b", "video_url": "clips/b.mp4", "human_said": "roligt b"},
            ]
        )
    )
    assert run(capsys, "-w", str(ws), "import", str(battery))[0] == 0
    code, out, err = run(capsys, "-w", str(ws), "ingest", "--concurrency", "2")
    assert code == 1
    assert "1 stored, 0 already present, 1 failed" in out
    assert "removed" in err and "no such file" in err and "check the path" in err
    assert "humortune ingest --only-failed" in err

    make_test_video(clips / "b.mp4", seconds=1.0, seed=2)
    code, out, _ = run(capsys, "-w", str(ws), "ingest", "--only-failed", "--report", str(tmp_path / "r.json"))
    assert code == 0 and "1 stored, 0 already present, 0 failed" in out
    assert json.loads((tmp_path / "r.json").read_text())["counts"] == {"ok": 1, "present": 0, "failed": 0}

    code, out, _ = run(capsys, "-w", str(ws), "ingest", "--all")
    assert code == 0 and "0 stored, 2 already present" in out and "present" in out and "a.mp4" in out


def test_bad_concurrency_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "-w", str(tmp_path / "ws"), "ingest", "--concurrency", "0")
    assert code == 2 and "concurrency" in err


def test_prepare_with_gcs_storage_against_the_emulator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, emulator: GCSEmulator
) -> None:
    emulator.client().create_bucket("humortune-test")
    for name, value in emulator.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HUMORTUNE_STORAGE", "gs://humortune-test/tt")
    ws = tmp_path / "ws"
    code, out, err = run(capsys, "-w", str(ws), "prepare", str(SAMPLE_BATTERY))
    assert code == 0, out + err
    assert "12 stored" in out and "gs://humortune-test/tt" in out
    blobs = list(emulator.client().list_blobs("humortune-test", prefix="tt/training/videos/"))
    assert len(blobs) == 12
    assert all(len((b.metadata or {}).get("sha256", "")) == 64 for b in blobs)
    with Corpus.open(settings=Settings(workspace=ws)) as corpus:
        videos = corpus.videos()
        assert len(videos) == 12
        assert all(v.uri.startswith("gs://humortune-test/tt/training/videos/") for v in videos)
        assert {v.uri.rsplit("/", 1)[1] for v in videos} == {b.name.rsplit("/", 1)[1] for b in blobs}

    code, out, _ = run(capsys, "-w", str(ws), "prepare", str(SAMPLE_BATTERY))
    assert code == 0 and "0 stored, 12 already present" in out


def no_google_credentials(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No ADC file, no key file, no emulator, and no GCE metadata server probe (it would hang offline)."""
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "STORAGE_EMULATOR_HOST", "HUMORTUNE_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(home / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("HUMORTUNE_PROJECT", "demo-proj")


@pytest.mark.parametrize("command", ["ingest", "prepare"])
def test_gcs_storage_without_credentials_stops_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    no_google_credentials(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("HUMORTUNE_STORAGE", "gs://humortune-test/tt")
    ws = tmp_path / "ws"
    args = ["prepare", str(SAMPLE_BATTERY)] if command == "prepare" else ["ingest"]
    if command == "ingest":
        assert run(capsys, "-w", str(ws), "import", str(SAMPLE_BATTERY))[0] == 0
    code, out, err = run(capsys, "-w", str(ws), *args)
    assert code == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "no Google Cloud credentials" in lines[0], err
    assert "gcloud auth application-default login" in lines[0]
    assert "is a local file" not in out + err and "3. build" not in out  # prepare never carried on into build
    with Corpus.open(settings=Settings(workspace=ws)) as corpus:  # no per-clip failure was recorded
        assert corpus.db.query("SELECT * FROM ingest_status") == []


def test_prepare_runs_the_preflight_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10 * 2**30, 10 * 2**30 - 2**20, 2**20))  # type: ignore[attr-defined]
    ws = tmp_path / "ws"
    code, out, err = run(capsys, "-w", str(ws), "prepare", str(SAMPLE_BATTERY))
    assert code == 1 and "preflight disk" in err and len(err.strip().splitlines()) == 1
    assert "1. import" not in out
    with Corpus.open(settings=Settings(workspace=ws)) as corpus:
        assert corpus.db.query("SELECT * FROM corrections") == []  # nothing was imported
