"""``service.create_app(..., review=...)``: the service mounts the review UI itself (one app, one token)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from humortune.feedback import ReviewSecurity
from humortune.feedback.security import loopback_hosts
from humortune.service import create_app
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.workspace import Corpus

TOKEN = "review-and-api-token-0123456789"


def _security(token: str = TOKEN) -> ReviewSecurity:
    return ReviewSecurity(token=token, allowed_hosts=loopback_hosts() | {"testserver"})


def test_the_review_ui_is_mounted_with_its_state_and_guard(settings: Settings, corpus: Corpus, tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "storage")
    security = _security()
    app = create_app(settings, corpus=corpus, storage=storage, review=security)
    assert app.state.review.security is security
    assert app.state.review.corpus is corpus and app.state.review.storage is storage
    assert app.state.review.on_promotion is not None  # promotions go through the registry
    assert app.state.service.token == TOKEN  # the review token opens /v1 too
    with TestClient(app) as client:
        assert client.get("/review/").status_code == 401
        first = client.get(f"/review/?token={TOKEN}")
        assert first.status_code == 200
        redirect = client.get("/", follow_redirects=False)
        assert redirect.status_code == 307 and redirect.headers["location"] == "/review/"
        healthz = client.get("/healthz", headers={"Authorization": f"Bearer {TOKEN}"})
        assert healthz.status_code == 200


def test_the_review_body_limit_covers_the_whole_app(settings: Settings, corpus: Corpus) -> None:
    security = ReviewSecurity(token=TOKEN, allowed_hosts=loopback_hosts() | {"testserver"}, max_body_bytes=64)
    app = create_app(settings, corpus=corpus, review=security)
    with TestClient(app) as client:
        big = client.post("/v1/analyze", content=b"x" * 1000, headers={"Authorization": f"Bearer {TOKEN}"})
        assert big.status_code == 413


def test_review_true_uses_the_service_token(settings: Settings, corpus: Corpus) -> None:
    app = create_app(settings, corpus=corpus, token=TOKEN, review=True)
    assert app.state.review.security.token == TOKEN == app.state.service.token
    configured = settings.model_copy(update={"api_token": SecretStr("from-settings-0123456789")})
    assert create_app(configured, corpus=corpus, review=True).state.review.security.token == (
        "from-settings-0123456789"
    )
    random = create_app(settings, corpus=corpus, review=True)
    assert random.state.review.security.token == random.state.service.token


def test_a_review_security_wins_over_the_settings_token_but_not_an_explicit_one(
    settings: Settings, corpus: Corpus
) -> None:
    configured = settings.model_copy(update={"api_token": SecretStr("from-settings-0123456789")})
    assert create_app(configured, corpus=corpus, review=_security()).state.service.token == TOKEN
    with pytest.raises(ValueError, match="token once"):
        create_app(settings, corpus=corpus, token="another-token-0123456789", review=_security())


def test_without_review_nothing_is_mounted_and_the_schema_is_the_same(settings: Settings, corpus: Corpus) -> None:
    plain = create_app(settings, corpus=corpus)
    assert not hasattr(plain.state, "review")
    assert not any(getattr(r, "path", "").startswith("/review") for r in plain.routes)
    assert create_app(settings, corpus=corpus, review=True).openapi() == plain.openapi()
