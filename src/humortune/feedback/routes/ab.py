"""The blind A/B page: ``GET /review/ab`` shows a pair, ``POST /review/ab`` records the owner's choice."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from humortune.errors import HumortuneError
from humortune.feedback.review import RECORD_FIELDS
from humortune.feedback.routes._shared import PREFIX, WRITER, Review, render, router


@router.get("/ab", response_class=HTMLResponse)
def ab_page(
    request: Request,
    r: Review,
    model_a: Annotated[str | None, Query(max_length=512)] = None,
    model_b: Annotated[str | None, Query(max_length=512)] = None,
    done: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    models = (model_a, model_b) if model_a and model_b else r.ab.default_models()
    pair = None
    error = None
    if models is not None:
        try:
            pair = r.ab.next_pair(*models)
        except HumortuneError as exc:
            error = str(exc)
    return render(
        r,
        request,
        "ab.html",
        pair=pair,
        models=models,
        model_choices=r.stores.analyses.models(),
        error=error,
        done=done,
        fields=RECORD_FIELDS,
    )


@router.post("/ab", dependencies=WRITER)
def ab_choose(
    r: Review,
    token: Annotated[str, Form(max_length=2000)],
    choice: Annotated[str, Form(max_length=8)],
    model_a: Annotated[str, Form(max_length=512)] = "",
    model_b: Annotated[str, Form(max_length=512)] = "",
    done: Annotated[int, Form(ge=0)] = 0,
) -> Response:
    if choice not in ("a", "b", "tie"):
        raise HTTPException(422, "choice must be a, b or tie")
    try:
        r.queue.unaffected(lambda: r.ab.record(token, choice))  # type: ignore[arg-type]
    except HumortuneError as exc:
        raise HTTPException(409, str(exc)) from exc
    query: dict[str, Any] = {"done": done + 1}
    if model_a and model_b:
        query.update(model_a=model_a, model_b=model_b)
    return RedirectResponse(f"{PREFIX}/ab?{urlencode(query)}", status_code=303)
