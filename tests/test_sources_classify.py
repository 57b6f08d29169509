"""Error classification: yt-dlp's exceptions and messages → one category, transient or not, with a fix."""

from __future__ import annotations

import io

import pytest
from yt_dlp.networking.common import Response
from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.utils import DownloadError, ExtractorError, GeoRestrictedError, UnsupportedError

from humortune.errors import PermanentSourceError, ProbeError, TransientSourceError, UnsupportedSourceError
from humortune.sources import CATEGORY_FIXES, classify_error, error_for_status, redact, suggested_fix

URL = "https://www.tiktok.com/@u/video/1"


def _wrapped(inner: BaseException) -> DownloadError:
    """How YoutubeDL surfaces an extractor failure: DownloadError carrying exc_info of the original."""
    try:
        raise inner
    except BaseException as exc:
        return DownloadError(f"ERROR: {exc}", (type(exc), exc, exc.__traceback__))


def _http(status: int) -> HTTPError:
    return HTTPError(Response(io.BytesIO(b""), "https://cdn.example/v.mp4?sig=SECRET", {}, status))


def _extractor(msg: str, *, expected: bool = True, cause: BaseException | None = None) -> ExtractorError:
    return ExtractorError(msg, expected=expected, cause=cause, ie="TikTok", video_id="1")


@pytest.mark.parametrize(
    ("exc", "category", "kind"),
    [
        (
            _wrapped(_extractor("Unable to download webpage: HTTP Error 404", cause=_http(404))),
            "removed",
            PermanentSourceError,
        ),
        (_wrapped(_extractor("Unable to download webpage", cause=_http(410))), "removed", PermanentSourceError),
        (_wrapped(_extractor("Unable to download webpage", cause=_http(403))), "private", PermanentSourceError),
        (_wrapped(_extractor("Unable to download webpage", cause=_http(429))), "rate_limited", TransientSourceError),
        (_wrapped(_extractor("Unable to download webpage", cause=_http(502))), "server", TransientSourceError),
        (
            _wrapped(_extractor("Unable to download webpage", cause=TransportError("timed out"))),
            "network",
            TransientSourceError,
        ),
        (
            _wrapped(_extractor("You do not have permission to view this post. Log into an account that has access")),
            "private",
            PermanentSourceError,
        ),
        (_wrapped(_extractor("Your IP address is blocked from accessing this post")), "geo", PermanentSourceError),
        (_wrapped(GeoRestrictedError("This video is not available from your location")), "geo", PermanentSourceError),
        (
            _wrapped(_extractor("Video not available, status code 10231", expected=False)),
            "removed",
            PermanentSourceError,
        ),
        (
            _wrapped(_extractor("This post may not be comfortable for some audiences. Log in for access")),
            "private",
            PermanentSourceError,
        ),
        (
            _wrapped(_extractor("Unexpected response from webpage request", expected=False)),
            "extractor",
            PermanentSourceError,
        ),
        (
            _wrapped(_extractor("Unable to extract universal data for rehydration", expected=False)),
            "extractor",
            PermanentSourceError,
        ),
        (_wrapped(UnsupportedError("https://example.com/page")), "unsupported", UnsupportedSourceError),
        (
            DownloadError(
                "ERROR: [download] Got error: HTTP Error 503: Service Unavailable. Giving up after 3 retries"
            ),
            "server",
            TransientSourceError,
        ),
        (
            DownloadError(
                "ERROR: \r[download] Got error: 5000 bytes read, 31874 more expected. Giving up after 3 retries"
            ),
            "network",
            TransientSourceError,
        ),
        (
            DownloadError("ERROR: [download] Got error: Read timed out.. Giving up after 3 retries"),
            "network",
            TransientSourceError,
        ),
        (
            DownloadError("ERROR: unable to download video data: [Errno 104] Connection reset by peer"),
            "network",
            TransientSourceError,
        ),
        (DownloadError("ERROR: [TikTok] 1: Requested format is not available"), "not_video", ProbeError),
        (DownloadError("ERROR: something nobody has seen before"), "unknown", PermanentSourceError),
        (ConnectionResetError(104, "Connection reset by peer"), "network", TransientSourceError),
    ],
)
def test_classification(exc: BaseException, category: str, kind: type[Exception]) -> None:
    err = classify_error(exc, item=URL)
    assert type(err) is kind
    assert err.category == category
    assert err.transient is (category in {"rate_limited", "server", "network"})
    assert err.item == URL
    assert err.hint == suggested_fix(category)
    assert err.message and not err.message.startswith("ERROR")
    assert "please report" not in err.message.lower()


def test_messages_lose_yt_dlp_boilerplate_and_secrets() -> None:
    exc = _wrapped(_extractor("Unexpected response from webpage request", expected=False))
    assert "yt-dlp -U" in str(exc.exc_info[1])  # the raw text nags about bug reports …
    err = classify_error(exc, item=URL, secrets=["s3cr3t"])
    assert err.message == "Unexpected response from webpage request"  # … ours does not
    proxied = DownloadError(
        "ERROR: Unable to connect to proxy http://bob:s3cr3t@10.0.0.1:3128 for https://v.tt/x?sig=TOKEN"
    )
    text = classify_error(proxied, item=URL, secrets=["s3cr3t"]).message
    assert "s3cr3t" not in text and "bob" not in text and "TOKEN" not in text


def test_status_mapping() -> None:
    assert error_for_status(408, "x", item=None).category == "network"
    assert error_for_status(418, "x", item=None).category == "unknown"
    assert error_for_status(504, "x", item=None).transient


def test_every_category_has_a_fix() -> None:
    for category in (
        "removed",
        "private",
        "geo",
        "unsupported",
        "too_large",
        "not_video",
        "rate_limited",
        "server",
        "network",
        "extractor",
        "storage",
        "unknown",
    ):
        assert len(CATEGORY_FIXES[category]) > 20
    assert suggested_fix("no-such-category") == CATEGORY_FIXES["unknown"]


def test_redact() -> None:
    text = redact("GET https://user:pw@host/a?token=abc failed via socks5://x:y@proxy:1080 (key K1)", ["K1"])
    assert text == "GET https://***@host/a?… failed via socks5://***@proxy:1080 (key ***)"


@pytest.mark.parametrize(
    "reason",
    [
        "[Errno -2] Domain name not found",
        "Failed to perform, curl: (6) Could not resolve host: www.tiktok.com (Domain name not found)",
        "[Errno -2] Name or service not known",
        "[Errno -3] Temporary failure in name resolution",
        "[Errno 111] Connection refused",
        "[Errno 104] Connection reset by peer",
    ],
)
def test_dns_and_connect_failures_are_temporary_network_failures(reason: str) -> None:
    # "Domain name not found" once matched the "removed" rule: a flaky network told the owner to drop good links.
    cause = TransportError(f"<urlopen error {reason}>")
    err = classify_error(_wrapped(_extractor(f"Unable to download webpage: {reason}", cause=cause)), item=URL)
    assert isinstance(err, TransientSourceError) and err.category == "network" and err.transient
    assert "drop the item" not in (err.hint or "")
