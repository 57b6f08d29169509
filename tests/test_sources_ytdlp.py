"""The real yt-dlp code path (generic extractor + HTTP downloader) against a loopback server with faults."""

from __future__ import annotations

import logging
import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from humortune.errors import (
    ConfigError,
    PermanentSourceError,
    SourceError,
    TransientSourceError,
    UnsupportedSourceError,
)
from humortune.settings import Settings
from humortune.sources import YtDlpDownloader, parse_source
from humortune.testing.videos import make_test_video
from tests.rigs.video_server import VideoServer, reset, slow, stall, status, truncate


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_video(tmp_path_factory.mktemp("clips") / "clip.mp4", seconds=3.0, seed=7)


@pytest.fixture
def server(clip: Path) -> Iterator[VideoServer]:
    with VideoServer() as srv:
        srv.add_file("clip.mp4", clip)
        yield srv


def _downloader(tmp_path: Path, **overrides: object) -> YtDlpDownloader:
    values: dict[str, object] = {"workspace": tmp_path / "ws", "download_timeout_s": 2.0, "download_backoff_s": 0.0}
    values.update(overrides)
    return YtDlpDownloader(Settings(**values))


def _fetch(downloader: YtDlpDownloader, url: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    return downloader.download(parse_source(url), dest).path


def test_direct_link_downloads_the_exact_bytes(
    tmp_path: Path, server: VideoServer, clip: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    result = _downloader(tmp_path).download(parse_source(server.url("clip.mp4")), tmp_path / "dl")
    assert result.path.read_bytes() == clip.read_bytes()
    assert result.path.parent == tmp_path / "dl"
    assert result.extractor == "Generic"
    assert result.video_id is None  # not TikTok: the ingestor names it by content hash
    assert result.bytes_downloaded == clip.stat().st_size
    assert [p.name for p in (tmp_path / "dl").iterdir()] == [result.path.name]  # no .part leftovers
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # yt-dlp talks to our logger, never to the terminal


def test_503_is_transient_server_error(tmp_path: Path, server: VideoServer) -> None:
    server.add_faults("clip.mp4", status(503))
    with pytest.raises(TransientSourceError) as info:
        _fetch(_downloader(tmp_path), server.url("clip.mp4"), tmp_path / "a")
    assert info.value.category == "server" and info.value.transient
    assert "503" in info.value.message
    assert info.value.item == server.url("clip.mp4")
    assert _fetch(_downloader(tmp_path), server.url("clip.mp4"), tmp_path / "b").is_file()  # then 200


def test_503_during_the_body_download_is_retried_by_yt_dlp(tmp_path: Path, server: VideoServer) -> None:
    server.add_faults("clip.mp4", slow(chunk=1 << 20, delay=0), status(503))  # page probe ok, media 503 once
    assert _fetch(_downloader(tmp_path), server.url("clip.mp4"), tmp_path / "a").is_file()
    assert server.hits["clip.mp4"] == 3


def test_404_is_permanent_removed(tmp_path: Path, server: VideoServer) -> None:
    with pytest.raises(PermanentSourceError) as info:
        _fetch(_downloader(tmp_path), server.url("gone.mp4"), tmp_path / "a")
    assert info.value.category == "removed" and not info.value.transient
    assert "404" in info.value.message and "replace the link" in (info.value.hint or "")


def test_429_is_rate_limited(tmp_path: Path, server: VideoServer) -> None:
    server.add_faults("clip.mp4", status(429))
    with pytest.raises(TransientSourceError) as info:
        _fetch(_downloader(tmp_path), server.url("clip.mp4"), tmp_path / "a")
    assert info.value.category == "rate_limited"
    assert "--concurrency" in (info.value.hint or "")


def test_403_is_private(tmp_path: Path, server: VideoServer) -> None:
    server.add_faults("clip.mp4", status(403))
    with pytest.raises(PermanentSourceError) as info:
        _fetch(_downloader(tmp_path), server.url("clip.mp4"), tmp_path / "a")
    assert info.value.category == "private" and "COOKIES_FILE" in (info.value.hint or "")


def test_html_page_instead_of_video_is_unsupported(tmp_path: Path, server: VideoServer) -> None:
    server.add_bytes("watch", b"<html><head><title>Clip</title></head><body>No video here</body></html>", "text/html")
    with pytest.raises(UnsupportedSourceError) as info:
        _fetch(_downloader(tmp_path), server.url("watch"), tmp_path / "a")
    assert info.value.category == "unsupported"
    assert "Unsupported URL" in info.value.message


def pad_mp4(source: Path, target: Path, size: int) -> Path:
    """A valid MP4 of ``size`` bytes: the clip plus a top-level ``free`` box that players skip."""
    data = source.read_bytes()
    target.write_bytes(data + struct.pack(">I", size - len(data)) + b"free" + bytes(size - len(data) - 8))
    return target


def test_connection_reset_mid_body_is_resumed(tmp_path: Path, server: VideoServer, clip: Path) -> None:
    big = pad_mp4(clip, tmp_path / "big.mp4", 2 * 1024 * 1024)
    server.add_file("big.mp4", big)
    server.add_faults("big.mp4", slow(chunk=1 << 20, delay=0), reset(after=700_000))
    path = _fetch(_downloader(tmp_path), server.url("big.mp4"), tmp_path / "a")
    assert path.read_bytes() == big.read_bytes()
    assert server.range_requests["big.mp4"] == 1  # yt-dlp resumed from the last block it had written


def test_slow_body_completes(tmp_path: Path, server: VideoServer, clip: Path) -> None:
    server.add_faults("clip.mp4", slow(chunk=1 << 20, delay=0), slow(chunk=2048, delay=0.005))
    path = _fetch(_downloader(tmp_path), server.url("clip.mp4"), tmp_path / "a")
    assert path.read_bytes() == clip.read_bytes()


def test_stalled_body_times_out_as_network_error(tmp_path: Path, server: VideoServer) -> None:
    server.add_faults("clip.mp4", slow(chunk=1 << 20, delay=0), *[stall(after=2000, seconds=3.0)] * 5)
    downloader = _downloader(tmp_path, download_timeout_s=0.3)
    with pytest.raises(TransientSourceError) as info:
        _fetch(downloader, server.url("clip.mp4"), tmp_path / "a")
    assert info.value.category == "network"
    assert "timed out" in info.value.message.lower()


def test_body_cut_short_every_time_is_a_network_error(tmp_path: Path, server: VideoServer) -> None:
    server.add_faults("clip.mp4", slow(chunk=1 << 20, delay=0), *[truncate(after=3000)] * 5)
    with pytest.raises(TransientSourceError) as info:
        _fetch(_downloader(tmp_path), server.url("clip.mp4"), tmp_path / "a")
    assert info.value.category == "network"
    assert "more expected" in info.value.message


def test_connection_refused_is_network(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransientSourceError) as info:
        _fetch(_downloader(tmp_path), f"http://127.0.0.1:{port}/clip.mp4", tmp_path / "a")
    assert info.value.category == "network"


def test_size_cap_aborts_the_download_early(tmp_path: Path, server: VideoServer) -> None:
    big = make_test_video(tmp_path / "big.mp4", seconds=2.0, width=320, height=240, bitrate=8_000_000, seed=1)
    assert big.stat().st_size > 1024 * 1024
    server.add_file("big.mp4", big)
    with pytest.raises(PermanentSourceError) as info:
        _fetch(_downloader(tmp_path, max_video_mb=1), server.url("big.mp4"), tmp_path / "a")
    assert info.value.category == "too_large" and "1.0 MB" in info.value.message
    # Content-Length gave it away: yt-dlp stopped after its first block instead of fetching 3 MB.
    leftovers = sum(p.stat().st_size for p in (tmp_path / "a").iterdir())
    assert leftovers <= 256 * 1024  # one read block


def test_stop_event_aborts(tmp_path: Path, server: VideoServer) -> None:
    downloader = _downloader(tmp_path)
    downloader.stop.set()
    with pytest.raises(SourceError, match="stopped"):
        _fetch(downloader, server.url("clip.mp4"), tmp_path / "a")


def test_cookies_file_is_used_through_a_private_copy(tmp_path: Path, server: VideoServer) -> None:
    cookies = tmp_path / "cookies.txt"
    content = "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t2147483647\tsessionid\tSECRET-COOKIE\n"
    cookies.write_text(content)
    downloader = _downloader(tmp_path, cookies_file=cookies)
    (tmp_path / "p").mkdir()
    params = downloader.params(tmp_path / "p", lambda status: None)
    assert Path(params["cookiefile"]).parent == tmp_path / "p"
    assert _fetch(downloader, server.url("clip.mp4"), tmp_path / "a").is_file()
    assert cookies.read_text() == content  # yt-dlp saved cookies to its copy, never to the user's file


def test_missing_cookies_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cookies_file"):
        _downloader(tmp_path, cookies_file=tmp_path / "nope.txt")


def test_proxy_credentials_never_appear_in_errors_or_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    downloader = _downloader(tmp_path, proxy=f"http://alice:hunter2-secret@127.0.0.1:{port}")
    caplog.set_level(logging.DEBUG, logger="humortune")
    with pytest.raises(SourceError) as info:
        _fetch(downloader, "http://127.0.0.1:9/clip.mp4?sig=SIGNED-TOKEN", tmp_path / "a")
    assert info.value.category == "network"
    text = str(info.value) + caplog.text
    assert "hunter2-secret" not in text and "alice" not in text
    assert "SIGNED-TOKEN" not in str(info.value.message)
