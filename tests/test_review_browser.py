"""End to end in a real browser: Debian's Chromium driven by Playwright against the review app on loopback.

The owner's path: open the URL with the token, open a clip from the queue with the keyboard, watch the
video play, correct two record fields and the narrative with the keyboard, save, then make a blind A/B
choice. The corpus must hold the correction and the choice, and the browser must log no errors.

Screenshots of each page are taken every run; with ``DOCS_SCREENSHOTS=1`` they are also copied
to ``docs/img/`` for the "Reviewing and retraining" page.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from humortune.feedback import ReviewSecurity, create_review_app
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.workspace import Corpus
from tests._feedback_support import RECORD, add_analysis, add_correction, make_clips, store_clip

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BASE = "gemini-2.5-flash"
TUNED = "projects/humortune-demo/locations/us-central1/models/4242@1"
DOCS_IMG = Path(__file__).resolve().parent.parent / "docs" / "img"
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_review(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free loopback port in a thread; yield its base URL, stop it afterwards."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:  # uvicorn's own readiness flag (no fixed sleep)
        assert time.monotonic() < deadline, "the review app did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def served(settings: Settings, corpus: Corpus, tmp_path: Path) -> Iterator[tuple[str, str, Corpus]]:
    """The review app on 127.0.0.1:<free port> in a thread, over a corpus with two real clips."""

    storage = LocalStorage(settings.storage_uri)
    clips = [store_clip(corpus, storage, p, seconds=4.0) for p in make_clips(tmp_path / "clips", count=2, seconds=4.0)]
    add_correction(corpus, 0, clips[0], niche="restaurant", record=RECORD)
    add_correction(corpus, 1, clips[1], niche="service")
    narrative = (
        "En servitör balanserar fem tallrikar, snubblar på tröskeln och räddar allt med en piruett."
        " Publiken väntar på kraschen <script>alert('x')</script> som aldrig kommer."
    )
    add_analysis(
        corpus, clips[0], TUNED, narrative=narrative, record={**RECORD, "quality": "exceptional"}, minutes_ago=1
    )
    add_analysis(corpus, clips[0], BASE, narrative="Någon tappar nästan tallrikar.", record=RECORD, minutes_ago=2)
    add_analysis(corpus, clips[1], BASE, narrative="En kund klagar på kaffet.", minutes_ago=3)
    add_analysis(corpus, clips[1], TUNED, narrative="Baristan svarar med en perfekt latte-konst.", minutes_ago=4)

    _propose(corpus)

    security = ReviewSecurity()
    app = create_review_app(settings, corpus=corpus, storage=storage, security=security)
    with serve_review(app) as url:
        yield url, security.token, corpus


def _propose(corpus: Corpus) -> None:
    """A proposal with an evaluation behind it, in the shapes the evaluator and the retrain policy store."""
    from humortune.evaluator.registry import AliasRegistry

    for model in (BASE, TUNED):
        corpus.db.execute("INSERT INTO models (id, base_model, created_at) VALUES (?, ?, '2026-01-01')", (model, BASE))
    registry = AliasRegistry(corpus)
    registry.promote(BASE, evidence={"why": "first"})
    summary = {
        "comparison": {"n": 24, "wins": 15, "ties": 4, "losses": 5, "sign_test_p": 0.041,
                       "win_rate": {"estimate": 0.708, "low": 0.54, "high": 0.85}},
        "judges": {"pairwise": {"status": "calibrated", "calibration": {"agreement": 0.83, "n": 30}}},
    }  # fmt: skip
    corpus.db.execute(
        "INSERT INTO evaluations (id, model, incumbent, created_at, summary_json)"
        " VALUES ('ev-b', ?, ?, '2026-01-01', ?)",
        (TUNED, BASE, json.dumps(summary)),
    )
    checks = [
        {"name": "win_rate", "passed": True, "detail": "win rate 0.708 (95% CI 0.540–0.850) over 24 clips"},
        {"name": "judge", "passed": True, "detail": "pairwise judge agreement 0.83 on 30 labels"},
    ]
    registry.record(
        "propose",
        model_id=TUNED,
        previous_id=BASE,
        evidence={"evaluation_id": "ev-b", "gate": {"checks": checks}, "summary": [f"{TUNED} beats {BASE}"]},
    )


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (see scripts/test)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        try:
            yield pg
        finally:
            context.close()
            browser.close()


def _wait(page: Any, expression: str, timeout: float = 15.0) -> None:
    """Poll a JS expression (``wait_for_function`` would need 'unsafe-eval', which the app's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(50)


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    page.screenshot(path=str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("DOCS_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_IMG / name)


def _axe(page: Any, where: str) -> None:
    """Run axe-core (from npm, see package.json) on the page; fail on any serious or critical violation."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: npm ci (see scripts/test)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")  # DevTools evaluation: not subject to the CSP
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical") or v["id"] in ("landmark-unique", "page-has-heading-one")
    ]
    assert bad == [], f"accessibility violations on the {where} page: {bad}"


def test_review_in_a_real_browser(served: tuple[str, str, Corpus], page: Any, tmp_path: Path) -> None:
    url, token, corpus = served
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("dialog", lambda dialog: problems.append(f"a dialog opened: {dialog.message}"))

    # Without the token: refused.
    assert page.goto(f"{url}/review/").status == 401
    assert [p for p in problems if "401" not in p] == []
    problems.clear()  # that 401 was the point

    # First visit with the token: cookie set, token gone from the address bar.
    page.goto(f"{url}/review/?token={token}")
    assert page.url == f"{url}/review/"
    assert page.locator("tr.item").count() == 2  # one row per clip; the base model's outputs are hidden
    _shot(page, tmp_path, "review-queue.png")
    _axe(page, "queue")

    # ? lists the shortcuts.
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    _shot(page, tmp_path, "review-shortcuts.png")
    _axe(page, "help")
    page.keyboard.press("?")
    assert not page.locator("#help").is_visible()

    # j/Enter open a clip; the first row is the disagreement on clip 0 (tuned model says "exceptional").
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/review/clip/**")
    assert "<script>" in page.inner_text("#model-narrative")  # shown as text, never run
    analysis_id = page.url.split("/clip/")[1].split("?")[0]

    # The video really plays: currentTime advances (autoplay, or k if the browser refused it).
    _wait(page, "document.getElementById('player').readyState >= 2")
    if page.evaluate("document.getElementById('player').paused"):
        page.keyboard.press("k")
    _wait(page, "document.getElementById('player').currentTime > 0.8")
    start = page.evaluate("document.getElementById('player').currentTime")
    page.wait_for_timeout(600)
    assert page.evaluate("document.getElementById('player').currentTime") > start

    # Edit with the keyboard: 2 = mechanism, 6 = quality (a select: arrow keys), e = narrative.
    page.keyboard.press("2")
    assert page.evaluate("document.activeElement.id") == "f-mechanism"
    page.keyboard.press("Control+a")
    page.keyboard.type("en väntad krasch som vänds till elegant triumf")
    page.keyboard.press("Escape")
    page.keyboard.press("6")
    assert page.evaluate("document.activeElement.id") == "f-quality"
    assert page.input_value("#f-quality") == "exceptional"
    page.keyboard.press("ArrowUp")
    assert page.input_value("#f-quality") == "good"
    page.keyboard.press("Escape")
    page.keyboard.press("e")
    page.keyboard.press("Control+End")
    page.keyboard.type(" Ägaren: det är ett medvetet skämt.")
    assert page.locator("label.changed").count() == 3  # narrative, mechanism, quality marked as changed
    page.evaluate("document.getElementById('player').pause()")
    _shot(page, tmp_path, "review-clip.png")
    _axe(page, "clip")

    # Browser-side validation: a partly cleared record is refused before anything is sent.
    page.keyboard.press("Escape")
    page.keyboard.press("4")
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.press("Control+Enter")
    assert page.locator("#client-error").is_visible()
    assert "audience" in page.inner_text("#client-error")
    assert corpus.status()["reviews"] == 0
    page.keyboard.type(RECORD["audience"])

    # Save with Ctrl+Enter: the next clip opens and the corpus holds the new correction.
    page.keyboard.press("Control+Enter")
    page.wait_for_url(lambda u: "/clip/" in u and analysis_id not in u)
    assert "Saved correction" in page.inner_text("#flash")
    saved = corpus.corrections(source="review")
    assert len(saved) == 1
    correction = saved[0]
    assert correction.human_said.endswith("Ägaren: det är ett medvetet skämt.")
    assert correction.record is not None
    assert correction.record.mechanism == "en väntad krasch som vänds till elegant triumf"
    assert correction.record.quality.value == "good" and correction.niche == "restaurant"
    review = corpus.db.query_one("SELECT * FROM reviews WHERE correction_id = ?", (correction.id,))
    assert review is not None and review["analysis_id"] == analysis_id and review["model"] == TUNED
    assert json.loads(review["diff_json"])["changed"] == ["narrative", "record.mechanism", "record.quality"]

    # Blind A/B: b opens it; 1 picks answer A; the choice is stored as a pairwise owner label.
    page.keyboard.press("b")
    page.wait_for_url(f"{url}/review/ab**")
    assert page.locator("#side-a").is_visible() and page.locator("#side-b").is_visible()
    assert TUNED not in page.inner_text("#side-a") + page.inner_text("#side-b")
    _wait(page, "document.getElementById('player').readyState >= 2")
    page.evaluate("document.getElementById('player').pause()")
    _shot(page, tmp_path, "review-ab.png")
    _axe(page, "A/B")
    page.keyboard.press("1")
    page.wait_for_url("**done=1**")
    labels = corpus.db.query("SELECT payload_json FROM owner_labels WHERE kind = 'pairwise'")
    assert len(labels) == 1
    payload = json.loads(labels[0][0])
    assert payload["choice"] == "a" and payload["winner"] == payload["a_model"]
    assert {payload["a_model"], payload["b_model"]} == {BASE, TUNED}

    # Promotions: the evaluator's figures; Add clips: the form.
    page.goto(f"{url}/review/promotions")
    assert "0.708" in page.inner_text(".win-rate") and "24 held-out clips" in page.inner_text(".sample")
    _shot(page, tmp_path, "review-promotions.png")
    _axe(page, "promotions")
    page.goto(f"{url}/review/add")
    assert page.locator("#f-links").is_visible()
    _axe(page, "add clips")

    assert problems == []
