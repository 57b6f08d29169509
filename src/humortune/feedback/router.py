"""The review web UI as a FastAPI `APIRouter` (server-rendered Jinja2, one small script, no CDN).

Mount it on the ``humortune serve`` app (``create_app(routers=[router])``) or on any FastAPI app with
``app.include_router(router)``; `humortune.feedback.app.create_review_app` builds a stand-alone one.

```
GET  /review/                          queue, one row per clip (filters: niche, model, reason, base=1; paged)
GET  /review/clip/{analysis_id}        clip page: video, model output, owner's previous correction, editor
POST /review/clip/{analysis_id}/save   save the edited narrative + record (+ niche, verdict); 409 if stale
POST /review/clip/{analysis_id}/accept accept the model's output as-is
POST /review/clip/{analysis_id}/skip   skip the clip
POST /review/clip/{analysis_id}/niche  tag the clip's corrections with a niche
POST /review/undo                      undo the newest review still in effect
GET  /review/ab                        blind A/B page;  POST /review/ab  record the choice
GET  /review/promotions                proposed promotions; POST …/{id}/confirm | …/{id}/reject
GET  /review/reports/{evaluation_id}   the evaluator's HTML report behind a proposal
GET  /review/add                       add clips (links or stored clips); POST starts a job; ?job= its status
GET  /review/video/{sha256}            video bytes (Range requests: 206 + Content-Range)
GET  /review/poster/{sha256}           the clip's poster frame (made on first request if missing)
GET  /review/static/{name}             app.js, app.css
```

Every route requires the review token (`humortune.feedback.security`); model output is autoescaped.
Save and accept carry the ``revision`` of the clip's correction the page showed: a save from a stale tab
writes nothing and answers 409 with both versions side by side, for the owner to choose.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from humortune.errors import HumortuneError, StaleReviewError
from humortune.feedback.abtest import BlindAB
from humortune.feedback.addclips import MAX_ITEMS, ClipAdder, parse_links
from humortune.feedback.media_routes import STATIC_TYPES, add_media_routes
from humortune.feedback.queue import REASONS, QueueFilter, ReviewQueue, short_model
from humortune.feedback.review import (
    MAX_FIELD_CHARS,
    MAX_NARRATIVE_CHARS,
    RECORD_FIELDS,
    Clip,
    ReviewResult,
    ReviewStore,
    record_from_form,
)
from humortune.feedback.security import CSRF_FIELD, ReviewSecurity, Session, secure_route_class
from humortune.schema import Category, Correction, HumorRecord, Quality
from humortune.settings import Settings
from humortune.storage.base import Storage
from humortune.urls import redact
from humortune.workspace import Corpus

__all__ = ["PREFIX", "ReviewContext", "create_review_router"]

PREFIX = "/review"
"""Where the review UI lives on the app."""
_HERE = Path(__file__).parent
# The evaluator's report is self-contained HTML with inline styles and no scripts.
_REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; sandbox"
_ID = r"^[A-Za-z0-9_.:\-]{1,128}$"
_SHA = r"^[0-9a-f]{64}$"
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


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def create_review_router(ctx: ReviewContext) -> APIRouter:
    """The review UI's routes, bound to ``ctx``."""

    def render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        session: Session | None = getattr(request.state, "review_session", None)
        csrf = ctx.security.csrf_token(session) if session else ""
        html = ctx.env.get_template(name).render(csrf_field=CSRF_FIELD, csrf=csrf, **values)
        return HTMLResponse(html, status_code=status)

    def render_error(request: Request, exc: HTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code in (301, 302, 303, 307, 308):
            return Response(status_code=exc.status_code, headers=headers)
        if _wants_html(request):
            html = ctx.env.get_template("error.html").render(status=exc.status_code, message=str(exc.detail))
            return HTMLResponse(html, status_code=exc.status_code, headers=headers)
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=headers)

    async def auth(request: Request) -> Session:  # async: CPU-light, so no thread-pool hop per request
        session = ctx.security.authenticate(request)
        request.state.review_session = session
        return session

    def write_guard(request: Request, csrf_token: Annotated[str | None, Form(max_length=200)] = None) -> None:
        # Annotations here may only use module-level names (they are resolved from the module's globals).
        session = getattr(request.state, "review_session", None) or ctx.security.authenticate(request)
        ctx.security.check_csrf(request, session, csrf_token)

    router = APIRouter(
        prefix=PREFIX,
        dependencies=[Depends(auth)],
        route_class=secure_route_class(ctx.security.max_body_bytes, render_error),
        include_in_schema=False,
    )
    writer = [Depends(write_guard)]

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
        """The queue filters a form carries along (hidden fields), so a POST returns to the same view.

        Used as ``flt: QueueFilter = Depends(form_filters)``: a closure is not a module global, so it cannot
        be named inside a (string) ``Annotated`` annotation.
        """
        return filters(f_niche, f_model, f_reason, f_base)

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

    def after(flt: QueueFilter, done: str | None, flash: int | None = None) -> RedirectResponse:
        target = ctx.queue.next(flt, exclude=done)
        extra = {"flash": flash} if flash else {}
        if target is None:
            return RedirectResponse(f"{PREFIX}/{query_of(flt, **extra)}", status_code=303)
        return RedirectResponse(f"{PREFIX}/clip/{target}{query_of(flt, **extra)}", status_code=303)

    def flash_message(review_id: int | None) -> str | None:
        if not review_id:
            return None
        row = ctx.corpus.db.query_one("SELECT action, correction_id, diff_json FROM reviews WHERE id = ?", (review_id,))
        if row is None:
            return None
        import json

        diff = json.loads(row["diff_json"] or "{}")
        action = row["action"]
        if action == "edit":
            n = len(diff.get("changed", []))
            return f"Saved correction {row['correction_id']} ({n} field{'s' if n != 1 else ''} changed). Undo: u"
        if action == "accept":
            return f"Accepted the model's output as correction {row['correction_id']}. Undo: u"
        if action == "skip":
            return "Skipped. Undo: u"
        if action == "niche":
            return "Niche tagged. Undo: u"
        if action == "undo":
            return f"Undid the last {diff.get('action', 'review')}."
        return None

    # -- pages ------------------------------------------------------------------------------------

    @router.get("/", response_class=HTMLResponse)
    def queue_page(
        request: Request,
        niche: Annotated[str | None, Query(max_length=64)] = None,
        model: Annotated[str | None, Query(max_length=512)] = None,
        reason: Annotated[str | None, Query(max_length=32)] = None,
        base: Annotated[str | None, Query(max_length=1)] = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        flash: Annotated[int | None, Query(ge=1)] = None,
    ) -> HTMLResponse:
        flt = filters(niche, model, reason, base)
        result = ctx.queue.page(flt, page=page, per_page=ctx.per_page)
        return render(
            request,
            "queue.html",
            page=result,
            flt=flt,
            reasons=REASONS,
            query=query_of(flt),
            page_query=lambda n: query_of(flt, page=n),
            show_base_query=query_of(replace(flt, base=True)),
            flash=flash_message(flash),
        )

    def clip_page(
        request: Request,
        clip: Clip,
        flt: QueueFilter,
        *,
        form: dict[str, str] | None = None,
        error: str | None = None,
        error_field: str | None = None,
        flash: str | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        analysis = clip.analysis
        model_record = analysis.record.model_dump(mode="json") if analysis.record else {}
        previous_record = clip.previous.record.model_dump(mode="json") if clip.previous and clip.previous.record else {}
        if form is None:
            form = {"narrative": analysis.narrative, "niche": clip.niche or "", "verdict": ""}
            form.update({k: _form_value(model_record.get(k)) for k in RECORD_FIELDS})
        return render(
            request,
            "clip.html",
            status=status,
            clip=clip,
            analysis=analysis,
            model_record=model_record,
            previous_record=previous_record,
            form=form,
            fields=RECORD_FIELDS,
            categories=[c.value for c in Category],
            qualities=[q.value for q in Quality],
            niches=ctx.store.niches(),
            error=error,
            error_field=error_field,
            flash=flash,
            flt=flt,
            query=query_of(flt),
            position=ctx.queue.counts(QueueFilter(niche=flt.niche, model=flt.model, base=flt.base)),
            model_values=_values(analysis.narrative, model_record),
            previous_values=(
                {**_values(clip.previous.human_said, previous_record), "niche": clip.previous.niche or ""}
                if clip.previous
                else None
            ),
            max_narrative=MAX_NARRATIVE_CHARS,
            max_field=MAX_FIELD_CHARS,
        )

    def conflict_page(
        request: Request, clip: Clip, flt: QueueFilter, exc: StaleReviewError, mine: dict[str, str], action: str
    ) -> HTMLResponse:
        saved = exc.saved if isinstance(exc.saved, Correction) else None
        saved_record = saved.record.model_dump(mode="json") if saved is not None and saved.record else {}
        return render(
            request,
            "conflict.html",
            status=409,
            clip=clip,
            analysis=clip.analysis,
            flt=flt,
            query=query_of(flt),
            error=str(exc),
            mine=mine,
            saved=(
                {**_values(saved.human_said, saved_record), "niche": saved.niche or "", "id": saved.id}
                if saved is not None
                else None
            ),
            revision=exc.revision,
            action=action,
            fields=("narrative", *RECORD_FIELDS, "niche"),
        )

    def load_clip(analysis_id: str) -> Clip:
        clip = ctx.store.clip(analysis_id)
        if clip is None:
            raise HTTPException(404, "no such analysis: it may have been removed; go back to the queue")
        return clip

    @router.get("/clip/{analysis_id}", response_class=HTMLResponse)
    def clip_view(
        request: Request,
        analysis_id: Annotated[str, _path_id()],
        niche: Annotated[str | None, Query(max_length=64)] = None,
        model: Annotated[str | None, Query(max_length=512)] = None,
        reason: Annotated[str | None, Query(max_length=32)] = None,
        base: Annotated[str | None, Query(max_length=1)] = None,
        flash: Annotated[int | None, Query(ge=1)] = None,
    ) -> HTMLResponse:
        return clip_page(
            request, load_clip(analysis_id), filters(niche, model, reason, base), flash=flash_message(flash)
        )

    @router.post("/clip/{analysis_id}/save", dependencies=writer)
    def save(
        request: Request,
        analysis_id: Annotated[str, _path_id()],
        narrative: Annotated[str, Form()] = "",
        summary: Annotated[str, Form()] = "",
        mechanism: Annotated[str, Form()] = "",
        why_it_works: Annotated[str, Form()] = "",
        audience: Annotated[str, Form()] = "",
        category: Annotated[str, Form()] = "",
        quality: Annotated[str, Form()] = "",
        replicable: Annotated[str, Form()] = "",
        niche: Annotated[str, Form()] = "",
        verdict: Annotated[str, Form()] = "",
        revision: Annotated[str | None, Form(max_length=100)] = None,
        flt: QueueFilter = Depends(form_filters),
    ) -> Response:
        clip = load_clip(analysis_id)
        form = {
            "narrative": narrative,
            "summary": summary,
            "mechanism": mechanism,
            "why_it_works": why_it_works,
            "audience": audience,
            "category": category,
            "quality": quality,
            "replicable": replicable,
            "niche": niche,
            "verdict": verdict,
        }
        try:
            record: HumorRecord | None = record_from_form(form)
            chosen = verdict.upper() if verdict.upper() in ("PASS", "FAIL") else None
            result = ctx.queue.apply(
                lambda: ctx.store.save(
                    analysis_id,
                    narrative=narrative,
                    record=record,
                    niche=niche,
                    verdict=chosen,  # type: ignore[arg-type]
                    revision=revision,
                ),
                _affected,
            )
        except StaleReviewError as exc:
            return conflict_page(request, clip, flt, exc, form, "save")
        except HumortuneError as exc:
            field_name = getattr(exc, "field", None) or (exc.item if exc.item in ("narrative", "niche") else None)
            kept = {**form, "revision": revision or ""}  # the re-shown form still edits the same revision
            return clip_page(request, clip, flt, form=kept, error=str(exc), error_field=field_name, status=422)
        return after(flt, analysis_id, result.review_id)

    @router.post("/clip/{analysis_id}/accept", dependencies=writer)
    def accept(
        request: Request,
        analysis_id: Annotated[str, _path_id()],
        niche: Annotated[str, Form()] = "",
        revision: Annotated[str | None, Form(max_length=100)] = None,
        flt: QueueFilter = Depends(form_filters),
    ) -> Response:
        clip = load_clip(analysis_id)
        try:
            result = ctx.queue.apply(lambda: ctx.store.accept(analysis_id, niche=niche, revision=revision), _affected)
        except StaleReviewError as exc:
            model = clip.analysis.record.model_dump(mode="json") if clip.analysis.record else {}
            mine = {**_values(clip.analysis.narrative, model), "niche": niche, "verdict": ""}
            return conflict_page(request, clip, flt, exc, mine, "accept")
        except HumortuneError as exc:
            return clip_page(request, clip, flt, error=str(exc), status=422)
        return after(flt, analysis_id, result.review_id)

    @router.post("/clip/{analysis_id}/skip", dependencies=writer)
    def skip(
        analysis_id: Annotated[str, _path_id()],
        flt: QueueFilter = Depends(form_filters),
    ) -> Response:
        load_clip(analysis_id)
        result = ctx.queue.apply(lambda: ctx.store.skip(analysis_id), _affected)
        return after(flt, analysis_id, result.review_id)

    @router.post("/clip/{analysis_id}/niche", dependencies=writer)
    def tag_niche(
        request: Request,
        analysis_id: Annotated[str, _path_id()],
        niche: Annotated[str, Form()] = "",
        flt: QueueFilter = Depends(form_filters),
    ) -> Response:
        clip = load_clip(analysis_id)
        try:
            result = ctx.queue.apply(lambda: ctx.store.tag_niche(analysis_id, niche), _affected)
        except HumortuneError as exc:
            return clip_page(request, clip, flt, error=str(exc), error_field="niche", status=422)
        return RedirectResponse(f"{PREFIX}/clip/{analysis_id}{query_of(flt, flash=result.review_id)}", status_code=303)

    @router.post("/undo", dependencies=writer)
    def undo(
        flt: QueueFilter = Depends(form_filters),
    ) -> Response:
        result = ctx.queue.apply(ctx.store.undo, _affected)
        if result is None or result.analysis_id is None:
            return RedirectResponse(f"{PREFIX}/{query_of(flt)}", status_code=303)
        target = f"{PREFIX}/clip/{result.analysis_id}{query_of(flt, flash=result.review_id)}"
        return RedirectResponse(target, status_code=303)

    # -- blind A/B --------------------------------------------------------------------------------

    @router.get("/ab", response_class=HTMLResponse)
    def ab_page(
        request: Request,
        model_a: Annotated[str | None, Query(max_length=512)] = None,
        model_b: Annotated[str | None, Query(max_length=512)] = None,
        done: Annotated[int | None, Query(ge=0)] = None,
    ) -> HTMLResponse:
        models = (model_a, model_b) if model_a and model_b else ctx.ab.default_models()
        pair = None
        error = None
        if models is not None:
            try:
                pair = ctx.ab.next_pair(*models)
            except HumortuneError as exc:
                error = str(exc)
        model_choices = [str(r[0]) for r in ctx.corpus.db.query("SELECT DISTINCT model FROM analyses ORDER BY model")]
        return render(
            request,
            "ab.html",
            pair=pair,
            models=models,
            model_choices=model_choices,
            error=error,
            done=done,
            fields=RECORD_FIELDS,
        )

    @router.post("/ab", dependencies=writer)
    def ab_choose(
        token: Annotated[str, Form(max_length=2000)],
        choice: Annotated[str, Form(max_length=8)],
        model_a: Annotated[str, Form(max_length=512)] = "",
        model_b: Annotated[str, Form(max_length=512)] = "",
        done: Annotated[int, Form(ge=0)] = 0,
    ) -> Response:
        if choice not in ("a", "b", "tie"):
            raise HTTPException(422, "choice must be a, b or tie")
        try:
            ctx.queue.unaffected(lambda: ctx.ab.record(token, choice))  # type: ignore[arg-type]
        except HumortuneError as exc:
            raise HTTPException(409, str(exc)) from exc
        query: dict[str, Any] = {"done": done + 1}
        if model_a and model_b:
            query.update(model_a=model_a, model_b=model_b)
        return RedirectResponse(f"{PREFIX}/ab?{urlencode(query)}", status_code=303)

    # -- adding clips -----------------------------------------------------------------------------

    def add_page(request: Request, *, job_id: str | None = None, error: str | None = None, links: str = "",
                 status: int = 200) -> HTMLResponse:  # fmt: skip
        assert ctx.adder is not None
        job = ctx.adder.job(job_id) if job_id else None
        return render(
            request,
            "add.html",
            status=status,
            job=job,
            job_id=job_id,
            error=error,
            links=links,
            stored=ctx.adder.stored_clips(),
            max_items=MAX_ITEMS,
        )

    @router.get("/add", response_class=HTMLResponse)
    def add_view(request: Request, job: Annotated[str | None, Query(pattern=r"^[0-9a-f]{16}$")] = None) -> Response:
        return add_page(request, job_id=job)

    @router.post("/add", dependencies=writer)
    def add_submit(
        request: Request,
        links: Annotated[str, Form(max_length=50_000)] = "",
        clip: Annotated[list[str] | None, Form()] = None,
    ) -> Response:
        assert ctx.adder is not None
        shas = [s for s in clip or [] if re.fullmatch(_SHA[1:-1], s)]
        try:
            job = ctx.adder.submit(parse_links(links), shas)
        except HumortuneError as exc:
            return add_page(request, error=str(exc), links=links, status=422)
        return RedirectResponse(f"{PREFIX}/add?job={job.id}", status_code=303)

    # -- promotions -------------------------------------------------------------------------------

    @router.get("/promotions", response_class=HTMLResponse)
    def promotions(request: Request, flash: Annotated[str | None, Query(max_length=300)] = None) -> HTMLResponse:
        from humortune.feedback.promotions import pending_proposals

        return render(request, "promotions.html", proposals=pending_proposals(ctx.corpus), flash=flash)

    @router.post("/promotions/{event_id}/{decision}", dependencies=writer)
    def decide(event_id: int, decision: str) -> Response:
        if decision not in ("confirm", "reject"):
            raise HTTPException(404, "unknown decision")
        if ctx.on_promotion is None:
            raise HTTPException(409, "promotions cannot be decided from this app")
        try:
            decide = ctx.on_promotion
            message = ctx.queue.unaffected(lambda: decide(event_id, decision == "confirm"))
        except HumortuneError as exc:
            raise HTTPException(409, str(exc)) from exc
        return RedirectResponse(f"{PREFIX}/promotions?{urlencode({'flash': message[:300]})}", status_code=303)

    @router.get("/reports/{evaluation_id}")
    def report(evaluation_id: Annotated[str, _path_id()]) -> Response:
        # Only a path the evaluator recorded is served: the URL names an evaluation, never a file.
        row = ctx.corpus.db.query_one("SELECT report_path FROM evaluations WHERE id = ?", (evaluation_id,))
        path = Path(row["report_path"]) if row is not None and row["report_path"] else None
        if path is None or not path.is_file():
            raise HTTPException(404, "no report for this evaluation on this machine; rerun `humortune compare`")
        headers = {"Content-Security-Policy": _REPORT_CSP}
        return Response(path.read_bytes(), media_type="text/html; charset=utf-8", headers=headers)

    add_media_routes(router, ctx)
    return router


def _affected(result: ReviewResult | None) -> str | None:
    return result.analysis_id if result is not None else None


def _values(narrative: str, record: dict[str, Any]) -> dict[str, str]:
    return {"narrative": narrative, **{k: _form_value(record.get(k)) for k in RECORD_FIELDS}}


def _form_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _path_id() -> Any:
    from fastapi import Path as PathParam

    return PathParam(pattern=_ID)
