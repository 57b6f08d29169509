"""Reports: the HTML shows exactly the JSON's numbers, is self-contained, escapes text, and opens in Chromium."""

from __future__ import annotations

import json
import math
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from humortune.cli._render import print_summary
from humortune.evaluator.report import json_pointer, load_report, render_html, write_report
from humortune.evaluator.results import EvaluationReport
from humortune.settings import Settings
from humortune.workspace import Corpus
from tests._evaluator_support import BASE, TUNED, build, evaluator

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class _Numbers(HTMLParser):
    """Collects every ``<span class="num" data-key=…>`` and the tags/attributes that could load something."""

    def __init__(self) -> None:
        super().__init__()
        self.numbers: list[tuple[str, str | None, bool, str]] = []
        self.loads: list[str] = []
        self.scripts = 0
        self._open: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href"):
            if a.get(name):
                self.loads.append(f"{tag} {name}={a[name]}")
        if tag == "span" and a.get("class") == "num":
            self._open = {"key": a["data-key"], "digits": a.get("data-digits"), "null": a.get("data-null") == "true"}

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            o = self._open
            self.numbers.append((o["key"], o["digits"], o["null"], data))
            self._open = None


def _resolve(data: Any, pointer: str) -> Any:
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


@pytest.fixture
def compared(corpus: Corpus, settings: Settings) -> EvaluationReport:
    build(corpus, 40)
    # A niche name with markup and a slash: it must be escaped in HTML and in the JSON pointers.
    corpus.db.execute(
        "UPDATE corrections SET niche = '<b>mat/dryck</b>' WHERE id IN (SELECT id FROM corrections LIMIT 12)"
    )
    return evaluator(corpus, settings).compare(TUNED, BASE)


def test_every_number_in_the_html_equals_the_json(compared: EvaluationReport) -> None:
    assert compared.report_path is not None
    html = Path(compared.report_path).read_text("utf-8")
    data = json.loads((Path(compared.report_path).parent / "report.json").read_text("utf-8"))
    parser = _Numbers()
    parser.feed(html)
    assert len(parser.numbers) > 400  # systems, comparison, slices, records, confusion matrices, every clip
    keys = {key for key, *_ in parser.numbers}
    for needed in (
        "/comparison/win_rate/low",
        "/comparison/sign_test_p",
        "/systems/2/chrf",
        "/clips/39/answers/candidate/score",
    ):
        assert needed in keys
    assert any(k.startswith("/slices/niche/<b>mat~1dryck<~1b>/") for k in keys)
    for key, digits, null, text in parser.numbers:
        value = _resolve(data, key)
        if null:
            assert value is None, key
            continue
        shown = float(text)
        tolerance = 0.5 * 10 ** -int(digits or 0) + 1e-9
        assert abs(shown - value) <= tolerance, (key, text, value)
    # The JSON itself agrees with the report object it came from.
    assert data["comparison"]["wins"] == compared.comparison.wins  # type: ignore[union-attr]
    assert data["gate"]["allowed"] is False and "allowed" in html and 'data-allowed="false"' in html


def test_html_is_self_contained_and_escapes_text(compared: EvaluationReport) -> None:
    html = Path(compared.report_path or "").read_text("utf-8")
    parser = _Numbers()
    parser.feed(html)
    assert parser.scripts == 0 and parser.loads == []  # no scripts, nothing fetched
    assert "<b>mat/dryck</b>" not in html and "&lt;b&gt;mat/dryck&lt;/b&gt;" in html
    assert html.count("<svg") >= 4  # distribution, win rate, two slice charts


def test_report_rerenders_from_json_and_prints_a_summary(compared: EvaluationReport, tmp_path: Path) -> None:
    data = load_report(compared.report_path or "")
    assert data["id"] == compared.id
    out = write_report(data, tmp_path / "again")
    assert out.read_text("utf-8") == render_html(json.loads((tmp_path / "again" / "report.json").read_text("utf-8")))
    console = Console(record=True, width=200)
    print_summary(data, console)
    text = console.export_text()
    assert "win rate" in text and "promotion refused" in text and compared.id in text


def test_nan_never_reaches_the_json(tmp_path: Path) -> None:
    data = {"value": math.nan, "nested": [1.0, {"x": math.nan}]}
    from humortune.evaluator.report import _clean

    assert _clean(data) == {"value": None, "nested": [1.0, {"x": None}]}
    assert json_pointer("slices", "a/b", "c~d", 3) == "/slices/a~1b/c~0d/3"


@pytest.mark.browser
def test_report_opens_in_headless_chromium_without_errors(compared: EvaluationReport, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert compared.report_path is not None
    messages: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on(
                "console", lambda m: messages.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None
            )
            page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
            page.on("requestfailed", lambda r: messages.append(f"requestfailed: {r.url}"))
            page.goto(Path(compared.report_path).as_uri())
            assert page.title().startswith("Comparison:")
            assert page.locator("#gate .verdict").inner_text().startswith("promotion refused")
            assert page.locator("svg").count() >= 4 and page.locator("table.clips tr[data-clip]").count() == 40
            shot = tmp_path / "evaluation-report.png"
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert messages == []
    assert shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("DOCS_SCREENSHOTS") == "1":  # refresh the docs' screenshot from this very run
        (REPO / "docs" / "img").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, REPO / "docs" / "img" / "evaluation-report.png")
