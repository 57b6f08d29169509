"""The review UI's byte routes: stored videos and poster frames with byte ranges, and the UI's static files.

Registered on the module-level review router (`humortune.feedback.routes._shared.router`) and its token
dependency, like the other route groups.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import HTTPException, Request, Response
from fastapi.responses import StreamingResponse

from humortune.errors import HumortuneError
from humortune.feedback.media import Unsatisfiable, iter_range, parse_range, resolve_video
from humortune.feedback.routes._shared import STATIC_TYPES, Review, ReviewContext, router
from humortune.sources.poster import ensure_poster

__all__ = ["STATIC_TYPES"]

_SHA = r"^[0-9a-f]{64}$"


def _path_sha() -> Any:
    from fastapi import Path as PathParam

    return PathParam(pattern=_SHA)


def serve_bytes(r: ReviewContext, request: Request, key: str, size: int, mime: str, etag: str) -> Response:
    """A stored object with byte ranges (the browser's video element seeks with them)."""
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": f'"{etag}"',
        "Cache-Control": "private, max-age=3600",
        "Content-Disposition": "inline",
    }
    try:
        wanted = parse_range(request.headers.get("range"), size)
    except Unsatisfiable:
        headers["Content-Range"] = f"bytes */{size}"
        return Response(status_code=416, headers=headers)
    start, length, status = 0, size, 200
    if wanted is not None:
        start, length, status = wanted.start, wanted.length, 206
        headers["Content-Range"] = wanted.content_range
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=mime)
    body = iter_range(r.storage, key, start, length)
    return StreamingResponse(body, status_code=status, headers=headers, media_type=mime)


@router.api_route("/video/{sha256}", methods=["GET", "HEAD"])
def video(request: Request, r: Review, sha256: Annotated[str, _path_sha()]) -> Response:
    asset = r.corpus.video(sha256)
    source = resolve_video(r.storage, asset) if asset is not None else None
    if source is None:
        raise HTTPException(404, "no stored video with this hash in the configured storage")
    return serve_bytes(r, request, source.key, source.size, source.mime, source.sha256)


@router.api_route("/poster/{sha256}", methods=["GET", "HEAD"])
def poster(request: Request, r: Review, sha256: Annotated[str, _path_sha()]) -> Response:
    asset = r.corpus.video(sha256)
    source = resolve_video(r.storage, asset) if asset is not None else None
    if source is None:
        raise HTTPException(404, "no stored video with this hash in the configured storage")
    try:  # clips ingested before posters existed get theirs now, once
        key = ensure_poster(r.storage, source.key, sha256)
        info = r.storage.stat(key)
    except HumortuneError as exc:
        raise HTTPException(404, f"no poster frame for this clip: {exc.message}") from exc
    if info is None:  # pragma: no cover - just stored
        raise HTTPException(404, "the poster frame disappeared; reload the page")
    return serve_bytes(r, request, key, info.size, "image/jpeg", f"{sha256}.jpg")


@router.get("/static/{name}")
def static(r: Review, name: str) -> Response:
    if name not in r.static:
        raise HTTPException(404, "no such file")
    return Response(r.static[name], media_type=STATIC_TYPES[name], headers={"Cache-Control": "private, max-age=300"})
