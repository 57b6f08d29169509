"""The app ``humortune review`` runs: the ``humortune serve`` app with the review UI mounted on it.

```python
from humortune.feedback import create_review_app
app = create_review_app(settings)                 # token: app.state.review.security.token
```

Or mount the UI on an app you already have:

```python
from humortune.feedback import ReviewContext
from humortune.feedback.router import router
app.state.review = ReviewContext(corpus, storage)
app.include_router(router)          # or: app.include_router(create_review_router(ctx))
```
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

from humortune.feedback.router import PREFIX, ReviewContext, router
from humortune.feedback.security import ReviewSecurity, guard_app
from humortune.settings import Settings
from humortune.storage import Storage, open_storage
from humortune.workspace import Corpus

__all__ = ["create_review_app", "mount_review", "review_context"]


def review_context(
    settings: Settings,
    *,
    corpus: Corpus | None = None,
    storage: Storage | None = None,
    security: ReviewSecurity | None = None,
) -> ReviewContext:
    """The review UI's shared state for a workspace, with promotions decided through the registry."""
    from humortune.feedback.promotions import decide_proposal

    corpus = corpus or Corpus.open(settings=settings)
    ctx = ReviewContext(
        corpus=corpus,
        storage=storage or open_storage(settings.storage_uri),
        security=security or ReviewSecurity(),
        settings=settings,
    )
    ctx.on_promotion = lambda event_id, confirm: decide_proposal(corpus, event_id, confirm)
    return ctx


def create_review_app(
    settings: Settings | None = None,
    *,
    corpus: Corpus | None = None,
    storage: Storage | None = None,
    security: ReviewSecurity | None = None,
    standalone: bool = False,
) -> FastAPI:
    """The ``humortune serve`` app (JSON API under ``/v1``) with the review UI under ``/review``.

    The review token also opens the ``/v1`` API, so one secret covers the whole app. ``standalone=True``
    builds a bare FastAPI app holding only the review UI. ``GET /`` redirects to the queue.
    A thin wrapper: the service mounts the UI itself (``service.create_app(..., review=security)``).
    """
    from humortune.app import App

    backends = App(settings or Settings(), storage=storage)  # closed with the app; closes only what it opened
    if not standalone:
        from humortune.service import create_app

        return create_app(backends, corpus=corpus, storage=storage, review=security or ReviewSecurity())
    ctx = review_context(
        backends.settings, corpus=corpus or backends.corpus, storage=storage or backends.storage, security=security
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        backends.close()

    app = FastAPI(title="humortune review", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    mount_review(app, ctx)
    return app


def mount_review(app: FastAPI, ctx: ReviewContext) -> None:
    """Serve the review UI from ``app``: the router under ``/review``, ``GET /`` redirecting to it, and every
    route of ``app`` behind ``ctx.security``'s checks (call it after the app's own routes and middleware)."""
    app.include_router(router)

    @app.get("/", include_in_schema=False)
    def root(request: Request) -> RedirectResponse:
        query = f"?{request.url.query}" if request.url.query else ""  # keep ?token= for the first visit
        return RedirectResponse(f"{PREFIX}/{query}", status_code=307)

    guard_app(app, ctx.security)  # /docs, /openapi.json and the rest need the token and a served Host too
    app.state.review = ctx
