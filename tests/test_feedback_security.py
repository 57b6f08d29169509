"""The review server's token and Host checks cover every route, /docs and /openapi.json included, and
each server has its own session cookie (issue 15, review server items)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from humortune.feedback import ReviewSecurity, create_review_app
from humortune.feedback.security import loopback_hosts
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.workspace import Corpus

TOKEN = "t0ken-for-the-security-tests-0123456789"


@pytest.fixture
def app(settings: Settings, corpus: Corpus) -> FastAPI:
    security = ReviewSecurity(token=TOKEN, allowed_hosts=loopback_hosts() | {"testserver"})
    return create_review_app(settings, corpus=corpus, storage=LocalStorage(settings.workspace / "s"), security=security)


@pytest.fixture
def anon(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize("path", ["/docs", "/openapi.json", "/redoc", "/docs/oauth2-redirect", "/nope"])
def test_every_route_needs_the_token(anon: TestClient, path: str) -> None:
    response = anon.get(path, follow_redirects=False)
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized" and "paths" not in response.text


@pytest.mark.parametrize(
    "path", ["/", "/docs", "/openapi.json", "/healthz", "/review/", "/v1/analyses/an-0123456789abcdef"]
)
def test_other_host_names_are_refused_everywhere(anon: TestClient, path: str) -> None:
    headers = {"Host": "evil.example", "Authorization": f"Bearer {TOKEN}"}
    assert anon.get(path, headers=headers, follow_redirects=False).status_code == 400


def test_docs_open_with_the_token_or_the_session_cookie(anon: TestClient) -> None:
    assert anon.get("/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    first = anon.get(f"/docs?token={TOKEN}", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/docs"
    assert anon.get("/docs").status_code == 200 and anon.get("/openapi.json").status_code == 200
    assert anon.get("/healthz").status_code == 200  # liveness stays open (no secrets in it)


def test_each_server_has_its_own_cookie(settings: Settings, corpus: Corpus) -> None:
    hosts = loopback_hosts() | {"testserver"}
    one, two = ReviewSecurity(allowed_hosts=hosts), ReviewSecurity(allowed_hosts=hosts)
    assert one.cookie_name != two.cookie_name
    assert one.cookie_name.startswith("humortune_review_")
    assert ReviewSecurity(token=TOKEN).cookie_name == ReviewSecurity(token=TOKEN).cookie_name  # stable per token
    apps = [
        create_review_app(settings, corpus=corpus, storage=LocalStorage(settings.workspace / "s"), security=s)
        for s in (one, two)
    ]
    # One browser (one cookie jar, one host name: cookies ignore the port) signed in to both servers.
    with TestClient(apps[0]) as a, TestClient(apps[1]) as b:
        a.get(f"/review/?token={one.token}")
        b.cookies.update(a.cookies)
        b.get(f"/review/?token={two.token}")
        a.cookies.update(b.cookies)
        assert a.get("/review/").status_code == 200 and b.get("/review/").status_code == 200
