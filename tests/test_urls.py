"""URL normalisation: every spelling of a TikTok clip folds to one key; non-videos are refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from humortune.errors import UnsupportedSourceError
from humortune.urls import canonical_key, is_url_like, parse_source, resolving_in_bulk

VID = "7301234567890123456"


@pytest.mark.parametrize(
    "url",
    [
        f"https://www.tiktok.com/@some.user/video/{VID}",
        f"https://www.tiktok.com/@some.user/video/{VID}/",
        f"https://www.tiktok.com/@some.user/video/{VID}?is_from_webapp=1&sender_device=pc",
        f"https://www.tiktok.com/@some.user/video/{VID}#comments",
        f"https://tiktok.com/@some.user/video/{VID}",
        f"http://tiktok.com/@some_user/video/{VID}",
        f"https://m.tiktok.com/@some.user/video/{VID}",
        f"https://m.tiktok.com/v/{VID}.html",
        f"https://m.tiktok.com/v/{VID}.html?u_code=abc&language=sv",
        f"https://www.tiktok.com/embed/v2/{VID}",
        f"https://www.tiktok.com/embed/{VID}",
        f"https://www.tiktok.com/share/video/{VID}",
        f"https://WWW.TikTok.com/@Some.User/video/{VID}",
        f"  https://www.tiktok.com/@u/video/{VID}  ",
        f"https://www.tiktok.com//@u//video/{VID}",
        f"https://www.tiktokv.com/share/video/{VID}",
    ],
)
def test_every_tiktok_spelling_folds_to_the_video_id(url: str) -> None:
    ref = parse_source(url)
    assert ref.kind == "tiktok"
    assert ref.key == f"tiktok:{VID}"
    assert ref.video_id == VID
    # What the downloader gets is a URL yt-dlp's TikTok extractor claims (it requires www.).
    assert ref.url.startswith("https://www.tiktok.com/@") and ref.url.endswith(f"/video/{VID}")


def test_canonical_url_keeps_the_user_or_uses_yt_dlp_placeholder() -> None:
    assert parse_source(f"https://tiktok.com/@cook/video/{VID}?x=1").url == f"https://www.tiktok.com/@cook/video/{VID}"
    assert parse_source(f"https://www.tiktok.com/embed/v2/{VID}").url == f"https://www.tiktok.com/@_/video/{VID}"


def test_canonical_urls_match_yt_dlp_tiktok_extractor() -> None:
    from yt_dlp.extractor.tiktok import TikTokIE

    for url in (f"https://m.tiktok.com/v/{VID}.html", f"https://www.tiktok.com/embed/v2/{VID}"):
        assert not TikTokIE.suitable(url)  # raw spellings yt-dlp would hand to the generic extractor
        assert TikTokIE.suitable(parse_source(url).url)


@pytest.mark.parametrize(
    "url",
    ["https://vm.tiktok.com/ZMabc123/", "https://vt.tiktok.com/ZSe4FqkKd", "https://www.tiktok.com/t/ZTRabc/"],
)
def test_short_links_are_kept_for_download_time(url: str) -> None:
    from yt_dlp.extractor.tiktok import TikTokVMIE

    ref = parse_source(url)
    assert ref.kind == "tiktok_short"
    assert ref.video_id is None
    assert ref.key.startswith("tiktok-short:https://")
    assert ref.url.endswith("/")
    assert TikTokVMIE.suitable(ref.url)  # yt-dlp resolves the redirect when it downloads
    assert parse_source(url.rstrip("/") + "?_r=1").key == ref.key


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"https://www.tiktok.com/@u/photo/{VID}", "photo post"),
        (f"https://www.tiktok.com/@u/photo/{VID}?lang=en", "photo post"),
        ("https://www.tiktok.com/@u/live", "live stream"),
        ("https://www.tiktok.com/live/", "live stream"),
        ("https://www.tiktok.com/@some.user", "profile"),
        ("https://www.tiktok.com/@some.user/", "profile"),
        ("https://www.tiktok.com/music/song-123", "not a TikTok video link"),
        ("https://www.tiktok.com/", "not a TikTok video link"),
    ],
)
def test_non_videos_are_refused_naming_the_url_and_why(url: str, reason: str) -> None:
    with pytest.raises(UnsupportedSourceError) as info:
        parse_source(url)
    err = info.value
    assert reason in err.message
    assert err.item == url
    assert err.category == "unsupported"
    assert err.hint and "/video/" in err.hint


@pytest.mark.parametrize("url", ["ftp://host/clip.mp4", "gs://bucket/clip.mp4", "s3://b/k.mp4"])
def test_unfetchable_schemes_are_refused(url: str) -> None:
    with pytest.raises(UnsupportedSourceError, match="cannot fetch"):
        parse_source(url)


def test_local_paths_and_file_uris_share_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clip = tmp_path / "my clip.mp4"
    clip.write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    keys = {canonical_key(str(clip)), canonical_key(clip.as_uri()), canonical_key("my clip.mp4")}
    assert keys == {f"file:{clip.resolve()}"}
    ref = parse_source(clip.as_uri())
    assert ref.kind == "file" and Path(ref.url) == clip.resolve() and ref.video_id is None


def test_resolving_in_bulk_gives_the_keys_of_one_by_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.mp4").write_bytes(b"a")
    (real / "b.mp4").symlink_to(real / "a.mp4")  # a symlinked clip is its target
    (tmp_path / "link").symlink_to(real, target_is_directory=True)  # so is a clip in a symlinked folder
    monkeypatch.chdir(tmp_path)
    sources = [
        *(str(tmp_path / "link" / name) for name in ("a.mp4", "b.mp4", "missing.mp4", "..", ".")),
        str(tmp_path / "link" / "sub" / ".." / "a.mp4"),
        (tmp_path / "link" / "b.mp4").as_uri(),
        "link/a.mp4",
        "~/x.mp4",
    ]
    one_by_one = [canonical_key(s) for s in sources]
    with resolving_in_bulk():
        assert [canonical_key(s) for s in sources] == one_by_one
    assert one_by_one[:3] == [f"file:{real / 'a.mp4'}", f"file:{real / 'a.mp4'}", f"file:{real / 'missing.mp4'}"]


def test_a_folder_is_resolved_once_per_block(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "one", target_is_directory=True)
    clip = str(link / "c.mp4")
    with resolving_in_bulk():
        assert canonical_key(clip) == f"file:{tmp_path / 'one' / 'c.mp4'}"
        link.unlink()
        link.symlink_to(tmp_path / "two", target_is_directory=True)
        assert canonical_key(clip) == f"file:{tmp_path / 'one' / 'c.mp4'}"  # the folder as the block found it
    assert canonical_key(clip) == f"file:{tmp_path / 'two' / 'c.mp4'}"  # outside a block: resolved every time
    with resolving_in_bulk():
        assert canonical_key(clip) == f"file:{tmp_path / 'two' / 'c.mp4'}"


def test_other_sites_keep_their_url_without_fragment() -> None:
    ref = parse_source("https://Example.COM/videos/clip.mp4?sig=abc#t=3")
    assert ref.kind == "http"
    assert ref.url == "https://example.com/videos/clip.mp4?sig=abc"
    assert ref.key == "http:https://example.com/videos/clip.mp4?sig=abc"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://www.tiktok.com/@u/video/1", True),
        ("file:///tmp/a.mp4", True),
        ("clips/a.MOV", True),
        ("gs://bucket/a.mp4", True),
        ("https://", False),
        ("not a url", False),
        ("notes.txt", False),
    ],
)
def test_is_url_like(text: str, expected: bool) -> None:
    assert is_url_like(text) is expected


@pytest.mark.parametrize("source", ["https://www.tiktok.com/@a/video/1\x00", "http://x/\u0083\x00y", "clip\n.mp4"])
def test_a_source_with_a_control_character_is_refused_naming_it_escaped(source: str) -> None:
    # schemathesis found a NUL in a /v1/analyze URL reaching PostgreSQL (which cannot store it) as a 500
    with pytest.raises(UnsupportedSourceError, match="control character") as caught:
        parse_source(source)
    assert caught.value.item is not None and "\x00" not in caught.value.item and "\n" not in caught.value.item
