"""`YtDlpDownloader`: the real downloader, on the yt-dlp Python API (never a subprocess).

- Prefers H.264 in MP4 (``format_sort``), because TikTok's best-looking formats are often HEVC without
  audio; refuses playlists and audio-only results; enforces ``max_video_mb`` before and during download.
- TikTok pages are fetched with browser impersonation when ``curl_cffi`` is installed
  (``yt-dlp[default,curl-cffi]``); short links (``vm.tiktok.com/…``) are resolved by yt-dlp here.
- Cookies (``cookies_file``) and ``proxy`` come from `Settings`. yt-dlp rewrites its cookie file on exit,
  so each download works on a private copy; neither the cookies nor the proxy URL is ever logged.
- yt-dlp prints nothing: its messages go to the ``humortune.sources.ytdlp`` logger at debug level,
  redacted. Its exceptions become `SourceError` subclasses (see `humortune.sources.classify`).
"""

from __future__ import annotations

import functools
import logging
import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from humortune.errors import ConfigError, SourceError
from humortune.settings import Settings
from humortune.sources.base import Download, redact
from humortune.sources.classify import classify_error, error_for_category
from humortune.urls import SourceRef, parse_source

__all__ = ["FORMAT", "FORMAT_SORT", "YtDlpDownloader", "check_reachable"]

log = logging.getLogger(__name__)

FORMAT = "b[vcodec!=?none][acodec!=?none]/b[vcodec!=?none]/b"
"""One file with video and audio if there is one (no ffmpeg merge needed), else the best video, else
whatever exists (an audio-only result is then refused as ``not_video``)."""
FORMAT_SORT = ["vcodec:h264", "ext:mp4:m4a", "res:1080"]
"""H.264 first (Gemini and every player handle it), MP4, and nothing above 1080p (``-S`` syntax)."""


_BLOCK = 256 * 1024
"""Download read size. yt-dlp would grow it to 4 MiB; a fixed block keeps peak memory independent of file
size (an interrupted block is fetched again on resume)."""


class _Abort(Exception):
    """Raised from a progress hook to stop a download (too large, or the run is stopping)."""

    def __init__(self, category: str, message: str) -> None:
        super().__init__(message)
        self.category = category


