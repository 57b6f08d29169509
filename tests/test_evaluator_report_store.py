"""Report files are rewritten only when what they show changed, and live in the workspace's storage, where the
review app reads them on any machine sharing that storage and database (issues 13 and 16)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import humortune.evaluator.report as report_module
from humortune.errors import StorageError
from humortune.evaluator.judge import LexicalJudge
from humortune.evaluator.results import EvaluationReport
from humortune.feedback.app import create_review_app
from humortune.feedback.security import ReviewSecurity, loopback_hosts
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.workspace import Corpus, Stores
from tests._evaluator_support import BASE, TUNED, build, evaluator

TOKEN = "t0ken-for-the-report-storage-tests-0123456789"


def _files(report: EvaluationReport) -> dict[str, tuple[int, int, bytes]]:
    folder = Path(str(report.report_path)).parent
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.iterdir())}


def _record(corpus: Corpus, evaluation_id: str) -> Any:
    record = Stores.of(corpus.db).evaluations.get(evaluation_id)
    assert record is not None
    return record


def test_a_warm_compare_leaves_an_identical_report_alone(
    corpus: Corpus, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(corpus, 30)
    ev = evaluator(corpus, settings, judge=LexicalJudge(position_bias=0.2))
    first = ev.compare(TUNED, BASE)
    before, key = _files(first), _record(corpus, first.id).report_key
    items = Stores.of(corpus.db).evaluations.items(first.id)
    storage = LocalStorage(settings.storage_uri)
    assert key is not None and storage.read_bytes(key) == before["report.html"][2]

    def no_render(data: dict[str, Any]) -> str:
        raise AssertionError("an identical report must not be rendered again")

    monkeypatch.setattr(report_module, "render_html", no_render)
    monkeypatch.setattr(LocalStorage, "put_bytes", no_render)
    again = ev.compare(TUNED, BASE)  # judge verdicts and text scores now cached: the judges spend nothing
    assert again.id == first.id and again.created_at >= first.created_at
    assert _files(again) == before  # same files: same inode, same mtime, same bytes
    record = _record(corpus, again.id)
    assert record.report_key == key and record.summary["created_at"] == again.created_at
    assert Stores.of(corpus.db).evaluations.items(again.id) == items  # kept, not lost with the old row


def test_the_report_is_rewritten_when_an_input_changes(corpus: Corpus, settings: Settings) -> None:
    build(corpus, 30)
    first = evaluator(corpus, settings, resamples=300).compare(TUNED, BASE)
    before, key = _files(first), _record(corpus, first.id).report_key
    # the same models on the same clips (same evaluation id), but other bootstrap intervals
    again = evaluator(corpus, settings, resamples=200).compare(TUNED, BASE)
    assert again.id == first.id
    after, new_key = _files(again), _record(corpus, again.id).report_key
    assert after["report.json"][2] != before["report.json"][2] and after["report.html"][2] != before["report.html"][2]
    shown = json.loads(after["report.json"][2])["comparison"]["win_rate"]
    assert again.comparison is not None and shown["low"] == pytest.approx(again.comparison.win_rate.low)
    assert new_key is not None and new_key != key
    storage = LocalStorage(settings.storage_uri)
    assert storage.read_bytes(new_key) == after["report.html"][2]
    assert key is not None and storage.exists(key)  # put-if-absent: the earlier report stays where it was


def test_a_missing_local_copy_is_written_again(corpus: Corpus, settings: Settings) -> None:
    build(corpus, 20)
    ev = evaluator(corpus, settings)
    first = ev.compare(TUNED, BASE)
    html = Path(str(first.report_path))
    shown = json.loads((html.parent / "report.json").read_text("utf-8"))
    html.unlink()
    ev.compare(TUNED, BASE)
    assert html.read_bytes().startswith(b"<!DOCTYPE html>")
    again = json.loads((html.parent / "report.json").read_text("utf-8"))
    assert again["comparison"] == shown["comparison"] and again["clips"] == shown["clips"]


def test_the_review_app_shows_a_report_from_storage_on_another_machine(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()

    def machine(name: str) -> Settings:
        return Settings(
            workspace=tmp_path / name,
            database_url=f"sqlite:///{shared / 'humortune.db'}",
            storage=(shared / "storage").as_uri(),
            offline=True,
        )

    laptop, service = machine("laptop"), machine("service")
    with Corpus.open(settings=laptop) as corpus:
        build(corpus, 20)
        report = evaluator(corpus, laptop).compare(TUNED, BASE)
        page = Path(str(report.report_path)).read_bytes()
    shutil.rmtree(laptop.workspace)  # nothing of the laptop's own folder is left to read
    security = ReviewSecurity(token=TOKEN, allowed_hosts=loopback_hosts() | {"testserver"})
    with TestClient(create_review_app(service, security=security, standalone=True)) as client:
        assert client.get(f"/review/?token={TOKEN}", follow_redirects=False).status_code == 303
        shown = client.get(f"/review/reports/{report.id}")
        assert shown.status_code == 200 and shown.content == page
        assert "sandbox" in shown.headers["content-security-policy"]
        with Corpus.open(settings=service) as corpus:
            key = str(_record(corpus, report.id).report_key)
        shutil.rmtree(shared / "storage" / Path(key).parent)
        gone = client.get(f"/review/reports/{report.id}")
        assert gone.status_code == 404 and "storage" in gone.text


def test_a_storage_that_refuses_the_report_does_not_lose_the_evaluation(corpus: Corpus, settings: Settings) -> None:
    class Refusing(LocalStorage):
        def put_bytes(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> bool:
            raise StorageError("permission denied", hint="grant write access", item=key)

    build(corpus, 20)
    ev = evaluator(corpus, settings, storage=Refusing(settings.storage_uri))
    report = ev.compare(TUNED, BASE)
    assert Path(str(report.report_path)).is_file()
    assert any("could not be stored" in w and "permission denied" in w for w in report.warnings)
    record = _record(corpus, report.id)
    assert record.report_key is None and record.report_path == report.report_path
