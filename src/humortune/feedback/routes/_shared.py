"""What every review route shares: the context, the module-level router, its dependencies and helpers.

Handlers are module-level functions; the state they work on is the app's `ReviewContext`, found per request
(`review`): ``request.app.state.review``, or the context a `create_review_router(ctx)` copy was bound to.
So two apps with different contexts share the router's code, never its state.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from humortune.feedback.abtest import BlindAB
from humortune.feedback.addclips import ClipAdder
from humortune.feedback.queue import REASONS, QueueFilter, ReviewQueue, short_model
from humortune.feedback.review import RECORD_FIELDS, Clip, ReviewResult, ReviewStore
from humortune.feedback.security import CSRF_FIELD, ReviewSecurity, SecureRoute, Session
from humortune.settings import Settings
from humortune.storage.base import Storage
from humortune.urls import redact
from humortune.workspace import Corpus, Stores

PREFIX = "/review"
"""Where the review UI lives on the app."""
STATIC_TYPES = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
"""The UI's static files and their media types."""
_HERE = Path(__file__).parent.parent
_SCOPE_KEY = "humortune.review"  # where a bound router copy puts its context in the ASGI scope
_ID = r"^[A-Za-z0-9_.:\-]{1,128}$"
_FIELD_LABELS = {
    "summary": "Summary",
    "mechanism": "Mechanism",
    "why_it_works": "Why it works",
    "audience": "Audience",
    "category": "Category",
    "quality": "Quality",
    "replicable": "Replicable",
}


@dataclass
class ReviewContext:
    """What the review routes share: the corpus, the storage the videos live in, and the security."""

    corpus: Corpus
    storage: Storage
    security: ReviewSecurity = field(default_factory=ReviewSecurity)
    low_score: float = 0.5
    per_page: int = 25
    settings: Settings | None = None
    """The workspace's settings (the add-clips jobs analyse with them; offline → FakeGemini)."""
    adder: ClipAdder | None = None
    """Runs add-clips jobs in the background; made from the corpus, storage and settings when not given."""
    on_promotion: Callable[[int, bool], str] | None = None
    """Confirm (``True``) or reject a proposed promotion by ``alias_history`` id; returns a message.
    Set by `humortune.feedback.app` to the retrain layer's handler."""

    def __post_init__(self) -> None:
        self.stores = Stores.of(self.corpus.db)
        self.store = ReviewStore(self.corpus)
        self.queue = ReviewQueue(self.corpus, low_score=self.low_score)
        self.ab = BlindAB(self.corpus, key=self.security.token.encode())
        self.adder = self.adder or ClipAdder(self.corpus, self.storage, self.settings)
        self.env = Environment(
            loader=FileSystemLoader(_HERE / "templates"),
            autoescape=True,  # model output is untrusted text: always escaped
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(prefix=PREFIX, short_model=short_model, field_labels=_FIELD_LABELS)
        self.env.filters["redact"] = redact  # every URL the pages show
        self.static = {name: (_HERE / "static" / name).read_bytes() for name in STATIC_TYPES}


def review(request: Request) -> ReviewContext:
    """The dependency every route takes: this app's review context."""
    ctx = request.scope.get(_SCOPE_KEY) or getattr(request.app.state, "review", None)
    if not isinstance(ctx, ReviewContext):
        raise RuntimeError("the review router needs app.state.review = ReviewContext(...) (or create_review_router)")
    return ctx


async def _review_dependency(request: Request) -> ReviewContext:  # async: CPU-light, no thread-pool hop
    return review(request)


Review = Annotated[ReviewContext, Depends(_review_dependency)]


def render_error(request: Request, exc: HTTPException) -> Response:
    """An error as a small page (browsers) or JSON (scripts); redirects pass through."""
    headers = dict(exc.headers or {})
    if exc.status_code in (301, 302, 303, 307, 308):
        return Response(status_code=exc.status_code, headers=headers)
    if "text/html" in request.headers.get("accept", ""):
        html = review(request).env.get_template("error.html").render(status=exc.status_code, message=str(exc.detail))
        return HTMLResponse(html, status_code=exc.status_code, headers=headers)
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=headers)


class ReviewRoute(SecureRoute):
    """A `SecureRoute` whose body limit is the context's, and which binds a context when it was made with one."""

    bound: ClassVar[ReviewContext | None] = None
    error_renderer = staticmethod(render_error)

    def body_limit(self, request: Request) -> int:
        return review(request).security.max_body_bytes

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()
        ctx = type(self).bound
        if ctx is None:
            return inner

        async def handler(request: Request) -> Response:
            request.scope[_SCOPE_KEY] = ctx
            return await inner(request)

        return handler


