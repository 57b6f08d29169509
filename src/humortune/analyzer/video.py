"""What `Analyzer.analyze` accepts as a video, and how each form becomes a URI the model can read.

* a `VideoAsset` (already stored and probed): used as is;
* a ``gs://`` URI: used as is; its content hash comes from the corpus (or the object name) when known;
* a local path or ``file://`` URI: hashed, stored under ``training/videos/<sha256>.mp4``, probed, and
  recorded in the corpus, so the same clip is stored once and cached analyses find it again;
* an http(s)/TikTok URL: the clip ingested for that source earlier, else fetched through the ingest
  layer's downloader when it is installed.
"""

from __future__ import annotations

import mimetypes
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from humortune._util import SHA256_HEX, file_sha256
from humortune.errors import AnalysisError, ProbeError, SourceError
from humortune.schema import VideoAsset
from humortune.storage.base import Storage, video_key
from humortune.urls import parse_source
from humortune.workspace.corpus import Corpus
from humortune.workspace.stores.videos import VideoStore

if TYPE_CHECKING:  # pragma: no cover
    from humortune.sources.base import Downloader

__all__ = ["VideoInput", "VideoRef", "describe_input", "mime_for", "prepare_video", "store_local"]

VideoInput: TypeAlias = "str | os.PathLike[str] | VideoAsset"
"""Anything `Analyzer.analyze` accepts: a path, a ``gs://``/``file://`` URI, an http(s) URL or a `VideoAsset`."""

_VIDEO_MIME = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".avi": "video/x-msvideo",
    ".3gp": "video/3gpp",
    ".mpeg": "video/mpeg",
    ".mpg": "video/mpeg",
}


@dataclass(frozen=True, slots=True)
class VideoRef:
    """A video ready to send: the URI the model reads, and its content hash when known."""

    uri: str
    sha256: str | None
    mime_type: str = "video/mp4"
    asset: VideoAsset | None = None


def describe_input(video: VideoInput) -> str:
    """A short, secret-free label for an input in reports and errors."""
    if isinstance(video, VideoAsset):
        return video.uri
    from humortune.sources.base import redact  # signed URLs and credentials never reach reports

    return redact(os.fspath(video))


def mime_for(name: str) -> str:
    """The video MIME type for a file name or URI (``video/mp4`` when unknown)."""
    suffix = Path(name.split("?", 1)[0]).suffix.lower()
    return _VIDEO_MIME.get(suffix) or mimetypes.guess_type(name)[0] or "video/mp4"


def prepare_video(
    video: VideoInput,
    *,
    corpus: Corpus | None,
    storage: Storage | None,
    max_video_mb: int = 100,
    downloader: Callable[[], Downloader] | None = None,
) -> VideoRef:
    """Turn any accepted input into a `VideoRef`, storing and probing local files on the way.

    ``downloader`` provides the downloader for URLs never ingested (called only when one is needed).

    Raises `SourceError` for unreadable or unsupported inputs and `AnalysisError` when a URL was never
    ingested and no downloader is available.
    """
    if isinstance(video, VideoAsset):
        return VideoRef(video.uri, video.sha256, video.mime, video)
    text = os.fspath(video).strip()
    if text.startswith("gs://"):
        return _gcs_ref(text, corpus)
    if text.startswith(("http://", "https://")):
        return _url_ref(text, corpus=corpus, storage=storage, max_video_mb=max_video_mb, downloader=downloader)
    source = parse_source(text)  # file paths and file:// URIs; raises for unsupported schemes
    return store_local(Path(source.url), corpus=corpus, storage=storage, max_video_mb=max_video_mb)


def _gcs_ref(uri: str, corpus: Corpus | None) -> VideoRef:
    if corpus is not None:
        asset = VideoStore(corpus.db).by_uri(uri)
        if asset is not None:
            return VideoRef(uri, asset.sha256, asset.mime, asset)
    stem = Path(uri.split("?", 1)[0]).stem
    return VideoRef(uri, stem if SHA256_HEX.match(stem) else None, mime_for(uri))


def _url_ref(
    url: str,
    *,
    corpus: Corpus | None,
    storage: Storage | None,
    max_video_mb: int,
    downloader: Callable[[], Downloader] | None,
) -> VideoRef:
    source = parse_source(url)
    if corpus is not None:
        asset = corpus.video_for_key(source.key)
        if asset is None and source.video_id:
            asset = _video_by_source_id(corpus, source.video_id)
        if asset is not None:
            return VideoRef(asset.uri, asset.sha256, asset.mime, asset)
    if downloader is None:
        raise AnalysisError(
            "this URL has not been ingested, and downloading is off here",
            hint="ingest it first (humortune ingest), or pass a local file or a gs:// URI",
            item=describe_input(url),
        )
    with tempfile.TemporaryDirectory(prefix="humortune-fetch-") as tmp:
        fetched = downloader().download(source, Path(tmp))
        path = fetched.path
        ref = store_local(
            path,
            corpus=corpus,
            storage=storage,
            max_video_mb=max_video_mb,
            source_id=fetched.video_id or source.video_id,
        )
    if corpus is not None and ref.sha256 is not None:
        corpus.link_video(source.key, ref.sha256)
    return ref


def _video_by_source_id(corpus: Corpus, source_id: str) -> VideoAsset | None:
    return VideoStore(corpus.db).by_source_id(source_id)


def store_local(
    path: Path,
    *,
    corpus: Corpus | None,
    storage: Storage | None,
    max_video_mb: int = 100,
    source_id: str | None = None,
) -> VideoRef:
    """Hash, store (put-if-absent), probe and record a local video file."""
    if not path.is_file():
        raise SourceError("no such video file", hint="check the path", item=str(path), category="not_found")
    size = path.stat().st_size
    if size > max_video_mb * 1024 * 1024:
        raise SourceError(
            f"the file is {size / 1e6:.1f} MB, above the {max_video_mb} MB limit",
            hint="Vertex AI reads videos up to 100 MB: trim or re-encode the clip",
            item=str(path),
            category="too_large",
        )
    sha = file_sha256(path)
    if corpus is not None:
        known = corpus.video(sha)
        if known is not None and (storage is None or _stored(storage, known.uri)):
            return VideoRef(known.uri, sha, known.mime, known)
    from humortune.sources.probe import probe_video  # the ingest layer's probe (PyAV, loaded on use)

    try:
        info = probe_video(path)
    except ProbeError as exc:
        exc.item = exc.item or str(path)
        raise
    if storage is None:
        return VideoRef(path.resolve().as_uri(), sha, info.mime)
    key = video_key(sha, info.ext)
    storage.put_file(key, path, sha256=sha, content_type=info.mime)
    asset = VideoAsset(
        sha256=sha,
        source_id=source_id or sha,
        size_bytes=size,
        duration_s=info.duration_s,
        width=info.width,
        height=info.height,
        codec=info.codec,
        fps=info.fps,
        has_audio=info.has_audio,
        mime=info.mime,
        container=info.container,
        uri=storage.uri(key),
    )
    if corpus is not None:
        corpus.add_video(asset)
    return VideoRef(asset.uri, sha, asset.mime, asset)


def _stored(storage: Storage, uri: str) -> bool:
    root = storage.root_uri.rstrip("/") + "/"
    return uri.startswith(root) and storage.exists(uri[len(root) :])
