"""Swagger UI served from the package, so ``/docs`` works offline and loads nothing from a CDN.

The assets under ``static/swagger-ui/`` are copied unchanged from the npm package ``swagger-ui-dist``
(Apache-2.0; its LICENSE and NOTICE sit beside them). To update: ``npm pack swagger-ui-dist@5``, copy
``swagger-ui-bundle.js`` (+ ``.LICENSE.txt``), ``swagger-ui.css``, ``favicon-32x32.png``, LICENSE and NOTICE,
and bump `SWAGGER_UI_VERSION`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS_PATH", "SWAGGER_UI_VERSION", "add_swagger_ui"]

SWAGGER_UI_VERSION = "5.35.0"
ASSETS_DIR = Path(__file__).parent / "static" / "swagger-ui"
ASSETS_PATH = "/docs/assets"


def add_swagger_ui(app: FastAPI, *, docs_path: str = "/docs") -> None:
    """Serve Swagger UI at ``docs_path`` with its JS/CSS from `ASSETS_PATH` (build the app with ``docs_url=None``)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="swagger-ui-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(docs_path, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API docs",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
            # Swagger UI would otherwise send the schema to validator.swagger.io for its badge.
            swagger_ui_parameters={"validatorUrl": None},
        )
