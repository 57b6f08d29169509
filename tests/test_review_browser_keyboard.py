"""The owner's pace, measured in a real browser: review 20 clips with the keyboard only (no mouse).

The common path per clip is: watch (the clip autoplays), fix one field (``6`` focuses the quality list,
``↑`` picks the value above), save (``Ctrl+Enter``, which also opens the next clip). Every keystroke goes
through Playwright's keyboard and is counted; the figures (keys and seconds per clip) are printed and kept in
the test report (``record_property``), and docs/reviewing.md quotes them.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from humortune.feedback import ReviewSecurity, create_review_app
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.workspace import Corpus
from tests._feedback_support import RECORD, add_analysis, add_correction, make_clips, store_clip
from tests.test_review_browser import TUNED, _wait, page, serve_review  # noqa: F401  (the page fixture)

pytestmark = pytest.mark.browser
CLIPS = 20


@pytest.fixture
def served20(settings: Settings, corpus: Corpus, tmp_path: Path) -> Iterator[tuple[str, str, Corpus]]:
    """The review app over 20 real clips, each with the owner's earlier correction and a tuned model's output."""

    storage = LocalStorage(settings.storage_uri)
    for n, path in enumerate(make_clips(tmp_path / "clips", count=CLIPS, seconds=2.0)):
        clip = store_clip(corpus, storage, path, seconds=2.0)
        add_correction(corpus, n, clip, niche="restaurant", record=RECORD)
        add_analysis(corpus, clip, TUNED, narrative=f"Klipp {n}: servitören snubblar.", record=RECORD, minutes_ago=n)
    security = ReviewSecurity()
    app = create_review_app(settings, corpus=corpus, storage=storage, security=security)
    with serve_review(app) as url:
        yield url, security.token, corpus


def test_review_20_clips_by_keyboard_only(
    served20: tuple[str, str, Corpus],
    page: Any,  # noqa: F811  (the fixture imported above)
    record_property: Callable[[str, object], None],
) -> None:
    url, token, corpus = served20
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    keys = 0

    def press(key: str) -> None:
        nonlocal keys
        keys += 1
        page.keyboard.press(key)

    page.goto(f"{url}/review/?token={token}")
    press("Enter")  # the first row is selected: open it
    per_clip: list[tuple[int, float]] = []
    for _ in range(CLIPS):
        page.wait_for_url(f"{url}/review/clip/**")
        start, before = time.monotonic(), keys
        # watch: the clip plays by itself (k would start it if the browser refused autoplay)
        _wait(page, "document.getElementById('player').readyState >= 2")
        if page.evaluate("document.getElementById('player').paused"):
            press("k")
        _wait(page, "document.getElementById('player').currentTime > 0.3")
        here = page.url
        press("6")  # fix one field: quality (a list) …
        assert page.evaluate("document.activeElement.id") == "f-quality"
        press("ArrowUp")  # … good → average
        press("Control+Enter")  # save; the next clip opens
        page.wait_for_url(lambda u, here=here: u != here)
        per_clip.append((keys - before, time.monotonic() - start))

    assert page.url.split("?")[0] == f"{url}/review/"  # the queue, now empty
    assert "Nothing waiting" in page.inner_text("main")
    saved = corpus.corrections(source="review")
    assert len(saved) == CLIPS and all(c.record is not None and c.record.quality.value == "average" for c in saved)
    assert problems == []

    keys_per_clip = [k for k, _ in per_clip]
    seconds = [s for _, s in per_clip]
    figures = {
        "clips": CLIPS,
        "keys_total": keys,
        "keys_per_clip": max(keys_per_clip),
        "seconds_per_clip_median": round(statistics.median(seconds), 2),
        "seconds_per_clip_max": round(max(seconds), 2),
    }
    record_property("keyboard_review", json.dumps(figures))
    print("keyboard-only review:", json.dumps(figures))
    assert max(keys_per_clip) <= 4  # watch, fix one field, save, next: a handful of keys (3 when autoplay works)
