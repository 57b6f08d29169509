"""Proposed promotions: ``GET /review/promotions``, ``POST …/{id}/confirm|reject``, and the reports behind them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from humortune.errors import HumortuneError
from humortune.feedback.promotions import pending_proposals
from humortune.feedback.routes._shared import PREFIX, WRITER, Review, path_id, render, router

# The evaluator's report is self-contained HTML with inline styles and no scripts.
_REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; sandbox"


@router.get("/promotions", response_class=HTMLResponse)
def promotions(request: Request, r: Review, flash: Annotated[str | None, Query(max_length=300)] = None) -> HTMLResponse:
    return render(r, request, "promotions.html", proposals=pending_proposals(r.corpus), flash=flash)


@router.post("/promotions/{event_id}/{decision}", dependencies=WRITER)
def decide(r: Review, event_id: int, decision: str) -> Response:
    if decision not in ("confirm", "reject"):
        raise HTTPException(404, "unknown decision")
    on_promotion = r.on_promotion
    if on_promotion is None:
        raise HTTPException(409, "promotions cannot be decided from this app")
    try:
        message = r.queue.unaffected(lambda: on_promotion(event_id, decision == "confirm"))
    except HumortuneError as exc:
        raise HTTPException(409, str(exc)) from exc
    return RedirectResponse(f"{PREFIX}/promotions?{urlencode({'flash': message[:300]})}", status_code=303)


@router.get("/reports/{evaluation_id}")
def report(r: Review, evaluation_id: Annotated[str, path_id()]) -> Response:
    # Only what the evaluator recorded is served: the URL names an evaluation, never a file or key.
    record = r.stores.evaluations.get(evaluation_id)
    page = _stored_report(r, record.report_key) if record is not None and record.report_key else None
    if page is None and record is not None and record.report_path:
        path = Path(record.report_path)  # evaluations from before reports were stored: the local copy
        page = path.read_bytes() if path.is_file() else None
    if page is None:
        raise HTTPException(404, "no report for this evaluation in the workspace's storage; rerun `humortune compare`")
    headers = {"Content-Security-Policy": _REPORT_CSP}
    return Response(page, media_type="text/html; charset=utf-8", headers=headers)


def _stored_report(r: Review, key: str) -> bytes | None:
    try:
        return r.storage.read_bytes(key) if r.storage.exists(key) else None
    except HumortuneError as exc:  # storage unreachable or refusing: say so, not "no report"
        raise HTTPException(503, f"cannot read the report from the workspace's storage: {exc.message}") from exc
