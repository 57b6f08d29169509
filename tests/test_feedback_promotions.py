"""The promotions page shows the evaluator's own figures for a proposal: win rate, CI, sample, judge, report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from humortune.feedback import ReviewSecurity, create_review_app
from humortune.feedback.promotions import pending_proposals
from humortune.feedback.retrain import Retrainer, RetrainPolicy
from humortune.feedback.security import loopback_hosts
from humortune.settings import Settings
from humortune.workspace import Corpus
from tests.test_feedback_retrain import lenient, offline, ws  # noqa: F401  (fixtures)

TOKEN = "t0ken-for-the-promotion-tests-0123456789"


@pytest.fixture
def proposed(ws: Corpus, offline: Settings) -> Corpus:  # noqa: F811
    outcome = Retrainer(ws, RetrainPolicy(min_new_corrections=5), settings=offline, evaluator=lenient(ws, offline))
    assert outcome.run(yes=True).status == "proposed"
    return ws


@pytest.fixture
def client(proposed: Corpus, offline: Settings) -> Iterator[TestClient]:  # noqa: F811
    security = ReviewSecurity(token=TOKEN, allowed_hosts=loopback_hosts() | {"testserver"})
    app = create_review_app(offline, corpus=proposed, security=security, standalone=True)
    with TestClient(app) as c:
        assert c.get(f"/review/?token={TOKEN}", follow_redirects=False).status_code == 303
        yield c


def test_figures_are_the_evaluators_numbers(proposed: Corpus) -> None:
    (proposal,) = pending_proposals(proposed)
    row = proposed.db.query_one("SELECT summary_json, report_path FROM evaluations")
    assert row is not None
    stored = json.loads(row["summary_json"])["comparison"]
    figures = proposal.figures
    assert figures.n == stored["n"] and figures.n is not None and figures.n > 0
    assert (figures.wins, figures.ties, figures.losses) == (stored["wins"], stored["ties"], stored["losses"])
    assert (figures.win_rate, figures.ci_low, figures.ci_high) == tuple(
        stored["win_rate"][k] for k in ("estimate", "low", "high")
    )
    assert figures.report_path == row["report_path"] and figures.evaluation_id is not None
    assert [c.name for c in figures.checks][:1] == ["win_rate"]


def test_page_shows_win_rate_ci_sample_judge_and_report(client: TestClient, proposed: Corpus) -> None:
    (proposal,) = pending_proposals(proposed)
    f = proposal.figures
    assert f.win_rate is not None and f.ci_low is not None and f.ci_high is not None
    page = client.get("/review/promotions").text
    assert f"{f.win_rate:.3f}" in page and f"95% CI {f.ci_low:.3f}–{f.ci_high:.3f}" in page
    assert f"{f.n} held-out clip" in page and f"{f.wins}W / {f.ties}T / {f.losses}L" in page
    assert "no judge used" in page  # the lenient evaluator runs without judges
    assert "Promotion gate" in page and "win_rate" in page
    report = client.get(f"/review/reports/{f.evaluation_id}")
    assert report.status_code == 200 and report.text == Path(str(f.report_path)).read_text(encoding="utf-8")
    assert "sandbox" in report.headers["content-security-policy"]
    assert client.get("/review/reports/nope").status_code == 404
    assert client.get("/review/reports/..%2F..%2Fetc").status_code == 404


def test_judge_calibration_is_shown(client: TestClient, proposed: Corpus) -> None:
    row = proposed.db.query_one("SELECT id, summary_json FROM evaluations")
    assert row is not None
    summary = json.loads(row["summary_json"])
    summary["judges"] = {
        "pairwise": {"status": "calibrated", "calibration": {"agreement": 0.85, "n": 24}},
        "pass_fail": {"status": "not calibrated: no owner labels checked yet", "calibration": None},
    }
    proposed.db.execute("UPDATE evaluations SET summary_json = ? WHERE id = ?", (json.dumps(summary), row["id"]))
    page = client.get("/review/promotions").text
    assert "pairwise: calibrated (agreement 0.85 on 24 of your labels)" in page
    assert "pass_fail: not calibrated: no owner labels checked yet" in page
