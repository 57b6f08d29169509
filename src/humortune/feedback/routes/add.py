"""Adding clips from the UI: ``GET /review/add`` (form, or a job's status with ``?job=``), ``POST`` starts a job."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from humortune.errors import HumortuneError
from humortune.feedback.addclips import MAX_ITEMS, parse_links
from humortune.feedback.routes._shared import PREFIX, WRITER, Review, ReviewContext, render, router

_SHA = r"[0-9a-f]{64}"


def add_page(
    r: ReviewContext,
    request: Request,
    *,
    job_id: str | None = None,
    error: str | None = None,
    links: str = "",
    status: int = 200,
) -> HTMLResponse:
    assert r.adder is not None
    job = r.adder.job(job_id) if job_id else None
    return render(
        r,
        request,
        "add.html",
        status=status,
        job=job,
        job_id=job_id,
        error=error,
        links=links,
        stored=r.adder.stored_clips(),
        max_items=MAX_ITEMS,
    )


@router.get("/add", response_class=HTMLResponse)
def add_view(
    request: Request, r: Review, job: Annotated[str | None, Query(pattern=r"^[0-9a-f]{16}$")] = None
) -> Response:
    return add_page(r, request, job_id=job)


@router.post("/add", dependencies=WRITER)
def add_submit(
    request: Request,
    r: Review,
    links: Annotated[str, Form(max_length=50_000)] = "",
    clip: Annotated[list[str] | None, Form()] = None,
) -> Response:
    assert r.adder is not None
    shas = [s for s in clip or [] if re.fullmatch(_SHA, s)]
    try:
        job = r.adder.submit(parse_links(links), shas)
    except HumortuneError as exc:
        return add_page(r, request, error=str(exc), links=links, status=422)
    return RedirectResponse(f"{PREFIX}/add?job={job.id}", status_code=303)
