"""The clip page and its writes: ``/review/clip/{analysis_id}`` (+ ``/save``, ``/accept``, ``/skip``, ``/niche``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from humortune.errors import HumortuneError, StaleReviewError
from humortune.feedback.queue import QueueFilter
from humortune.feedback.review import MAX_FIELD_CHARS, MAX_NARRATIVE_CHARS, RECORD_FIELDS, Clip, record_from_form
from humortune.feedback.routes._shared import (
    PREFIX,
    WRITER,
    FormFilters,
    Review,
    ReviewContext,
    affected,
    after,
    filters,
    flash_message,
    form_value,
    load_clip,
    path_id,
    query_of,
    render,
    router,
    values_of,
)
from humortune.schema import Category, Correction, HumorRecord, Quality


def clip_page(
    r: ReviewContext,
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
        form.update({k: form_value(model_record.get(k)) for k in RECORD_FIELDS})
    return render(
        r,
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
        niches=r.store.niches(),
        error=error,
        error_field=error_field,
        flash=flash,
        flt=flt,
        query=query_of(flt),
        position=r.queue.counts(QueueFilter(niche=flt.niche, model=flt.model, base=flt.base)),
        model_values=values_of(analysis.narrative, model_record),
        previous_values=(
            {**values_of(clip.previous.human_said, previous_record), "niche": clip.previous.niche or ""}
            if clip.previous
            else None
        ),
        max_narrative=MAX_NARRATIVE_CHARS,
        max_field=MAX_FIELD_CHARS,
    )


def conflict_page(
    r: ReviewContext,
    request: Request,
    clip: Clip,
    flt: QueueFilter,
    exc: StaleReviewError,
    mine: dict[str, str],
    action: str,
) -> HTMLResponse:
    saved = exc.saved if isinstance(exc.saved, Correction) else None
    saved_record = saved.record.model_dump(mode="json") if saved is not None and saved.record else {}
    return render(
        r,
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
            {**values_of(saved.human_said, saved_record), "niche": saved.niche or "", "id": saved.id}
            if saved is not None
            else None
        ),
        revision=exc.revision,
        action=action,
        fields=("narrative", *RECORD_FIELDS, "niche"),
    )


@router.get("/clip/{analysis_id}", response_class=HTMLResponse)
def clip_view(
    request: Request,
    r: Review,
    analysis_id: Annotated[str, path_id()],
    niche: Annotated[str | None, Query(max_length=64)] = None,
    model: Annotated[str | None, Query(max_length=512)] = None,
    reason: Annotated[str | None, Query(max_length=32)] = None,
    base: Annotated[str | None, Query(max_length=1)] = None,
    flash: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    clip = load_clip(r, analysis_id)
    return clip_page(r, request, clip, filters(niche, model, reason, base), flash=flash_message(r, flash))


@router.post("/clip/{analysis_id}/save", dependencies=WRITER)
def save(
    request: Request,
    r: Review,
    analysis_id: Annotated[str, path_id()],
    flt: FormFilters,
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
) -> Response:
    clip = load_clip(r, analysis_id)
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
        result = r.queue.apply(
            lambda: r.store.save(
                analysis_id,
                narrative=narrative,
                record=record,
                niche=niche,
                verdict=chosen,  # type: ignore[arg-type]
                revision=revision,
            ),
            affected,
        )
    except StaleReviewError as exc:
        return conflict_page(r, request, clip, flt, exc, form, "save")
    except HumortuneError as exc:
        field_name = getattr(exc, "field", None) or (exc.item if exc.item in ("narrative", "niche") else None)
        kept = {**form, "revision": revision or ""}  # the re-shown form still edits the same revision
        return clip_page(r, request, clip, flt, form=kept, error=str(exc), error_field=field_name, status=422)
    return after(r, flt, analysis_id, result.review_id)


@router.post("/clip/{analysis_id}/accept", dependencies=WRITER)
def accept(
    request: Request,
    r: Review,
    analysis_id: Annotated[str, path_id()],
    flt: FormFilters,
    niche: Annotated[str, Form()] = "",
    revision: Annotated[str | None, Form(max_length=100)] = None,
) -> Response:
    clip = load_clip(r, analysis_id)
    try:
        result = r.queue.apply(lambda: r.store.accept(analysis_id, niche=niche, revision=revision), affected)
    except StaleReviewError as exc:
        model = clip.analysis.record.model_dump(mode="json") if clip.analysis.record else {}
        mine = {**values_of(clip.analysis.narrative, model), "niche": niche, "verdict": ""}
        return conflict_page(r, request, clip, flt, exc, mine, "accept")
    except HumortuneError as exc:
        return clip_page(r, request, clip, flt, error=str(exc), status=422)
    return after(r, flt, analysis_id, result.review_id)


@router.post("/clip/{analysis_id}/skip", dependencies=WRITER)
def skip(r: Review, analysis_id: Annotated[str, path_id()], flt: FormFilters) -> Response:
    load_clip(r, analysis_id)
    result = r.queue.apply(lambda: r.store.skip(analysis_id), affected)
    return after(r, flt, analysis_id, result.review_id)


@router.post("/clip/{analysis_id}/niche", dependencies=WRITER)
def tag_niche(
    request: Request,
    r: Review,
    analysis_id: Annotated[str, path_id()],
    flt: FormFilters,
    niche: Annotated[str, Form()] = "",
) -> Response:
    clip = load_clip(r, analysis_id)
    try:
        result = r.queue.apply(lambda: r.store.tag_niche(analysis_id, niche), affected)
    except HumortuneError as exc:
        return clip_page(r, request, clip, flt, error=str(exc), error_field="niche", status=422)
    return RedirectResponse(f"{PREFIX}/clip/{analysis_id}{query_of(flt, flash=result.review_id)}", status_code=303)
