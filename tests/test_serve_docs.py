"""``/docs`` is Swagger UI served from the package: it works offline and loads nothing from another host."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from humortune.service import create_app
from humortune.service.docs_assets import ASSETS_DIR, ASSETS_PATH, SWAGGER_UI_VERSION
from humortune.settings import Settings


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(workspace=tmp_path / "ws", offline=True), token="t" * 24)) as client:
        yield client


def test_docs_reference_no_external_host(api: TestClient) -> None:
    page = api.get("/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", page.text)
    assert urls, page.text
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert "http://" not in page.text and "https://" not in page.text
    assert '"validatorUrl": null' in page.text  # no badge request to validator.swagger.io


def test_the_assets_are_served_from_the_package(api: TestClient) -> None:
    js = api.get(f"{ASSETS_PATH}/swagger-ui-bundle.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert api.get(f"{ASSETS_PATH}/swagger-ui.css").headers["content-type"].startswith("text/css")
    assert api.get(f"{ASSETS_PATH}/favicon-32x32.png").status_code == 200
    assert api.get(f"{ASSETS_PATH}/../app.py").status_code == 404


def test_the_vendored_assets_keep_their_licence_and_version() -> None:
    assert "Apache License" in (ASSETS_DIR / "LICENSE").read_text("utf-8")
    assert (ASSETS_DIR / "NOTICE").is_file()
    assert f'PACKAGE_VERSION:"{SWAGGER_UI_VERSION}"' in (ASSETS_DIR / "swagger-ui-bundle.js").read_text("utf-8")