async def auth(request: Request, r: Review) -> Session:  # async, as `review`
    """The review token on every route (cookie session or header)."""
    session = r.security.authenticate(request)
    request.state.review_session = session
    return session


def write_guard(request: Request, r: Review, csrf_token: Annotated[str | None, Form(max_length=200)] = None) -> None:
    """Writes also need a same-origin request carrying the session's CSRF token."""
    session = getattr(request.state, "review_session", None) or r.security.authenticate(request)
    r.security.check_csrf(request, session, csrf_token)


router = APIRouter(prefix=PREFIX, dependencies=[Depends(auth)], route_class=ReviewRoute, include_in_schema=False)
"""The review UI's routes (every group module registers on it)."""
WRITER = [Depends(write_guard)]


def render(r: ReviewContext, request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    session: Session | None = getattr(request.state, "review_session", None)
    csrf = r.security.csrf_token(session) if session else ""
    html = r.env.get_template(name).render(csrf_field=CSRF_FIELD, csrf=csrf, **values)
    return HTMLResponse(html, status_code=status)


def filters(niche: str | None, model: str | None, reason: str | None, base: str | None = None) -> QueueFilter:
    # Base-model outputs (from `humortune eval`) stay out of the owner's queue unless asked for.
    return QueueFilter(
        niche=niche or None,
        model=model or None,
        reason=reason if reason in REASONS else None,
        base=base == "1",
    )


def form_filters(
    f_niche: Annotated[str, Form()] = "",
    f_model: Annotated[str, Form()] = "",
    f_reason: Annotated[str, Form()] = "",
    f_base: Annotated[str, Form(max_length=1)] = "",
) -> QueueFilter:
    """The queue filters a form carries along (hidden fields), so a POST returns to the same view."""
    return filters(f_niche, f_model, f_reason, f_base)


FormFilters = Annotated[QueueFilter, Depends(form_filters)]


def query_of(flt: QueueFilter, **extra: Any) -> str:
    items = {
        "niche": flt.niche,
        "model": flt.model,
        "reason": flt.reason,
        "base": "1" if flt.base else None,
        **extra,
    }
    kept = {k: v for k, v in items.items() if v not in (None, "")}
    return f"?{urlencode(kept)}" if kept else ""


def after(r: ReviewContext, flt: QueueFilter, done: str | None, flash: int | None = None) -> RedirectResponse:
    """Redirect to the next clip of the queue (or the queue when it is empty)."""
    target = r.queue.next(flt, exclude=done)
    extra = {"flash": flash} if flash else {}
    if target is None:
        return RedirectResponse(f"{PREFIX}/{query_of(flt, **extra)}", status_code=303)
    return RedirectResponse(f"{PREFIX}/clip/{target}{query_of(flt, **extra)}", status_code=303)


def flash_message(r: ReviewContext, review_id: int | None) -> str | None:
    """The one-line message after a review (``?flash=<review id>``)."""
    event = r.stores.reviews.get(review_id) if review_id else None
    if event is None:
        return None
    diff = event.diff
    if event.action == "edit":
        n = len(diff.get("changed", []))
        return f"Saved correction {event.correction_id} ({n} field{'s' if n != 1 else ''} changed). Undo: u"
    if event.action == "accept":
        return f"Accepted the model's output as correction {event.correction_id}. Undo: u"
    if event.action == "skip":
        return "Skipped. Undo: u"
    if event.action == "niche":
        return "Niche tagged. Undo: u"
    if event.action == "undo":
        return f"Undid the last {diff.get('action', 'review')}."
    return None


def load_clip(r: ReviewContext, analysis_id: str) -> Clip:
    clip = r.store.clip(analysis_id)
    if clip is None:
        raise HTTPException(404, "no such analysis: it may have been removed; go back to the queue")
    return clip


def affected(result: ReviewResult | None) -> str | None:
    return result.analysis_id if result is not None else None


def values_of(narrative: str, record: dict[str, Any]) -> dict[str, str]:
    return {"narrative": narrative, **{k: form_value(record.get(k)) for k in RECORD_FIELDS}}


def form_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def path_id() -> Any:
    from fastapi import Path as PathParam

    return PathParam(pattern=_ID)
