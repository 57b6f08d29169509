"""Adding clips from the review UI: links (served on loopback) → download → store → analyse (FakeGemini) →
the queue, in a background job with one status line per link, idempotent on a second run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from humortune.feedback import ReviewSecurity, create_review_app
from humortune.feedback.addclips import ClipAdder, current_model, parse_links
from humortune.feedback.security import loopback_hosts
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.testing.sources import FakeDownloader
from humortune.testing.videos import make_test_video
from humortune.workspace import Corpus
from tests._feedback_support import csrf_of
from tests.rigs.video_server import VideoServer

TOKEN = "t0ken-for-the-add-clips-tests-0123456789"
ORIGIN = "http://testserver"


@pytest.fixture
def offline(tmp_path: Path) -> Settings:
    return Settings(workspace=tmp_path / "ws", offline=True, download_timeout_s=5.0, download_attempts=1)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[VideoServer]:
    with VideoServer() as srv:
        for i in range(2):
            srv.add_file(f"clip{i}.mp4", make_test_video(tmp_path / f"clip{i}.mp4", seconds=1.5, seed=40 + i))
        yield srv


@pytest.fixture
def app_client(offline: Settings) -> Iterator[tuple[TestClient, Corpus]]:
    with Corpus.open(settings=offline) as corpus:
        security = ReviewSecurity(token=TOKEN, allowed_hosts=loopback_hosts() | {"testserver"})
        storage = LocalStorage(offline.workspace / "storage")
        app = create_review_app(offline, corpus=corpus, storage=storage, security=security, standalone=True)
        with TestClient(app) as client:
            assert client.get(f"/review/?token={TOKEN}", follow_redirects=False).status_code == 303
            yield client, corpus
        app.state.review.adder.close()


def _add(client: TestClient, links: str, clips: list[str] | None = None) -> str:
    page = client.get("/review/add").text
    data: dict[str, object] = {"csrf_token": csrf_of(page), "links": links}
    if clips:
        data["clip"] = clips
    response = client.post("/review/add", data=data, headers={"Origin": ORIGIN}, follow_redirects=False)
    assert response.status_code == 303, response.text
    job_id = response.headers["location"].split("job=")[1]
    job = client.app.state.review.adder.job(job_id)  # type: ignore[attr-defined]
    assert job is not None and job.finished_event.wait(60), "the add-clips job did not finish"
    return job_id


def test_parse_links() -> None:
    assert parse_links(" a\nb, a\n\n c ") == ["a", "b", "c"]


def test_links_are_ingested_analysed_and_queued(app_client: tuple[TestClient, Corpus], server: VideoServer) -> None:
    client, corpus = app_client
    good = [server.url("clip0.mp4"), server.url("clip1.mp4")]
    links = "\n".join([*good, server.url("gone.mp4"), "ftp://example.invalid/x.mp4"])
    job_id = _add(client, links)
    page = client.get(f"/review/add?job={job_id}").text
    assert "Done" in page and "2 of 4 analysed, 2 failed" in page
    assert page.count('class="job-item status-done"') == 2 and page.count('class="job-item status-failed"') == 2
    assert 'http-equiv="refresh"' not in page  # a finished job stops polling
    for item in client.app.state.review.adder.job(job_id).items:  # type: ignore[attr-defined]
        assert "\n" not in item.message and item.message  # one line per link
    assert corpus.status()["analyses"] == 2
    queue = client.get("/review/?base=1").text  # nothing is tuned yet: the base model analysed them
    assert queue.count('<tr class="item"') == 2

    again = client.get(f"/review/add?job={_add(client, chr(10).join(good))}").text
    assert again.count('class="job-item status-cached"') == 2 and "already analysed" in again
    assert corpus.status()["analyses"] == 2 and corpus.status()["videos"] == 2  # nothing analysed or stored twice


def test_tiktok_links_are_downloaded_once(app_client: tuple[TestClient, Corpus]) -> None:
    client, corpus = app_client
    fake = FakeDownloader(generate=True)
    client.app.state.review.adder.downloader = fake  # type: ignore[attr-defined]
    links = [f"https://www.tiktok.com/@krogen/video/{7_300_000_000_000_000_100 + i}" for i in range(2)]
    first = client.get(f"/review/add?job={_add(client, chr(10).join(links))}").text
    assert first.count('class="job-item status-done"') == 2 and sum(fake.calls.values()) == 2
    again = client.get(f"/review/add?job={_add(client, chr(10).join(links))}").text
    assert again.count('class="job-item status-cached"') == 2 and sum(fake.calls.values()) == 2
    assert corpus.status()["analyses"] == 2


def test_stored_clips_can_be_picked(app_client: tuple[TestClient, Corpus], server: VideoServer) -> None:
    client, corpus = app_client
    _add(client, server.url("clip0.mp4"))
    sha = corpus.db.query_one("SELECT sha256 FROM videos")[0]  # type: ignore[index]
    corpus.db.execute("DELETE FROM analyses")
    assert sha in client.get("/review/add").text  # listed as not analysed by the current model
    page = client.get(f"/review/add?job={_add(client, '', [sha])}").text
    assert page.count('class="job-item status-done"') == 1 and corpus.status()["analyses"] == 1


def test_empty_and_oversized_submissions_are_refused(app_client: tuple[TestClient, Corpus]) -> None:
    client, _ = app_client
    page = client.get("/review/add").text
    empty = client.post("/review/add", data={"csrf_token": csrf_of(page), "links": " "}, headers={"Origin": ORIGIN})
    assert empty.status_code == 422 and "nothing to add" in empty.text
    many = "\n".join(f"https://www.tiktok.com/@a/video/{7_300_000_000_000_000_000 + i}" for i in range(101))
    big = client.post("/review/add", data={"csrf_token": csrf_of(page), "links": many}, headers={"Origin": ORIGIN})
    assert big.status_code == 422 and "smaller batches" in big.text
    assert client.get("/review/add?job=0123456789abcdef").status_code == 200


def test_current_model_prefers_the_alias_then_the_newest_tuned(corpus: Corpus, settings: Settings) -> None:
    assert current_model(corpus) is None
    db = corpus.db
    db.execute(
        "INSERT INTO tuning_jobs (name, base_model, request_hash, hyperparams_json, state, created_at, updated_at)"
        " VALUES ('j1', 'b', 'h', '{}', 'S', '2026-01-01', '2026-01-01')"
    )
    db.execute(
        "INSERT INTO models (id, base_model, job_name, created_at) VALUES ('m/models/1', 'b', 'j1', '2026-01-02')"
    )
    db.execute("INSERT INTO models (id, base_model, created_at) VALUES ('gemini-x', 'gemini-x', '2027-01-01')")
    assert current_model(corpus) == "m/models/1"
    db.execute("INSERT INTO aliases (name, model_id, updated_at) VALUES ('current', 'gemini-x', '2027-01-01')")
    assert current_model(corpus) == "current"
    adder = ClipAdder(corpus, LocalStorage(settings.workspace / "storage"), settings, analyze=lambda m, v: ("x", False))
    try:
        assert adder.stored_clips() == []
    finally:
        adder.close()
