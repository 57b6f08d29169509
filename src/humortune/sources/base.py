"""What every video source shares: the `Downloader` protocol, its result, error categories and their fixes.

A `Downloader` turns a parsed `SourceRef` into a file on local disk. The real one is
`humortune.sources.ytdlp.YtDlpDownloader`; tests, examples and the analyzer inject fakes (see
`humortune.testing.sources`). Local files never go through a downloader: `open_local` checks them in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from humortune.errors import PermanentSourceError, SourceError
from humortune.urls import SourceRef, redact

__all__ = [
    "CATEGORY_FIXES",
    "Download",
    "Downloader",
    "open_local",
    "redact",
    "suggested_fix",
]

CATEGORY_FIXES: dict[str, str] = {
    "removed": "the video is gone or the link is wrong: replace the link in the battery, or drop the item",
    "private": "the video is private, login-only or age-restricted: export a logged-in browser's cookies "
    "(Netscape format) and set HUMORTUNE_COOKIES_FILE, or replace the link",
    "geo": "the video is blocked where this machine is: set HUMORTUNE_PROXY to a proxy in a country "
    "where it is available",
    "unsupported": "the link is not a single video (photo post, live stream, profile, playlist, or a page "
    "without a video): link the video itself",
    "too_large": "the file is larger than max_video_mb (Vertex accepts at most 100 MB): trim or re-encode "
    "it and link the local file, or raise HUMORTUNE_MAX_VIDEO_MB",
    "not_video": "what was fetched is not a decodable video (audio-only slideshow, a web page, a broken "
    "file): replace the link",
    "rate_limited": "the site is throttling downloads: wait a while, lower --concurrency, then run "
    "`humortune ingest --only-failed`",
    "server": "the site answered with a server error: run `humortune ingest --only-failed` later",
    "network": "the connection failed, was reset or timed out: check the network (and HUMORTUNE_PROXY), "
    "then run `humortune ingest --only-failed`",
    "extractor": "yt-dlp could not read the page (the site changed or blocked the scraper): upgrade "
    "yt-dlp (pip install -U yt-dlp), then run `humortune ingest --only-failed`",
    "storage": "the video could not be stored: check the storage settings and permissions, then run "
    "`humortune ingest --only-failed`",
    "unknown": "run `humortune --debug ingest --only-failed` to see the full error",
}
"""The suggested fix for each failure category, shown in the ingest report."""


def suggested_fix(category: str) -> str:
    """The fix to suggest for a failure category (falls back to the ``unknown`` advice)."""
    return CATEGORY_FIXES.get(category, CATEGORY_FIXES["unknown"])


@dataclass(frozen=True, slots=True)
class Download:
    """A video file on local disk, fetched (or found) for one source."""

    path: Path
    """The file. For downloads it lives in a temp directory the caller owns and deletes."""
    video_id: str | None = None
    """The platform's video id when the source resolved to one (TikTok short links resolve here)."""
    webpage_url: str | None = None
    """The canonical page of the video, when a downloader resolved one."""
    extractor: str | None = None
    """Which yt-dlp extractor handled it (``TikTok``, ``Generic``…), if any."""
    bytes_downloaded: int = 0
    """Bytes fetched over the network (0 for local files)."""
    local: bool = False
    """True when ``path`` is the user's own file (read in place; never delete it)."""


@runtime_checkable
class Downloader(Protocol):
    """Fetches one remote source into ``dest_dir``. Raises `SourceError` subclasses, nothing else."""

    def download(self, source: SourceRef, dest_dir: Path) -> Download:
        """Download ``source`` into the (empty, existing) directory ``dest_dir``."""
        ...


def open_local(source: SourceRef) -> Download:
    """A local file source, checked in place (no copy, no yt-dlp)."""
    path = Path(source.url)
    if not path.is_file():
        raise PermanentSourceError(
            "no such file" if not path.exists() else "not a regular file",
            hint="check the path in the battery (relative paths are relative to the battery file)",
            item=str(path),
            category="removed",
        )
    return Download(path=path, local=True)


def with_item(error: SourceError, item: str) -> SourceError:
    """Set the error's item (the source) when the raiser did not know it."""
    if error.item is None:
        error.item = item
    return error
