"""The review router is module-level: its handlers find their state per app (``app.state.review``)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from humortune.feedback import ReviewContext, ReviewSecurity, create_review_router
from humortune.feedback import router as router_module
from humortune.feedback.router import router
from humortune.feedback.security import loopback_hosts
from humortune.storage import LocalStorage
from humortune.workspace import Corpus
from tests._feedback_support import add_analysis, add_correction, make_clips, store_clip

TOKENS = ("first-token-0123456789abcdefghijkl", "second-token-0123456789abcdefghijk")
AID = "an-only-in-the-first"
MODEL = "projects/p/locations/us-central1/models/42@1"


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clips(tmp_path_factory.mktemp("clips"), count=1)[0]


def _context(tmp_path: Path, name: str, token: str, clip: Path, *, max_body: int = 256 * 1024) -> ReviewContext:
    corpus = Corpus.open(tmp_path / name / "corpus.sqlite")
    storage = LocalStorage(tmp_path / name / "storage")
    security = ReviewSecurity(token=token, allowed_hosts=loopback_hosts() | {"testserver"}, max_body_bytes=max_body)
    return ReviewContext(corpus=corpus, storage=storage, security=security)


def _app(ctx: ReviewContext) -> FastAPI:
    app = FastAPI()
    app.state.review = ctx
    app.include_router(router)
    return app


@pytest.fixture
def two(tmp_path: Path, clip_file: Path) -> Iterator[tuple[ReviewContext, ReviewContext]]:
    first = _context(tmp_path, "one", TOKENS[0], clip_file)
    second = _context(tmp_path, "two", TOKENS[1], clip_file)
    video = store_clip(first.corpus, first.storage, clip_file)
    add_correction(first.corpus, 1, video)
    add_analysis(first.corpus, video, MODEL, narrative="Bara i den första arbetsytan.", aid=AID)
    yield first, second
    first.corpus.close()
    second.corpus.close()


def test_router_is_module_level_with_module_level_handlers() -> None:
    paths = {route.path for route in router.routes if isinstance(route, APIRoute)}
    assert {"/review/", "/review/clip/{analysis_id}", "/review/ab", "/review/video/{sha256}"} <= paths
    for route in router.routes:
        assert isinstance(route, APIRoute)
        endpoint = route.endpoint
        assert "<locals>" not in endpoint.__qualname__, endpoint.__qualname__  # not a closure over a context
        assert inspect.getmodule(endpoint) is not None
    assert router_module.router is router


def test_two_apps_with_different_contexts_do_not_share_state(two: tuple[ReviewContext, ReviewContext]) -> None:
    first, second = two
    with TestClient(_app(first)) as one, TestClient(_app(second)) as other:
        assert one.get("/review/", headers={"X-Humortune-Token": TOKENS[1]}).status_code == 401
        assert other.get("/review/", headers={"X-Humortune-Token": TOKENS[0]}).status_code == 401
        queue_one = one.get("/review/", headers={"X-Humortune-Token": TOKENS[0]})
        queue_two = other.get("/review/", headers={"X-Humortune-Token": TOKENS[1]})
        clip_one = one.get(f"/review/clip/{AID}", headers={"X-Humortune-Token": TOKENS[0]})
        clip_two = other.get(f"/review/clip/{AID}", headers={"X-Humortune-Token": TOKENS[1]})
    assert queue_one.status_code == queue_two.status_code == 200
    assert AID in queue_one.text and AID not in queue_two.text
    assert clip_one.status_code == 200 and "Bara i den första arbetsytan." in clip_one.text
    assert clip_two.status_code == 404


def test_a_bound_copy_serves_its_own_context(two: tuple[ReviewContext, ReviewContext]) -> None:
    first, second = two
    app = FastAPI()
    app.state.review = second  # the bound copy wins over the app's state
    app.include_router(create_review_router(first))
    with TestClient(app) as client:
        page = client.get(f"/review/clip/{AID}", headers={"X-Humortune-Token": TOKENS[0]})
        assert page.status_code == 200
        assert "Bara i den första arbetsytan." in page.text
        assert client.get("/review/", headers={"X-Humortune-Token": TOKENS[1]}).status_code == 401


def test_body_limit_is_the_contexts(tmp_path: Path, clip_file: Path) -> None:
    small = _context(tmp_path, "small", TOKENS[0], clip_file, max_body=64)
    with TestClient(_app(small)) as client:
        data = {"narrative": "x" * 200}
        response = client.post("/review/undo", data=data, headers={"X-Humortune-Token": TOKENS[0]})
    small.corpus.close()
    assert response.status_code == 413


def test_an_app_without_a_context_says_what_is_missing() -> None:
    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client, pytest.raises(RuntimeError, match=r"app\.state\.review"):
        client.get("/review/", headers={"X-Humortune-Token": TOKENS[0]})
