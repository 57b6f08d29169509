"""``GET /review/`` (the queue) and ``POST /review/undo``."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from humortune.feedback.queue import REASONS
from humortune.feedback.routes._shared import (
    PREFIX,
    WRITER,
    FormFilters,
    Review,
    affected,
    filters,
    flash_message,
    query_of,
    render,
    router,
)


@router.get("/", response_class=HTMLResponse)
def queue_page(
    request: Request,
    r: Review,
    niche: Annotated[str | None, Query(max_length=64)] = None,
    model: Annotated[str | None, Query(max_length=512)] = None,
    reason: Annotated[str | None, Query(max_length=32)] = None,
    base: Annotated[str | None, Query(max_length=1)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    flash: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    flt = filters(niche, model, reason, base)
    result = r.queue.page(flt, page=page, per_page=r.per_page)
    return render(
        r,
        request,
        "queue.html",
        page=result,
        flt=flt,
        reasons=REASONS,
        query=query_of(flt),
        page_query=lambda n: query_of(flt, page=n),
        show_base_query=query_of(replace(flt, base=True)),
        flash=flash_message(r, flash),
    )


@router.post("/undo", dependencies=WRITER)
def undo(r: Review, flt: FormFilters) -> Response:
    result = r.queue.apply(r.store.undo, affected)
    if result is None or result.analysis_id is None:
        return RedirectResponse(f"{PREFIX}/{query_of(flt)}", status_code=303)
    target = f"{PREFIX}/clip/{result.analysis_id}{query_of(flt, flash=result.review_id)}"
    return RedirectResponse(target, status_code=303)
