"""TikTok-specific behaviour, offline.

Two layers, both on the real `YtDlpDownloader`:

1. yt-dlp's real ``TikTokIE``/``TikTokVMIE`` parse page fixtures (tests/fixtures/tiktok/) served by a request
   handler that replaces every network handler of the YoutubeDL, so nothing can leave the machine.
2. A fake extractor reusing ``TikTokIE._VALID_URL`` on ``YoutubeDL(auto_init=False)`` (reference §5), whose
   formats live on the loopback server: the generic HTTP download path with TikTok-shaped format lists.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
from yt_dlp.extractor.common import InfoExtractor
from yt_dlp.extractor.tiktok import TikTokIE, TikTokVMIE
from yt_dlp.networking.common import Request, Response
from yt_dlp.networking.exceptions import HTTPError, UnsupportedRequest
from yt_dlp.networking.impersonate import ImpersonateRequestHandler, ImpersonateTarget

from humortune.errors import PermanentSourceError, ProbeError, SourceError
from humortune.settings import Settings
from humortune.sources import YtDlpDownloader, parse_source, probe_video
from humortune.testing.videos import make_test_video
from tests.rigs.video_server import VideoServer

FIXTURES = Path(__file__).parent / "fixtures" / "tiktok"
VID = "7301234567890123456"
PAGE = f"https://www.tiktok.com/@kocken/video/{VID}"
pytestmark = pytest.mark.filterwarnings("ignore:Do not return 'artist':DeprecationWarning")

CDN = "https://v16-webapp-prime.tiktok.com/video/tos/useast2a/tos-useast2a-ve-0068c001"


class FixtureRH(ImpersonateRequestHandler):  # type: ignore[misc]
    """Answers every request from a route table; the only handler left, so nothing goes online."""

    _SUPPORTED_URL_SCHEMES = ("http", "https")
    _SUPPORTED_PROXY_SCHEMES = None
    _SUPPORTED_FEATURES = None
    _SUPPORTED_IMPERSONATE_TARGET_MAP: ClassVar[dict[ImpersonateTarget, Any]] = {ImpersonateTarget("chrome"): "chrome"}
    routes: ClassVar[dict[str, tuple[int, str, bytes, str | None]]] = {}
    seen: ClassVar[list[tuple[str, str, bool]]] = []

    def _check_extensions(self, extensions: dict[str, Any]) -> None:
        super()._check_extensions(extensions)
        for name in ("impersonate", "cookiejar", "timeout", "legacy_ssl", "keep_header_casing"):
            extensions.pop(name, None)

    def _validate(self, request: Request) -> None:
        host = urlsplit(request.url).hostname or ""
        if not host.endswith(("tiktok.com", "tiktokcdn.com", "tiktokv.com")):
            raise UnsupportedRequest(f"fixture handler serves TikTok hosts only, not {host}")
        super()._validate(request)

    def _send(self, request: Request) -> Response:
        base = request.url.split("?", 1)[0]
        self.seen.append((request.method, base, "impersonate" in request.extensions))
        status, ctype, body, final = self.routes.get(base, (404, "text/plain", b"not found", None))
        response = Response(
            io.BytesIO(body), final or request.url, {"Content-Type": ctype, "Content-Length": str(len(body))}, status
        )
        if status >= 400:
            raise HTTPError(response)
        return response


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    from tests.test_sources_probe import _encode

    root = tmp_path_factory.mktemp("tiktok")
    return {
        "h264": make_test_video(root / "h264.mp4", seconds=1.0, seed=11).read_bytes(),
        "hevc": _encode(root / "hevc.mp4", "libx265", "mp4").read_bytes(),
    }


@pytest.fixture
def site(clips: dict[str, bytes]) -> Iterator[dict[str, tuple[int, str, bytes, str | None]]]:
    routes: dict[str, tuple[int, str, bytes, str | None]] = {
        f"{CDN}/h264/": (200, "video/mp4", clips["h264"], None),
        f"{CDN}/play/": (200, "video/mp4", clips["h264"], None),
        f"{CDN}/download/": (200, "video/mp4", clips["h264"], None),
        f"{CDN}/hevc/": (200, "video/mp4", clips["hevc"], None),
        "https://v16-webapp-prime.tiktok.com/music/original.mp3": (200, "audio/mpeg", b"ID3" + b"\0" * 64, None),
    }
    FixtureRH.routes, FixtureRH.seen = routes, []
    yield routes
    FixtureRH.routes, FixtureRH.seen = {}, []


def _serve_page(site: dict[str, tuple[int, str, bytes, str | None]], fixture: str, url: str = PAGE) -> None:
    site[url] = (200, "text/html; charset=utf-8", (FIXTURES / fixture).read_bytes(), None)


def _offline_tiktok(tmp_path: Path, **params: Any) -> YtDlpDownloader:
    def configure(ydl: Any) -> None:
        ydl.__dict__["_request_director"] = ydl.build_request_director([FixtureRH])

    settings = Settings(workspace=tmp_path / "ws", download_backoff_s=0.0)
    return YtDlpDownloader(settings, extractors=[TikTokIE, TikTokVMIE], params=params, configure=configure)


def test_real_extractor_prefers_h264_over_higher_quality_hevc(tmp_path: Path, site: Any) -> None:
    _serve_page(site, "video_page.html")
    placeholder = f"https://www.tiktok.com/@_/video/{VID}"  # what an /v/<id>.html link normalises to
    site[placeholder] = (200, "text/html; charset=utf-8", (FIXTURES / "video_page.html").read_bytes(), PAGE)
    result = _offline_tiktok(tmp_path).download(parse_source(f"https://m.tiktok.com/v/{VID}.html"), tmp_path / "d")
    assert result.video_id == VID and result.extractor == "TikTok"
    assert result.webpage_url == placeholder
    assert probe_video(result.path).codec == "h264"
    fetched = [url for method, url, _ in FixtureRH.seen if method == "GET" and "/video/tos/" in url]
    assert f"{CDN}/hevc/" not in fetched
    page_requests = [imp for method, url, imp in FixtureRH.seen if url == placeholder]
    assert page_requests == [True]  # the page was requested with browser impersonation


def test_without_our_format_sort_yt_dlp_would_pick_hevc(tmp_path: Path, site: Any) -> None:
    _serve_page(site, "video_page.html")
    downloader = _offline_tiktok(tmp_path, format_sort=[], format="best")
    result = downloader.download(parse_source(PAGE), tmp_path / "d")
    assert probe_video(result.path).codec == "hevc"  # why FORMAT_SORT puts vcodec:h264 first


def test_short_link_resolves_to_the_video_id_at_download_time(tmp_path: Path, site: Any) -> None:
    _serve_page(site, "video_page.html")
    short = "https://vm.tiktok.com/ZMabc123/"
    site[short] = (200, "text/html", b"", f"{PAGE}?_r=1&_t=ZN-8abc")  # the redirect target
    ref = parse_source("https://vm.tiktok.com/ZMabc123")
    assert ref.kind == "tiktok_short" and ref.video_id is None
    result = _offline_tiktok(tmp_path).download(ref, tmp_path / "d")
    assert result.video_id == VID
    assert ("HEAD", short, False) in FixtureRH.seen


@pytest.mark.parametrize(
    ("fixture", "category", "error", "words"),
    [
        ("private_post.html", "private", PermanentSourceError, "permission to view"),
        ("ip_blocked.html", "geo", PermanentSourceError, "IP address is blocked"),
        ("not_available.html", "removed", PermanentSourceError, "status code 10231"),
        ("blocked_scraper.html", "extractor", PermanentSourceError, "Unexpected response"),
        ("slideshow.html", "not_video", ProbeError, "only audio"),
    ],
)
def test_tiktok_failures_are_categorised(
    tmp_path: Path, site: Any, fixture: str, category: str, error: type[SourceError], words: str
) -> None:
    _serve_page(site, fixture)
    with pytest.raises(error) as info:
        _offline_tiktok(tmp_path).download(parse_source(PAGE), tmp_path / "d")
    assert info.value.category == category
    assert words in info.value.message
    assert info.value.item == PAGE
    assert info.value.hint
    assert "--cookies" not in info.value.message and "please report" not in info.value.message.lower()


def test_deleted_page_404_is_removed(tmp_path: Path, site: Any) -> None:
    with pytest.raises(PermanentSourceError) as info:
        _offline_tiktok(tmp_path).download(parse_source(PAGE), tmp_path / "d")
    assert info.value.category == "removed"


# -- the reference §5 pattern: a fake extractor claiming TikTok URLs, formats on the loopback server -----


class FakeTikTokIE(InfoExtractor):  # type: ignore[misc]
    IE_NAME = "TikTok"
    _VALID_URL = TikTokIE._VALID_URL
    base = ""

    def _real_extract(self, url: str) -> dict[str, Any]:
        video_id = self._match_id(url)
        if video_id.endswith("0"):
            self.raise_login_required("You do not have permission to view this post")
        fmt = {"ext": "mp4", "acodec": "aac", "width": 576, "height": 1024}
        return {
            "id": video_id,
            "title": "fake",
            "webpage_url": url,
            "formats": [
                {
                    **fmt,
                    "format_id": "bytevc1_720p_900000-0",
                    "url": f"{self.base}/hevc.mp4",
                    "vcodec": "h265",
                    "tbr": 900,
                    "quality": 2,
                    "width": 720,
                    "height": 1280,
                },
                {
                    **fmt,
                    "format_id": "h264_540p_600000-0",
                    "url": f"{self.base}/h264.mp4",
                    "vcodec": "h264",
                    "tbr": 600,
                    "quality": 1,
                },
            ],
        }


def test_fake_tiktok_extractor_on_loopback(tmp_path: Path, clips: dict[str, bytes]) -> None:
    with VideoServer() as server:
        server.add_bytes("h264.mp4", clips["h264"])
        server.add_bytes("hevc.mp4", clips["hevc"])
        FakeTikTokIE.base = server.base_url
        downloader = YtDlpDownloader(Settings(workspace=tmp_path / "ws"), extractors=[FakeTikTokIE])
        result = downloader.download(parse_source(f"https://tiktok.com/@a/video/{VID}"), tmp_path / "d")
        assert result.video_id == VID
        assert result.path.read_bytes() == clips["h264"]
        assert server.hits["hevc.mp4"] == 0
        with pytest.raises(PermanentSourceError) as info:
            downloader.download(parse_source("https://www.tiktok.com/@a/video/7300000000000000000"), tmp_path / "e")
        assert info.value.category == "private"
        # With auto_init=False and only the fake registered, other URLs have no extractor at all.
        with pytest.raises(SourceError) as other:
            downloader.download(parse_source(server.url("h264.mp4")), tmp_path / "f")
        assert other.value.category == "unsupported"