class _Logger:
    """yt-dlp's ``logger=``: everything to Python logging at debug level, secrets redacted."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self._secrets = secrets

    def _emit(self, level: int, msg: str) -> None:
        if log.isEnabledFor(level):
            log.log(level, "%s", redact(msg.replace("\r", "").strip(), self._secrets))

    def debug(self, msg: str) -> None:
        self._emit(logging.DEBUG, msg)

    def info(self, msg: str) -> None:
        self._emit(logging.DEBUG, msg)

    def warning(self, msg: str) -> None:
        self._emit(logging.DEBUG, msg)

    def error(self, msg: str) -> None:
        self._emit(logging.DEBUG, msg)


@functools.cache
def _default_extractor_classes() -> tuple[Any, ...]:
    # YoutubeDL(auto_init=True) rebuilds this list with an O(n²) de-duplication (~40 ms per instance);
    # computing it once keeps per-download overhead small. Same list, same order as yt-dlp's default.
    from yt_dlp.extractor import gen_extractor_classes

    all_ies = {ie.IE_NAME.lower(): ie for ie in gen_extractor_classes()}
    return tuple(ie for ie in all_ies.values() if getattr(ie, "_ENABLED", True))


class YtDlpDownloader:
    """Download TikTok (and other yt-dlp-supported) videos to local disk.

    ```python
    downloader = YtDlpDownloader(Settings())
    result = downloader.download(parse_source(url), dest_dir)   # -> Download(path=…, video_id=…)
    ```

    ``extractors`` replaces yt-dlp's extractor list (tests register fakes this way, so nothing can go
    online); ``params`` adds or overrides YoutubeDL options; ``configure`` is called with each YoutubeDL
    before use (tests add request handlers with it). ``stop`` aborts running downloads when set.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        extractors: Sequence[Any] | None = None,
        params: dict[str, Any] | None = None,
        configure: Callable[[Any], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._extractors = tuple(extractors) if extractors is not None else None
        self._params = dict(params or {})
        self._configure = configure
        self.stop = stop or threading.Event()
        cookies = self.settings.cookies_file
        if cookies is not None and not Path(cookies).expanduser().is_file():
            raise ConfigError(
                f"cookies_file {cookies} does not exist",
                hint="export cookies in Netscape format to that path, or unset HUMORTUNE_COOKIES_FILE",
            )
        self._secrets = tuple(s for s in [self.settings.proxy.get_secret_value() if self.settings.proxy else ""] if s)

    @property
    def max_bytes(self) -> int:
        """The size cap, from ``settings.max_video_mb``."""
        return self.settings.max_video_mb * 1024 * 1024

    def params(self, dest_dir: Path, hook: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """The YoutubeDL options for one download into ``dest_dir``."""
        backoff = self.settings.download_backoff_s

        def sleep(n: int) -> float:
            return float(min(backoff * (2**n), 10.0))

        params: dict[str, Any] = {
            "format": FORMAT,
            "format_sort": list(FORMAT_SORT),
            "outtmpl": {"default": str(dest_dir / "video.%(ext)s")},
            "noplaylist": True,
            "extract_flat": "in_playlist",  # a playlist is refused, not downloaded entry by entry
            "overwrites": True,
            "retries": 2,  # inside one attempt (with resume); the ingestor retries whole attempts on top
            "fragment_retries": 2,
            "extractor_retries": 1,
            "retry_sleep_functions": {"http": sleep, "fragment": sleep, "extractor": sleep},
            "socket_timeout": self.settings.download_timeout_s,
            "buffersize": _BLOCK,  # stream to disk in fixed-size reads: memory stays flat with file size
            "noresizebuffer": True,
            "fixup": "never",
            "updatetime": False,
            "cachedir": False,
            "quiet": True,
            "no_warnings": False,
            "noprogress": True,
            "color": {"stdout": "no_color", "stderr": "no_color"},
            "logger": _Logger(self._secrets),
            "progress_hooks": [hook],
        }
        if self.settings.proxy is not None:
            params["proxy"] = self.settings.proxy.get_secret_value()
        if self.settings.cookies_file is not None:
            private = dest_dir / "cookies.txt"  # yt-dlp saves cookies back on close: keep the user's intact
            shutil.copyfile(Path(self.settings.cookies_file).expanduser(), private)
            params["cookiefile"] = str(private)
        params.update(self._params)
        return params

    def _youtube_dl(self, params: dict[str, Any]) -> Any:
        import yt_dlp
        from yt_dlp.extractor.common import UnsupportedURLIE

        ydl = yt_dlp.YoutubeDL(params, auto_init=False)
        if self._extractors is None:
            for ie in _default_extractor_classes():
                ydl.add_info_extractor(ie)  # classes: yt-dlp instantiates the one it needs
            ydl.add_info_extractor(UnsupportedURLIE())
        else:  # instances: yt-dlp can only look up its own extractor classes by name
            for ie in self._extractors:
                ydl.add_info_extractor(ie() if isinstance(ie, type) else ie)
        if self._configure is not None:
            self._configure(ydl)
        return ydl

    def download(self, source: SourceRef, dest_dir: Path) -> Download:
        """Extract, choose a format, check it, download it. Raises `SourceError` subclasses only."""
        item = source.url
        counter = {"bytes": 0}
        cap = self.max_bytes

        def hook(status: dict[str, Any]) -> None:
            if self.stop.is_set():
                raise _Abort("network", "stopped before the download finished")
            done = int(status.get("downloaded_bytes") or 0)
            total = status.get("total_bytes") or status.get("total_bytes_estimate")
            counter["bytes"] = done
            if (total and total > cap) or done > cap:
                size = max(done, int(total or 0))
                raise _Abort("too_large", f"the file is larger than {_mb(cap)} ({_mb(size)} or more)")

        dest_dir.mkdir(parents=True, exist_ok=True)
        try:
            with self._youtube_dl(self.params(dest_dir, hook)) as ydl:
                info = ydl.extract_info(source.url, download=False)
                if not isinstance(info, dict):
                    raise error_for_category("unknown", "yt-dlp returned nothing for this URL", item=item)
                self._check(info, item)
                result = ydl.process_ie_result(info, download=True)
        except SourceError as exc:
            exc.item = exc.item or item
            raise
        except _Abort as exc:
            raise error_for_category(exc.category, str(exc), item=item) from None
        except ConfigError:
            raise
        except Exception as exc:  # yt-dlp raises many types; all are classified, none escape untranslated
            abort = next((e for e in _causes(exc) if isinstance(e, _Abort)), None)
            if abort is not None:
                raise error_for_category(abort.category, str(abort), item=item) from None
            raise classify_error(exc, item=item, secrets=self._secrets) from exc
        path = _downloaded_file(result, dest_dir)
        if path is None:
            raise error_for_category("unknown", "yt-dlp finished without producing a file", item=item)
        return Download(
            path=path,
            video_id=_tiktok_id(result),
            webpage_url=result.get("webpage_url"),
            extractor=result.get("extractor_key"),
            bytes_downloaded=counter["bytes"] or path.stat().st_size,
        )

    def _check(self, info: dict[str, Any], item: str) -> None:
        """Refuse, before downloading, what can never be a usable video."""
        if info.get("_type") in ("playlist", "multi_video"):
            count = len(list(info.get("entries") or []))
            raise error_for_category(
                "unsupported", f"this URL is a playlist or profile with {count} entries, not one video", item=item
            )
        if info.get("vcodec") == "none":
            raise error_for_category("not_video", "the post has no video, only audio (a photo slideshow?)", item=item)
        size = info.get("filesize") or info.get("filesize_approx")
        if isinstance(size, (int, float)) and size > self.max_bytes:
            raise error_for_category(
                "too_large", f"the video is {_mb(int(size))}, over the {_mb(self.max_bytes)} limit", item=item
            )


def _causes(exc: BaseException) -> list[BaseException]:
    out, seen, queue = [], set(), [exc]
    while queue:
        err = queue.pop()
        if id(err) in seen:
            continue
        seen.add(id(err))
        out.append(err)
        exc_info = getattr(err, "exc_info", None)
        if isinstance(exc_info, tuple) and len(exc_info) > 1 and isinstance(exc_info[1], BaseException):
            queue.append(exc_info[1])
        queue.extend(e for e in (err.__cause__, err.__context__) if e is not None)
    return out


def _downloaded_file(result: dict[str, Any], dest_dir: Path) -> Path | None:
    for entry in result.get("requested_downloads") or []:
        path = entry.get("filepath")
        if path and Path(path).is_file():
            return Path(path)
    candidates = [p for p in dest_dir.glob("video.*") if not p.name.endswith((".part", ".ytdl"))]
    return candidates[0] if len(candidates) == 1 else None


def _tiktok_id(info: dict[str, Any]) -> str | None:
    """The TikTok video id, when yt-dlp resolved the source to a TikTok video (short links included)."""
    for url in (info.get("webpage_url"), info.get("original_url")):
        if isinstance(url, str):
            try:
                ref = parse_source(url)
            except SourceError:
                continue
            if ref.kind == "tiktok":
                return ref.video_id
    vid = info.get("id")
    if info.get("extractor_key") == "TikTok" and isinstance(vid, str) and vid.isdigit():
        return vid
    return None


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_reachable(settings: Settings, url: str = "https://www.tiktok.com/") -> None:
    """Fetch ``url`` through yt-dlp's own networking (proxy, impersonation, timeouts as downloads use them).

    Raises the categorised `SourceError` (`classify_error`) when it cannot be reached; used by `humortune
    doctor --network`.
    """
    import yt_dlp
    from yt_dlp.networking import Request

    params: dict[str, Any] = {"quiet": True, "no_warnings": True, "socket_timeout": 10}
    if settings.proxy is not None:
        params["proxy"] = settings.proxy.get_secret_value()
    secrets = [settings.proxy.get_secret_value()] if settings.proxy is not None else []
    try:
        with yt_dlp.YoutubeDL(params) as ydl:
            ydl.urlopen(Request(url, method="HEAD")).close()
    except Exception as exc:
        raise classify_error(exc, item=url, secrets=secrets) from None
