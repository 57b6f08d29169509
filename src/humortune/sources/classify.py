"""Turn whatever yt-dlp raised into one `SourceError` with a category and a suggested fix.

yt-dlp reports failures in two ways: typed exceptions (``ExtractorError`` wrapping an ``HTTPError`` or a
``TransportError``) from the extraction stage, and plain ``DownloadError`` messages ("Got error: HTTP Error
503 … Giving up after 3 retries") from the HTTP downloader. We look at the exception chain first and fall
back to the text, so both land in the same categories.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from humortune.errors import (
    PermanentSourceError,
    ProbeError,
    SourceError,
    TransientSourceError,
    UnsupportedSourceError,
)
from humortune.sources.base import redact, suggested_fix

__all__ = ["classify_error", "error_for_category", "error_for_status"]

_TRANSIENT = {"rate_limited", "server", "network"}

# Checked in order against the whole chain's text; the first match decides.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # DNS and connect failures first: "Domain name not found" must not read as a removed video.
    (
        "network",
        re.compile(
            r"domain name not found|name or service not known|temporary failure in name resolution"
            r"|name resolution|nodename nor servname|getaddrinfo failed|could not resolve host|failed to resolve"
            r"|no address associated with hostname|name does not resolve|connection (?:refused|reset)",
            re.I,
        ),
    ),
    ("rate_limited", re.compile(r"\b429\b|too many requests|rate.?limit", re.I)),
    (
        "geo",
        re.compile(
            r"ip address is blocked|not available (?:in|from) your (?:country|location|region)"
            r"|geo.?restrict|geo.?block|in your country",
            re.I,
        ),
    ),
    (
        "private",
        re.compile(
            r"private|permission to view|log ?in\b|login|sign ?in\b|cookies|age.?restrict|confirm your age"
            r"|members.?only|comfortable for some audiences",
            re.I,
        ),
    ),
    (
        "removed",
        re.compile(
            r"removed|deleted|no longer available|does not exist|video (?:is )?unavailable"
            r"|not available, status code|couldn'?t find|not found",
            re.I,
        ),
    ),
    ("unsupported", re.compile(r"unsupported url|no suitable extractor|not a valid url", re.I)),
    ("not_video", re.compile(r"requested format is not available|no video formats|audio.?only", re.I)),
    (
        "network",
        re.compile(
            r"timed? ?out|connection (?:reset|refused|aborted)|reset by peer|bytes read, \d+ more expected"
            r"|incomplete ?read|content too short|remote end closed|broken pipe|name or service not known"
            r"|name resolution|network is unreachable|\bssl\b|eof occurred|failed to establish|proxy",
            re.I,
        ),
    ),
    ("extractor", re.compile(r"unable to extract|unexpected response|universal data|unable to solve", re.I)),
]

_NOISE = [
    re.compile(r";?\s*please report this issue on .*", re.I | re.S),
    re.compile(r"\s*Confirm you are on the latest version.*", re.I | re.S),
    re.compile(r"\s*Use --cookies-from-browser or --cookies.*", re.I | re.S),
    re.compile(r"\s*\(caused by .*\)\s*$", re.S),
]


def error_for_category(category: str, message: str, *, item: str | None, hint: str | None = None) -> SourceError:
    """The `SourceError` subclass that fits a category, with the category's fix as the default hint."""
    hint = hint or suggested_fix(category)
    if category in _TRANSIENT:
        return TransientSourceError(message, hint=hint, item=item, category=category)
    if category == "unsupported":
        return UnsupportedSourceError(message, hint=hint, item=item)
    if category == "not_video":
        return ProbeError(message, hint=hint, item=item)
    return PermanentSourceError(message, hint=hint, item=item, category=category)


def error_for_status(status: int, message: str, *, item: str | None) -> SourceError:
    """Classify an HTTP status: 404/410 removed, 401/403 private, 429 rate-limited, 5xx server."""
    if status in (404, 410):
        category = "removed"
    elif status in (401, 403):
        category = "private"
    elif status == 429:
        category = "rate_limited"
    elif status == 408:
        category = "network"
    elif 500 <= status < 600:
        category = "server"
    else:
        category = "unknown"
    return error_for_category(category, message, item=item)


def classify_error(exc: BaseException, *, item: str | None, secrets: Iterable[str] = ()) -> SourceError:
    """Translate a yt-dlp (or network) exception into a categorised `SourceError`. Never raises."""
    secrets = tuple(secrets)
    chain = list(_chain(exc))
    for err in chain:
        if isinstance(err, SourceError):
            return err
    message = _clean(_best_message(chain), secrets)
    names = {type(err).__name__ for err in chain}
    if "CookieLoadError" in names:
        return error_for_category(
            "unknown",
            message,
            item=item,
            hint="the cookies file could not be read: export it again "
            "(Netscape format) or unset HUMORTUNE_COOKIES_FILE",
        )
    if "GeoRestrictedError" in names:
        return error_for_category("geo", message, item=item)
    if "UnsupportedError" in names:
        return error_for_category("unsupported", message, item=item)
    for err in chain:
        status = getattr(err, "status", None)
        if type(err).__name__ == "HTTPError" and isinstance(status, int):
            return error_for_status(status, message, item=item)
    text = " | ".join(str(err) for err in chain)
    if match := re.search(r"HTTP Error (\d{3})", text):
        return error_for_status(int(match.group(1)), message, item=item)
    for category, pattern in _PATTERNS:
        if pattern.search(text):
            return error_for_category(category, message, item=item)
    if names & {"TransportError", "IncompleteRead", "ContentTooShortError", "ProxyError", "SSLError"} or any(
        isinstance(err, (TimeoutError, ConnectionError)) for err in chain
    ):
        return error_for_category("network", message, item=item)
    return error_for_category("unknown", message, item=item)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it wraps (yt-dlp's ``exc_info`` and ``cause``), and its context, once each."""
    seen: set[int] = set()
    queue: list[BaseException] = [exc]
    while queue:
        err = queue.pop(0)
        if id(err) in seen:
            continue
        seen.add(id(err))
        yield err
        exc_info = getattr(err, "exc_info", None)
        nested = [exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) > 1 else None]
        nested += [getattr(err, "cause", None), err.__cause__, err.__context__]
        queue.extend(n for n in nested if isinstance(n, BaseException))


def _best_message(chain: list[BaseException]) -> str:
    for err in chain:  # ExtractorError.orig_msg has no bug-report boilerplate
        orig = getattr(err, "orig_msg", None)
        if isinstance(orig, str) and orig.strip():
            return orig
    return str(chain[0]) or type(chain[0]).__name__


def _clean(message: str, secrets: tuple[str, ...]) -> str:
    text = message.replace("\r", "").strip()
    text = re.sub(r"^(?:ERROR:\s*)+", "", text)
    for pattern in _NOISE:
        text = pattern.sub("", text)
    text = re.sub(r"\s+", " ", text).strip()
    return redact(text, secrets)[:400] or "download failed"
