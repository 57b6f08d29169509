"""The review UI's byte routes: stored videos and poster frames with byte ranges, and the UI's static files.

Split from `router.py` so each module stays small; the routes share the router's token dependency.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import StreamingResponse

from humortune.errors import HumortuneError
from humortune.feedback.media import Unsatisfiable, iter_range, parse_range, resolve_video
from humortune.sources.poster import ensure_poster

if TYPE_CHECKING:  # pragma: no cover
    from humortune.feedback.router import ReviewContext

__all__ = ["add_media_routes"]

_SHA = r"^[0-9a-f]{64}$"
STATIC_TYPES = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
"""The UI's static files and their media types."""


def add_media_routes(router: APIRouter, ctx: ReviewContext) -> None:
    """Register ``/video/{sha256}``, ``/poster/{sha256}`` and ``/static/{name}`` on ``router``."""

    def serve_bytes(request: Request, key: str, size: int, mime: str, etag: str) -> Response:
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
        body = iter_range(ctx.storage, key, start, length)
        return StreamingResponse(body, status_code=status, headers=headers, media_type=mime)

    @router.api_route("/video/{sha256}", methods=["GET", "HEAD"])
    def video(request: Request, sha256: Annotated[str, _path_sha()]) -> Response:
        asset = ctx.corpus.video(sha256)
        source = resolve_video(ctx.storage, asset) if asset is not None else None
        if source is None:
            raise HTTPException(404, "no stored video with this hash in the configured storage")
        return serve_bytes(request, source.key, source.size, source.mime, source.sha256)

    @router.api_route("/poster/{sha256}", methods=["GET", "HEAD"])
    def poster(request: Request, sha256: Annotated[str, _path_sha()]) -> Response:
        asset = ctx.corpus.video(sha256)
        source = resolve_video(ctx.storage, asset) if asset is not None else None
        if source is None:
            raise HTTPException(404, "no stored video with this hash in the configured storage")
        try:  # clips ingested before posters existed get theirs now, once
            key = ensure_poster(ctx.storage, source.key, sha256)
            info = ctx.storage.stat(key)
        except HumortuneError as exc:
            raise HTTPException(404, f"no poster frame for this clip: {exc.message}") from exc
        if info is None:  # pragma: no cover - just stored
            raise HTTPException(404, "the poster frame disappeared; reload the page")
        return serve_bytes(request, key, info.size, "image/jpeg", f"{sha256}.jpg")

    @router.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in ctx.static:
            raise HTTPException(404, "no such file")
        return Response(
            ctx.static[name], media_type=STATIC_TYPES[name], headers={"Cache-Control": "private, max-age=300"}
        )


def _path_sha() -> Any:
    from fastapi import Path as PathParam

    return PathParam(pattern=_SHA)
