"""Video URL normalisation: pure string work, no network.

Every battery item names its clip by URL, and the same TikTok clip hides behind many spellings
(``www.``/``m.``/no ``www``, ``/@user/video/<id>``, ``/embed/v2/<id>``, ``/v/<id>.html``, query strings).
`canonical_key` folds them to one key so duplicates are caught before anything is downloaded.
Short links (``vm.tiktok.com/…``) can only be resolved over the network; they keep their own key until then.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from humortune.errors import UnsupportedSourceError

__all__ = ["SourceRef", "canonical_key", "is_url_like", "parse_source", "redact", "resolving_in_bulk"]

SourceKind = Literal["tiktok", "tiktok_short", "file", "http"]

_TIKTOK_HOSTS = {"tiktok.com", "www.tiktok.com", "m.tiktok.com", "tiktokv.com", "www.tiktokv.com"}
_TIKTOK_SHORT_HOSTS = {"vm.tiktok.com", "vt.tiktok.com"}
_VIDEO_PATHS = [
    re.compile(r"^/@[\w.\-]*/video/(?P<id>\d+)/?$"),
    re.compile(r"^/embed(?:/v2)?/(?P<id>\d+)/?$"),
    re.compile(r"^/v/(?P<id>\d+)(?:\.html)?/?$"),
    re.compile(r"^/share/video/(?P<id>\d+)/?$"),
    re.compile(r"^/video/(?P<id>\d+)/?$"),
]
_PHOTO = re.compile(r"^/@[\w.\-]*/photo/\d+/?$")
_LIVE = re.compile(r"^/@[\w.\-]*/live/?$|^/live(/|$)")
_PROFILE = re.compile(r"^/@[\w.\-]+/?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # one regex, not a loop per character: every imported item passes here


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A parsed video source: what kind it is, its canonical key, and what to hand the downloader."""

    kind: SourceKind
    key: str
    """Canonical key: ``tiktok:<id>``, ``tiktok-short:<url>``, ``file:<abs path>`` or ``http:<url>``."""
    url: str
    """What the downloader should fetch (a canonical TikTok URL, a file path, or the URL as given)."""
    video_id: str | None = None
    """The TikTok video id, when known without the network."""


def is_url_like(text: str) -> bool:
    """True for http(s) URLs, ``file://`` URIs and absolute or relative file paths with a video suffix."""
    text = text.strip()
    parts = urlsplit(text)
    if parts.scheme in {"http", "https"}:
        return bool(parts.netloc)
    if parts.scheme == "file":
        return bool(parts.path)
    if parts.scheme == "gs":
        return bool(parts.netloc and parts.path.strip("/"))
    return bool(re.search(r"\.(mp4|mov|webm|mkv|m4v|avi|3gp)$", text, re.IGNORECASE))


def parse_source(text: str) -> SourceRef:
    """Classify a source string and fold it to its canonical key.

    Raises `UnsupportedSourceError` for TikTok photo posts, live streams and profiles, and for schemes
    humortune cannot fetch.
    """
    raw = text.strip()
    if _CONTROL.search(raw):
        # no URL or path holds one, and the workspace cannot store a NUL (PostgreSQL text)
        raise UnsupportedSourceError(
            "the source contains a control character (a NUL, newline or tab inside it)",
            hint="pass the URL or path alone, without control characters",
            item=redact(raw.encode("unicode_escape").decode("ascii")),
        )
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme in {"", "file"} or (len(scheme) == 1 and raw[1:3] in {":\\", ":/"}):
        local = _resolve(Path(unquote(parts.path) if scheme == "file" else raw).expanduser())
        return SourceRef("file", f"file:{local}", str(local))
    if scheme not in {"http", "https"}:
        raise UnsupportedSourceError(
            f"cannot fetch a {scheme}:// source",
            hint="use a TikTok or other http(s) video URL, or a local file path",
            item=raw,
        )
    host = (parts.hostname or "").lower()
    path = re.sub(r"/{2,}", "/", parts.path)
    if host in _TIKTOK_SHORT_HOSTS or (host in _TIKTOK_HOSTS and path.startswith("/t/")):
        short = f"https://{host}{path.rstrip('/')}/"
        return SourceRef("tiktok_short", f"tiktok-short:{short}", short)
    if host in _TIKTOK_HOSTS:
        for pattern in _VIDEO_PATHS:
            if m := pattern.match(path):
                vid = m.group("id")
                user = path.split("/")[1] if path.startswith("/@") else "@_"
                url = f"https://www.tiktok.com/{user}/video/{vid}"
                return SourceRef("tiktok", f"tiktok:{vid}", url, vid)
        reason = (
            "is a photo post (slideshow), not a video"
            if _PHOTO.match(path)
            else "is a live stream, not a recorded video"
            if _LIVE.match(path)
            else "is a profile page, not a single video"
            if _PROFILE.match(path)
            else "is not a TikTok video link"
        )
        raise UnsupportedSourceError(
            f"this TikTok URL {reason}",
            hint="link the single video (https://www.tiktok.com/@user/video/<id>)",
            item=raw,
        )
    # Any other site: keep the URL without its fragment; yt-dlp's extractors decide at download time.
    url = parts._replace(scheme=scheme, netloc=parts.netloc.lower(), fragment="").geturl()
    return SourceRef("http", f"http:{url}", url)


_RESOLVED_DIRS: ContextVar[dict[str, str] | None] = ContextVar("humortune_resolved_dirs", default=None)


@contextmanager
def resolving_in_bulk() -> Iterator[None]:
    """Within the block, `parse_source` resolves each directory of a local path once, not once per file.

    A battery or an ingest run names up to 100k clips in a few directories, and ``Path.resolve`` costs an
    ``lstat`` per path component per file. The file itself is still checked (a symlinked clip resolves to
    its target); a directory symlink changed during the block is seen by the next one.
    """
    token = _RESOLVED_DIRS.set({})
    try:
        yield
    finally:
        _RESOLVED_DIRS.reset(token)


def _resolve(path: Path) -> Path:
    dirs = _RESOLVED_DIRS.get()
    if dirs is None or not path.is_absolute() or path.name in ("", ".", ".."):
        return path.resolve()
    parent = str(path.parent)
    real = dirs.get(parent)
    if real is None:
        real = dirs[parent] = os.path.realpath(parent)
    target = os.path.join(real, path.name)
    return Path(os.path.realpath(target) if os.path.islink(target) else target)


def canonical_key(text: str) -> str:
    """The canonical key of a source (see `parse_source`)."""
    return parse_source(text).key


_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)[^/\s@]*@", re.IGNORECASE)
_QUERY = re.compile(r"(?P<base>(?:https?|gs)://[^\s?#\"'<>]+)\?[^\s\"'<>)]*", re.IGNORECASE)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Text safe to show or store: given secret values, URL credentials (``user:password@``) and URL query
    strings (signed URLs: ``X-Goog-Signature=…``) removed, terminal escapes dropped.

    The one redaction for every place a URL is shown or stored (CLI tables, reports, logs, errors, the API
    and the review UI). Only the corpus keeps the URL as the owner gave it: it is what gets downloaded.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _ANSI.sub("", text)
    text = _USERINFO.sub(r"\g<scheme>***@", text)
    return _QUERY.sub(r"\g<base>?…", text)
