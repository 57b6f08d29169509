"""The review web app over HTTP (FastAPI TestClient): every route, auth, CSRF, escaping, traversal, limits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from humortune.feedback import ReviewSecurity, create_review_app
from humortune.feedback.security import loopback_hosts
from humortune.schema import VideoAsset
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.workspace import Corpus
from tests._feedback_support import RECORD, add_analysis, add_correction, copy_clips, csrf_of, make_clips, store_clip

BASE = "gemini-2.5-flash"
TUNED = "projects/p/locations/us-central1/models/42@1"
TOKEN = "t0ken-for-the-review-tests-0123456789"
ORIGIN = "http://testserver"
XSS = "<script>alert('pwned')</script>"


@pytest.fixture(scope="module")
def clip_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_clips(tmp_path_factory.mktemp("clips"), count=3)


@dataclass
class World:
    corpus: Corpus
    storage: LocalStorage
    videos: list[VideoAsset]
    app: FastAPI
    security: ReviewSecurity


@pytest.fixture
def world(settings: Settings, corpus: Corpus, tmp_path: Path, clip_files: list[Path]) -> World:
    storage = LocalStorage(tmp_path / "storage")
    videos = [store_clip(corpus, storage, p) for p in copy_clips(clip_files, tmp_path / "in")]
    security = ReviewSecurity(token=TOKEN, allowed_hosts=loopback_hosts() | {"testserver"})
    app = create_review_app(settings, corpus=corpus, storage=storage, security=security, standalone=True)
    return World(corpus, storage, videos, app, security)


@pytest.fixture
def anon(world: World) -> Iterator[TestClient]:
    with TestClient(world.app) as client:
        yield client


@pytest.fixture
def browser(world: World) -> Iterator[TestClient]:
    """A client signed in like a browser: cookie from the ?token= first visit."""
    with TestClient(world.app) as client:
        first = client.get(f"/review/?token={TOKEN}", follow_redirects=False)
        assert first.status_code == 303
        yield client


def _post(client: TestClient, url: str, data: dict[str, str], *, page: str | None = None) -> object:
    html = client.get(page or "/review/").text
    return client.post(
        url, data={"csrf_token": csrf_of(html), **data}, headers={"Origin": ORIGIN}, follow_redirects=False
    )


# -- authentication -------------------------------------------------------------------------------


def test_every_route_needs_the_token(world: World, anon: TestClient) -> None:
    aid = add_analysis(world.corpus, world.videos[0], BASE)
    sha = world.videos[0].sha256
    gets = ["/review/", f"/review/clip/{aid}", "/review/ab", "/review/promotions", f"/review/video/{sha}",
            f"/review/poster/{sha}", "/review/add", "/review/static/app.js", "/review/static/app.css"]  # fmt: skip
    for url in gets:
        response = anon.get(url)
        assert response.status_code == 401, url
        assert b"ftyp" not in response.content  # no video bytes leak
    posts = [f"/review/clip/{aid}/save", f"/review/clip/{aid}/accept", f"/review/clip/{aid}/skip",
             f"/review/clip/{aid}/niche", "/review/undo", "/review/ab", "/review/promotions/1/confirm",
             "/review/add"]  # fmt: skip
    for url in posts:
        assert anon.post(url, data={"narrative": "x"}, headers={"Origin": ORIGIN}).status_code == 401, url
    assert world.corpus.status()["reviews"] == 0


def test_wrong_token_and_forged_cookie_are_refused(world: World, anon: TestClient) -> None:
    assert anon.get("/review/?token=nope").status_code == 401
    assert anon.get("/review/", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert anon.get("/review/", headers={"X-Humortune-Token": "nope"}).status_code == 401
    anon.cookies.set(world.security.cookie_name, "sid.0123456789abcdef0123456789abcdef")
    assert anon.get("/review/").status_code == 401
    other = ReviewSecurity(token="another-token-entirely-0123456789")
    anon.cookies.set(world.security.cookie_name, other.new_session_cookie())
    assert anon.get("/review/").status_code == 401


def test_401_page_is_html_for_browsers(anon: TestClient) -> None:
    page = anon.get("/review/", headers={"Accept": "text/html"})
    assert page.status_code == 401 and "humortune review" in page.text and "text/html" in page.headers["content-type"]
    assert anon.get("/review/").json() == {"error": page.text.split("<p>")[1].split("</p>")[0]}


def test_first_visit_sets_cookie_and_drops_token_from_url(world: World, anon: TestClient) -> None:
    first = anon.get(f"/review/?token={TOKEN}&niche=restaurant", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/review/?niche=restaurant"
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert TOKEN not in cookie
    assert anon.get("/review/").status_code == 200
    # the root of the app forwards the first visit
    with TestClient(world.app) as fresh:
        hop = fresh.get(f"/?token={TOKEN}", follow_redirects=False)
        assert hop.status_code == 307 and hop.headers["location"] == f"/review/?token={TOKEN}"


def test_header_token_works_without_cookie(world: World, anon: TestClient) -> None:
    aid = add_analysis(world.corpus, world.videos[0], BASE)
    assert anon.get("/review/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    # scripts holding the token need no CSRF token: a browser cannot send this header cross-site
    skipped = anon.post(f"/review/clip/{aid}/skip", headers={"X-Humortune-Token": TOKEN}, follow_redirects=False)
    assert skipped.status_code == 303, skipped.text


def test_foreign_host_is_refused(browser: TestClient) -> None:
    assert browser.get("/review/", headers={"Host": "evil.example"}).status_code == 400
    assert browser.get(f"/review/?token={TOKEN}", headers={"Host": "rebind.attacker.test:8765"}).status_code == 400


def test_security_headers(browser: TestClient) -> None:
    page = browser.get("/review/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"


def test_security_repr_hides_token() -> None:
    assert TOKEN not in repr(ReviewSecurity(token=TOKEN))
    with pytest.raises(ValueError):
        ReviewSecurity(token="short")


# -- CSRF -----------------------------------------------------------------------------------------


def test_post_needs_same_origin_and_csrf_token(world: World, browser: TestClient) -> None:
    aid = add_analysis(world.corpus, world.videos[0], BASE)
    url = f"/review/clip/{aid}/skip"
    csrf = csrf_of(browser.get(f"/review/clip/{aid}").text)
    assert browser.post(url, data={"csrf_token": csrf}).status_code == 403  # no Origin, no Referer
    assert browser.post(url, data={"csrf_token": csrf}, headers={"Origin": "http://evil.example"}).status_code == 403
    assert browser.post(url, data={"csrf_token": csrf}, headers={"Origin": "null"}).status_code == 403
    assert browser.post(url, data={}, headers={"Origin": ORIGIN}).status_code == 403
    assert browser.post(url, data={"csrf_token": "x" * 32}, headers={"Origin": ORIGIN}).status_code == 403
    assert world.corpus.status()["reviews"] == 0
    ok = browser.post(url, data={"csrf_token": csrf}, headers={"Referer": f"{ORIGIN}/review/"}, follow_redirects=False)
    assert ok.status_code == 303
    assert world.corpus.status()["reviews"] == 1


def test_csrf_token_is_per_session(world: World, browser: TestClient) -> None:
    aid = add_analysis(world.corpus, world.videos[0], BASE)
    mine = csrf_of(browser.get("/review/").text)
    with TestClient(world.app) as other:
        other.get(f"/review/?token={TOKEN}")
        theirs = csrf_of(other.get("/review/").text)
        assert theirs != mine
        refused = other.post(f"/review/clip/{aid}/skip", data={"csrf_token": mine}, headers={"Origin": ORIGIN})
        assert refused.status_code == 403


# -- escaping -------------------------------------------------------------------------------------


def test_model_output_is_escaped_everywhere(world: World, browser: TestClient) -> None:
    add_correction(world.corpus, 0, world.videos[0], record={**RECORD, "summary": f"Ägaren {XSS}"})
    record = {**RECORD, "mechanism": '"><img src=x onerror=alert(1)>', "audience": XSS}
    aid = add_analysis(world.corpus, world.videos[0], BASE, narrative=f"Före {XSS} efter", record=record)
    add_analysis(world.corpus, world.videos[0], TUNED, narrative=XSS)
    pages = [browser.get(f"/review/clip/{aid}").text, browser.get("/review/ab").text]
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html
        assert "</script><script>" not in html
    clip = pages[0]
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in clip  # inside an attribute value
    # the JSON data island cannot be closed early by model text
    island = clip.split('id="clip-data">')[1].split("</script>")[0]
    assert "<" not in island and json.loads(island)["model"]["narrative"] == f"Före {XSS} efter"


def test_error_pages_escape_messages(world: World, browser: TestClient) -> None:
    aid = add_analysis(world.corpus, world.videos[0], BASE)
    response = _post(browser, f"/review/clip/{aid}/save", {"narrative": "ok", "niche": XSS})
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "<script>alert" not in response.text and "invalid niche" in response.text  # type: ignore[attr-defined]


# -- pages and actions ----------------------------------------------------------------------------


def test_queue_page_lists_and_filters(world: World, browser: TestClient) -> None:
    add_correction(world.corpus, 0, world.videos[0], niche="restaurant", record=RECORD)
    a0 = add_analysis(world.corpus, world.videos[0], TUNED, record={**RECORD, "quality": "weak"})
    a1 = add_analysis(world.corpus, world.videos[1], TUNED)
    base = add_analysis(world.corpus, world.videos[0], BASE, record=RECORD)
    html = browser.get("/review/").text
    assert a0 in html and a1 in html and "disagreement" in html
    # one row per clip, with its poster, source, niche and the models' outputs inside
    assert html.count('<tr class="item"') == 2
    row = html.split('<tr class="item"')[1].split("</tr>")[0]
    assert f'src="/review/poster/{world.videos[0].sha256}"' in row and "niche restaurant" in row
    assert "c0" in row and "tiktok.com/@krogen/video/" in row
    # base-model outputs (from eval) are hidden until asked for
    assert base not in html and "(1 hidden)" in html
    shown = browser.get("/review/?base=1").text
    assert base in shown and shown.count('<tr class="item"') == 2
    assert 'name="f_base" value="1"' in shown
    only = browser.get("/review/?niche=restaurant").text
    assert a0 in only and a1 not in only
    assert a1 in browser.get("/review/?reason=new").text and a0 not in browser.get("/review/?reason=new").text
    assert browser.get("/review/?page=0").status_code == 422
    assert "Nothing waiting" in browser.get("/review/?model=nobody").text


def test_clip_page_shows_video_model_output_and_previous(world: World, browser: TestClient) -> None:
    add_correction(world.corpus, 0, world.videos[0], niche="restaurant", record=RECORD)
    aid = add_analysis(world.corpus, world.videos[0], TUNED, narrative="Modellens berättelse.", record=RECORD)
    html = browser.get(f"/review/clip/{aid}").text
    assert f'src="/review/video/{world.videos[0].sha256}"' in html
    assert "Modellens berättelse." in html and "Ägarens läsning av klipp 0" in html
    assert 'value="restaurant"' in html and "models/42@1" in html
    assert '<option value="good" selected>' in html  # the enum is a select, prefilled
    assert browser.get("/review/clip/an-doesnotexist").status_code == 404
    assert browser.get("/review/clip/bad%20id!").status_code == 422


def test_save_flow_stores_correction_and_moves_on(world: World, browser: TestClient) -> None:
    a0 = add_analysis(world.corpus, world.videos[0], TUNED, record=RECORD, minutes_ago=2)
    a1 = add_analysis(world.corpus, world.videos[1], TUNED, minutes_ago=1)
    add_analysis(world.corpus, world.videos[1], BASE, minutes_ago=0)  # hidden from the owner's path
    form = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in RECORD.items()}
    form.update(narrative="Ägarens rättelse.", category="clever", niche="Restaurant", verdict="fail")
    response = _post(browser, f"/review/clip/{a0}/save", form, page=f"/review/clip/{a0}")
    assert response.status_code == 303  # type: ignore[attr-defined]
    location = response.headers["location"]  # type: ignore[attr-defined]
    assert location.startswith(f"/review/clip/{a1}?flash=")
    saved = world.corpus.corrections(source="review")
    assert len(saved) == 1 and saved[0].human_said == "Ägarens rättelse." and saved[0].niche == "restaurant"
    assert saved[0].record is not None and saved[0].record.category.value == "clever"
    assert "1 field changed" not in browser.get(location).text and "2 fields changed" in browser.get(location).text


def test_invalid_record_is_refused_with_the_form_kept(world: World, browser: TestClient) -> None:
    aid = add_analysis(world.corpus, world.videos[0], BASE)
    response = _post(browser, f"/review/clip/{aid}/save", {"narrative": "Min text.", "summary": "Bara en."})
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "Min text." in response.text and "Bara en." in response.text  # type: ignore[attr-defined]
    bad_enum = dict(RECORD, narrative="n", category="sarcasm", replicable="true")
    response = _post(browser, f"/review/clip/{aid}/save", {k: str(v) for k, v in bad_enum.items()})
    assert response.status_code == 422 and "category" in response.text  # type: ignore[attr-defined]
    assert world.corpus.status()["corrections"] == 0


def test_accept_skip_niche_and_undo(world: World, browser: TestClient) -> None:
    add_correction(world.corpus, 0, world.videos[0])
    a0 = add_analysis(world.corpus, world.videos[0], BASE, narrative="Rätt.", record=RECORD)
    a1 = add_analysis(world.corpus, world.videos[1], BASE)
    tagged = _post(browser, f"/review/clip/{a0}/niche", {"niche": "service"}, page=f"/review/clip/{a0}")
    assert tagged.headers["location"].startswith(f"/review/clip/{a0}")  # type: ignore[attr-defined]
    assert world.corpus.correction("c0").niche == "service"  # type: ignore[union-attr]
    accepted = _post(browser, f"/review/clip/{a0}/accept", {"niche": "service"})
    assert accepted.status_code == 303  # type: ignore[attr-defined]
    assert [c.human_said for c in world.corpus.corrections(source="review")] == ["Rätt."]
    skipped = _post(browser, f"/review/clip/{a1}/skip", {})
    assert skipped.headers["location"].startswith("/review/?flash=")  # type: ignore[attr-defined]  # queue empty
    undone = _post(browser, "/review/undo", {})
    assert undone.headers["location"].startswith(f"/review/clip/{a1}")  # type: ignore[attr-defined]
    assert "Undid the last skip" in browser.get(undone.headers["location"]).text  # type: ignore[attr-defined]
    _post(browser, "/review/undo", {})
    assert world.corpus.corrections(source="review") == []
    lonely = add_analysis(world.corpus, world.videos[2], BASE)
    assert _post(browser, f"/review/clip/{lonely}/niche", {"niche": "x"}).status_code == 422  # type: ignore[attr-defined]


def test_ab_page_is_blind_and_records_choice(world: World, browser: TestClient) -> None:
    add_correction(world.corpus, 0, world.videos[0], record=RECORD)
    add_analysis(world.corpus, world.videos[0], BASE, narrative="Svar från bas.")
    add_analysis(world.corpus, world.videos[0], TUNED, narrative="Svar från tunad.")
    page = browser.get(f"/review/ab?model_a={BASE}&model_b={TUNED}").text
    body = page.split('id="side-a"')[1].split('id="ab-form"')[0]  # both answers, as shown
    assert "Svar från bas." in page and "Svar från tunad." in page
    assert BASE not in body and TUNED not in body and "models/42" not in body  # no model names by the answers
    token = page.split('name="token" value="')[1].split('"')[0]
    data = {"csrf_token": csrf_of(page), "token": token, "choice": "b", "model_a": BASE, "model_b": TUNED}
    chosen = browser.post("/review/ab", data=data, headers={"Origin": ORIGIN}, follow_redirects=False)
    assert chosen.status_code == 303 and "done=1" in chosen.headers["location"]
    label = world.corpus.db.query_one("SELECT * FROM owner_labels WHERE kind = 'pairwise'")
    assert label is not None and label["correction_id"] == "c0"
    payload = json.loads(label["payload_json"])
    assert payload["choice"] == "b" and payload["winner"] == payload["b_model"]
    assert "No clip left" in browser.get(chosen.headers["location"]).text
    forged = browser.post("/review/ab", data={**data, "token": token[:-2] + "00"}, headers={"Origin": ORIGIN})
    assert forged.status_code == 409
    assert browser.post("/review/ab", data={**data, "choice": "c"}, headers={"Origin": ORIGIN}).status_code == 422


def _ab_sides(page: str) -> list[str]:
    return [page.split(f'id="side-{s}"')[1].split("</article>")[0] for s in ("a", "b")]


def test_ab_sides_have_the_same_shape(world: World, browser: TestClient) -> None:
    """A record on one side only would give the answer away: then both sides show narratives only."""
    add_correction(world.corpus, 0, world.videos[0], record=RECORD)
    add_analysis(world.corpus, world.videos[0], BASE, narrative="Bas utan post.")
    add_analysis(world.corpus, world.videos[0], TUNED, narrative="Tunad med post.", record=RECORD)
    sides = _ab_sides(browser.get(f"/review/ab?model_a={BASE}&model_b={TUNED}").text)
    assert all('class="record"' not in side and "No structured record" not in side for side in sides)
    assert ("Bas utan post." in sides[0]) != ("Bas utan post." in sides[1])

    add_correction(world.corpus, 1, world.videos[1], record=RECORD)
    add_analysis(world.corpus, world.videos[1], BASE, narrative="Bas med post.", record=RECORD)
    add_analysis(world.corpus, world.videos[1], TUNED, narrative="Tunad med post.", record=RECORD)
    world.corpus.db.execute("DELETE FROM analyses WHERE video_sha256 = ?", (world.videos[0].sha256,))
    sides = _ab_sides(browser.get(f"/review/ab?model_a={BASE}&model_b={TUNED}").text)
    assert all(side.count("<dt>") == 7 for side in sides)  # both full records


def test_ab_page_without_pairs(browser: TestClient) -> None:
    assert "Two models must analyse the same clips" in browser.get("/review/ab").text


def test_static_files(browser: TestClient) -> None:
    js = browser.get("/review/static/app.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "http://" not in js.text and "https://" not in js.text  # nothing fetched from the internet
    assert browser.get("/review/static/app.css").headers["content-type"].startswith("text/css")
    assert browser.get("/review/static/..%2F..%2Fsecurity.py").status_code == 404
    assert browser.get("/review/static/router.py").status_code == 404


# -- video ----------------------------------------------------------------------------------------


def test_video_full_and_range_requests(world: World, browser: TestClient) -> None:
    video = world.videos[0]
    data = Path(world.storage.path(video.uri.rsplit("/storage/", 1)[1])).read_bytes()
    url = f"/review/video/{video.sha256}"
    full = browser.get(url)
    assert full.status_code == 200 and full.content == data
    assert full.headers["accept-ranges"] == "bytes" and full.headers["content-type"] == "video/mp4"
    assert full.headers["content-length"] == str(len(data))
    part = browser.get(url, headers={"Range": "bytes=100-1123"})
    assert part.status_code == 206 and part.content == data[100:1124]
    assert part.headers["content-range"] == f"bytes 100-1123/{len(data)}"
    tail = browser.get(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == data[-500:]
    rest = browser.get(url, headers={"Range": f"bytes={len(data) - 10}-"})
    assert rest.content == data[-10:] and rest.headers["content-length"] == "10"
    beyond = browser.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(data)}"
    assert browser.get(url, headers={"Range": "bytes=0-1,5-9"}).status_code == 200  # multi-range: whole file
    head = browser.head(url, headers={"Range": "bytes=0-99"})
    assert head.status_code == 206 and head.content == b"" and head.headers["content-length"] == "100"


def test_poster_is_made_once_on_first_request_for_old_clips(world: World, browser: TestClient) -> None:
    from humortune.sources.poster import poster_key

    video = world.videos[0]  # stored without a poster, as before posters existed
    key = poster_key(video.sha256)
    assert not world.storage.exists(key)
    first = browser.get(f"/review/poster/{video.sha256}")
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    assert first.content[:2] == b"\xff\xd8" and world.storage.read_bytes(key) == first.content
    made = world.storage.stat(key)
    again = browser.get(f"/review/poster/{video.sha256}", headers={"Range": "bytes=0-9"})
    assert again.status_code == 206 and again.content == first.content[:10]
    assert world.storage.stat(key) == made  # not made twice
    assert browser.get(f"/review/poster/{'0' * 64}").status_code == 404
    assert browser.get("/review/poster/..%2F..%2Fetc").status_code in (404, 422)


def test_video_cannot_escape_storage(world: World, browser: TestClient, tmp_path: Path) -> None:
    for url in ("/review/video/..%2F..%2Fetc%2Fpasswd", "/review/video/../../etc/passwd", "/review/video/ABC"):
        response = browser.get(url)
        assert response.status_code in (404, 422), url
        assert b"root:" not in response.content
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"secret bytes")
    for n, uri in enumerate(
        [outside.as_uri(), world.storage.root_uri + "/../secret.mp4", world.storage.root_uri + "/%2e%2e/secret.mp4"]
    ):
        sha = f"{n:064x}"
        world.corpus.add_video(world.videos[0].model_copy(update={"sha256": sha, "uri": uri}))
        response = browser.get(f"/review/video/{sha}")
        assert response.status_code == 404 and b"secret" not in response.content
    assert browser.get(f"/review/video/{'f' * 64}").status_code == 404  # unknown hash


# -- limits ---------------------------------------------------------------------------------------


def test_body_size_limits(world: World, browser: TestClient) -> None:
    aid = add_analysis(world.corpus, world.videos[0], BASE)
    csrf = csrf_of(browser.get("/review/").text)
    huge = browser.post(
        f"/review/clip/{aid}/save",
        data={"csrf_token": csrf, "narrative": "x" * 300_000},
        headers={"Origin": ORIGIN},
    )
    assert huge.status_code == 413

    def chunks() -> Iterator[bytes]:
        yield b"csrf_token=" + csrf.encode()
        yield b"&narrative=hej"

    chunked = browser.post(
        f"/review/clip/{aid}/save",
        content=chunks(),
        headers={"Origin": ORIGIN, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert chunked.status_code == 411
    long_text = _post(browser, f"/review/clip/{aid}/save", {"narrative": "a" * 20_001})
    assert long_text.status_code == 422  # type: ignore[attr-defined]
    assert world.corpus.status()["corrections"] == 0


# -- promotions -----------------------------------------------------------------------------------


def test_promotions_page_confirm_and_reject(world: World, browser: TestClient) -> None:
    from humortune.evaluator.registry import AliasRegistry

    for model in (BASE, TUNED, TUNED + "-b"):
        world.corpus.db.execute(
            "INSERT INTO models (id, base_model, created_at) VALUES (?, ?, '2026-01-01')", (model, BASE)
        )
    registry = AliasRegistry(world.corpus)
    registry.promote(BASE, evidence={"why": "first"})
    proposal = registry.record("propose", model_id=TUNED, previous_id=BASE, evidence={"summary": [f"win rate {XSS}"]})
    other = registry.record("propose", model_id=TUNED + "-b", previous_id=BASE, evidence={})
    page = browser.get("/review/promotions").text
    assert f"proposal-{proposal.id}" in page and f"proposal-{other.id}" in page
    assert "<script>alert" not in page and "win rate &lt;script&gt;" in page
    confirmed = _post(browser, f"/review/promotions/{proposal.id}/confirm", {}, page="/review/promotions")
    assert confirmed.status_code == 303  # type: ignore[attr-defined]
    assert registry.current() == TUNED
    after = browser.get(confirmed.headers["location"]).text  # type: ignore[attr-defined]
    assert "is now" in after and f"proposal-{proposal.id}" not in after
    assert _post(browser, f"/review/promotions/{other.id}/reject", {}, page="/review/promotions").status_code == 303  # type: ignore[attr-defined]
    assert registry.current() == TUNED and "No promotion waiting" in browser.get("/review/promotions").text
    again = _post(browser, f"/review/promotions/{other.id}/confirm", {}, page="/review/promotions")
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert _post(browser, f"/review/promotions/{other.id}/maybe", {}, page="/review/promotions").status_code == 404  # type: ignore[attr-defined]


# -- CLI ------------------------------------------------------------------------------------------


def test_cli_review_binds_loopback_and_prints_the_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from humortune.cli import main

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    assert main(["-w", str(tmp_path / "ws"), "review", "--port", "0", "--offline"]) == 0
    out, err = capsys.readouterr()
    (call,) = calls
    assert call["host"] == "127.0.0.1" and call["access_log"] is False and isinstance(call["port"], int)
    app = call["app"]
    assert isinstance(app, FastAPI)
    token = app.state.review.security.token
    assert f"http://127.0.0.1:{call['port']}/review/?token={token}" in out.replace("\n", "")
    assert "warning" not in err
    assert app.state.review.security.allowed_hosts == loopback_hosts()
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/review/").status_code == 401
        assert client.get(f"/review/?token={token}").status_code == 200
        assert client.get("/healthz").status_code == 200  # the serve app's routes are there too
        assert (
            client.get("/v1/analyses/an-0000000000000000", headers={"Authorization": f"Bearer {token}"}).status_code
            == 404
        )


def test_cli_review_warns_when_exposed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from humortune.cli import main

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    assert main(["-w", str(tmp_path / "ws"), "review", "--host", "0.0.0.0", "--port", "9999"]) == 0
    out, err = capsys.readouterr()
    assert "reachable from the network" in err and "http://127.0.0.1:9999/review/?token=" in out
