"""The retrain policy and per-niche models, end to end offline (FakeGemini tunes, the evaluator compares)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from humortune.cli import main
from humortune.evaluator import Evaluator, GatePolicy
from humortune.feedback.niches import NicheRouter, niche_counts, niche_report, train_niches
from humortune.feedback.promotions import decide_proposal, pending_proposals
from humortune.feedback.retrain import Retrainer, RetrainPolicy, leaked_examples
from humortune.settings import Settings
from humortune.workspace import Corpus
from humortune.workspace.db import Database
from tests.conftest import SAMPLE_BATTERY


@pytest.fixture
def offline(tmp_path: Path) -> Settings:
    return Settings(workspace=tmp_path / "ws", offline=True)


@pytest.fixture
def ws(offline: Settings) -> Iterator[Corpus]:
    """The sample battery (12 corrections, two niches), ingested from its local clips."""
    from humortune.ingest import Ingestor

    with Corpus.open(settings=offline) as corpus:
        corpus.import_battery(SAMPLE_BATTERY)
        Ingestor(corpus, settings=offline).run()
        assert corpus.status()["corrections_without_video"] == 0
        yield corpus


def lenient(corpus: Corpus, settings: Settings) -> Callable[[Any], Evaluator]:
    """An evaluator whose gate lets any candidate through (reference metrics only, tiny test sets)."""
    policy = GatePolicy(min_win_rate_low=-1.0, min_slice_size=10_000)
    return lambda client: Evaluator(corpus, settings=settings, client=client, judges=False, policy=policy)


def count(corpus: Corpus, table: str) -> int:
    row = corpus.db.query_one(f"SELECT COUNT(*) FROM {table}")
    return int(row[0]) if row else 0


def touch(corpus: Corpus, n: int) -> None:
    """The owner changes ``n`` corrections (new text → new rows)."""
    for c in corpus.corrections()[:n]:
        corpus.add_correction(c.model_copy(update={"human_said": c.human_said + " Ägaren lade till en tanke."}))


# -- triggers -------------------------------------------------------------------------------------


def test_below_the_threshold_nothing_happens(ws: Corpus, offline: Settings) -> None:
    outcome = Retrainer(ws, RetrainPolicy(min_new_corrections=13), settings=offline).run(yes=True)
    assert outcome.status == "idle" and "12 new correction(s) (threshold 13)" in outcome.message
    assert count(ws, "dataset_versions") == 0 and count(ws, "tuning_jobs") == 0
    fired = Retrainer(ws, RetrainPolicy(min_new_corrections=12), settings=offline).triggers()
    assert fired.fired and fired.new_corrections == 12 and fired.since_dataset is None


def test_settings_configure_the_policy(offline: Settings) -> None:
    settings = offline.model_copy(
        update={"retrain_min_corrections": 7, "retrain_from": "base", "retrain_budget_usd": 3}
    )
    policy = RetrainPolicy.from_settings(settings, niche="restaurant")
    assert (policy.min_new_corrections, policy.start_from, policy.budget_usd) == (7, "base", 3)
    assert policy.alias == "niche:restaurant" and RetrainPolicy().alias == "current"


def test_drift_triggers_a_retrain(ws: Corpus, offline: Settings) -> None:
    model = "projects/p/locations/us-central1/models/7@1"
    ws.db.execute(
        "INSERT INTO models (id, base_model, created_at) VALUES (?, 'gemini-2.5-flash', '2026-01-01')", (model,)
    )
    ws.db.execute("INSERT INTO aliases (name, model_id, updated_at) VALUES ('current', ?, '2026-01-01')", (model,))
    for n, (when, score) in enumerate([("2026-01-01", 0.80), ("2026-02-01", 0.78), ("2026-03-01", 0.70)]):
        summary = {"systems": [{"model": model, "n": 10, "score": score}, {"model": "other", "n": 10, "score": 0.1}]}
        ws.db.execute(
            "INSERT INTO evaluations (id, model, created_at, summary_json) VALUES (?, ?, ?, ?)",
            (f"ev{n}", model, when, json.dumps(summary)),
        )
    retrainer = Retrainer(ws, RetrainPolicy(min_new_corrections=1000, drift=0.05), settings=offline)
    triggers = retrainer.triggers()
    assert triggers.drift == pytest.approx(0.10) and triggers.fired
    assert "drifted down by 0.100" in triggers.reasons[0]
    # measured from the evaluation recorded at promotion, when there is one
    ws.db.execute(
        "INSERT INTO alias_history (name, model_id, action, evidence_json, created_at)"
        " VALUES ('current', ?, 'promote', ?, '2026-01-01')",
        (model, json.dumps({"evaluation_id": "ev1"})),
    )
    assert retrainer.triggers().drift == pytest.approx(0.08)
    assert not Retrainer(ws, RetrainPolicy(min_new_corrections=1000, drift=0.09), settings=offline).triggers().fired


# -- the loop -------------------------------------------------------------------------------------


def test_proposes_then_reruns_idempotently_and_continues_from_the_promoted_model(ws: Corpus, offline: Settings) -> None:
    policy = RetrainPolicy(min_new_corrections=5)
    first = Retrainer(ws, policy, settings=offline, evaluator=lenient(ws, offline)).run(yes=True)
    assert first.status == "proposed", first.message
    assert first.start_model == offline.base_model and first.incumbent == offline.base_model
    assert first.model_id is not None and first.dataset_id is not None and first.evaluation_id is not None
    tables = ("dataset_versions", "tuning_jobs", "models", "alias_history", "evaluations")
    before = {t: count(ws, t) for t in tables}

    again = Retrainer(ws, policy, settings=offline, evaluator=lenient(ws, offline)).run(yes=True)
    assert again.status == "proposed" and "already proposed" in again.message
    assert (again.dataset_id, again.job_name, again.model_id) == (first.dataset_id, first.job_name, first.model_id)
    assert {t: count(ws, t) for t in tables} == before  # nothing built, submitted or recorded twice

    (proposal,) = pending_proposals(ws)
    assert proposal.model_id == first.model_id and proposal.alias == "current"
    assert any("trigger: 12 new" in line for line in proposal.summary)
    decide_proposal(ws, proposal.id, True)
    assert ws.db.query_one("SELECT model_id FROM aliases WHERE name = 'current'")[0] == first.model_id  # type: ignore[index]

    idle = Retrainer(ws, policy, settings=offline).run(yes=True)
    assert idle.status == "idle" and idle.triggers is not None and idle.triggers.new_corrections == 0
    touch(ws, 5)
    second = Retrainer(ws, policy, settings=offline, evaluator=lenient(ws, offline)).run(yes=True)
    assert second.status == "proposed", second.message
    assert second.start_model == first.model_id and second.incumbent == first.model_id  # continued tuning
    assert second.dataset_id != first.dataset_id and second.model_id != first.model_id
    job = ws.db.query_one("SELECT base_model FROM tuning_jobs WHERE name = ?", (second.job_name,))
    assert job is not None and job["base_model"] == first.model_id

    touch(ws, 5)
    from_base = Retrainer(ws, RetrainPolicy(min_new_corrections=5, start_from="base"), settings=offline).run(
        yes=True, dry_run=True
    )
    assert from_base.status == "dry_run" and from_base.start_model == offline.base_model


def test_gate_refusal_is_recorded_and_not_proposed(ws: Corpus, offline: Settings) -> None:
    outcome = Retrainer(ws, RetrainPolicy(min_new_corrections=5), settings=offline).run(yes=True)
    # the default gate: uncalibrated judges and a tiny test set cannot justify a promotion
    assert outcome.status == "refused" and "uncalibrated judge" in outcome.message
    row = ws.db.query_one("SELECT action, evidence_json FROM alias_history")
    assert row is not None and row["action"] == "refuse"
    assert json.loads(row["evidence_json"])["gate"]["allowed"] is False
    assert pending_proposals(ws) == []


def test_budget_refusal_submits_nothing(ws: Corpus, offline: Settings) -> None:
    outcome = Retrainer(ws, RetrainPolicy(min_new_corrections=5, budget_usd=0.001), settings=offline).run()
    assert outcome.status == "over_budget" and "above the budget of $0.00" in outcome.message
    assert outcome.estimate_usd is not None and outcome.estimate_usd[1] > 0.001
    assert count(ws, "tuning_jobs") == 0
    within = Retrainer(
        ws, RetrainPolicy(min_new_corrections=5, budget_usd=50), settings=offline, evaluator=lenient(ws, offline)
    ).run()  # no --yes: the budget is the owner's consent
    assert within.status == "proposed" and count(ws, "tuning_jobs") == 1


def test_cost_confirmation_without_budget(ws: Corpus, offline: Settings) -> None:
    settings = offline.model_copy(update={"confirm_cost_above_usd": 0.0})
    asked: list[str] = []

    def decline(message: str) -> bool:
        asked.append(message)
        return False

    declined = Retrainer(ws, RetrainPolicy(min_new_corrections=5), settings=settings).run(confirm=decline)
    assert declined.status == "over_budget" and asked and "Estimated training cost" in asked[0]
    assert count(ws, "tuning_jobs") == 0
    cron = Retrainer(ws, RetrainPolicy(min_new_corrections=5), settings=settings).run()  # no --yes, no prompt
    assert cron.status == "over_budget" and "--yes" in cron.message


def test_leakage_guard(ws: Corpus, offline: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    built = Retrainer(ws, RetrainPolicy(min_new_corrections=5, split=(0.5, 0.0, 0.5)), settings=offline).run(
        yes=True, dry_run=True
    )
    assert built.status == "dry_run" and built.dataset_id is not None
    assert leaked_examples(ws, built.dataset_id) == []
    held = ws.db.query_one(
        "SELECT e.correction_id, e.video_sha256, c.video_key FROM dataset_examples e JOIN corrections c"
        " ON c.id = e.correction_id WHERE e.dataset_id = ? AND e.split = 'test' LIMIT 1",
        (built.dataset_id,),
    )
    assert held is not None
    # A version that trains on a held-out video (as if reached through another URL): refused.
    ws.db.execute(
        "INSERT INTO dataset_versions (id, created_at, prompt_version, target_format, media_resolution,"
        " settings_json, manifest_json, storage_prefix)"
        " VALUES ('ds-leaky', '2026-01-01', 'p', 'narrative', 'LOW', '{}',"
        " '{}', 'file:///x')"
    )
    ws.db.execute(
        "INSERT INTO dataset_examples VALUES ('ds-leaky', 'other-url', ?, 'train', 'h')", (held["video_sha256"],)
    )
    (leak,) = leaked_examples(ws, "ds-leaky")
    assert leak.startswith("other-url (train)") and "held out" in leak
    # …unless the owner moved the clip out of the test split.
    ws.db.execute("UPDATE split_assignments SET split = 'train' WHERE video_key = ?", (held["video_key"],))
    assert leaked_examples(ws, "ds-leaky") == []
    ws.db.execute("UPDATE split_assignments SET split = 'test' WHERE video_key = ?", (held["video_key"],))

    monkeypatch.setattr("humortune.feedback.retrain.leaked_examples", lambda corpus, dataset_id: ["c1 (train): x"])
    refused = Retrainer(ws, RetrainPolicy(min_new_corrections=5), settings=offline).run(yes=True)
    assert refused.status == "leak" and refused.leaks == ["c1 (train): x"]
    assert count(ws, "tuning_jobs") == 0


def test_overlapping_runs_do_not_collide(ws: Corpus, offline: Settings) -> None:
    # another opener of the workspace holds the retrain lock, as a second process would (flock on SQLite, an
    # advisory lock on PostgreSQL)
    other = Database(offline.database_target)
    try:
        with other.exclusive("retrain") as held:
            assert held
            outcome = Retrainer(ws, RetrainPolicy(min_new_corrections=1), settings=offline).run(yes=True)
            assert outcome.status == "busy" and count(ws, "dataset_versions") == 0
    finally:
        other.close()


# -- CLI ------------------------------------------------------------------------------------------


def test_cli_retrain(ws: Corpus, offline: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["-w", str(offline.workspace), "retrain", "--offline"]
    assert main([*base, "--min-corrections", "50"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main([*base, "--budget", "0.001", "--force"]) == 2  # the owner must act: exit 2 for cron
    assert "over_budget" in capsys.readouterr().out
    assert main([*base, "--yes", "--min-corrections", "5", "--json"]) == 0
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["status"] == "refused" and outcome["model_id"].startswith("projects/")
    assert main([*base, "--from", "sideways"]) == 1


# -- niches ---------------------------------------------------------------------------------------


def test_router_falls_back_to_the_generalist(ws: Corpus) -> None:
    router = NicheRouter(ws)
    restaurant = next(c for c in ws.entries() if c.correction.niche == "restaurant")
    assert restaurant.video is not None
    sha = restaurant.video.sha256
    route = router.route(sha)
    assert (route.alias, route.niche, route.fallback, route.model_id) == ("current", "restaurant", True, None)
    ws.db.execute(
        "INSERT INTO models (id, base_model, created_at)"
        " VALUES ('m-gen', 'g', '2026-01-01'), ('m-rest', 'g', '2026-01-01')"
    )
    ws.db.execute(
        "INSERT INTO aliases VALUES ('current', 'm-gen', '2026-01-01'), ('niche:restaurant', 'm-rest', '2026-01-01')"
    )
    assert router.route(sha) == router.route(restaurant.video) == router.route(restaurant.video_key)
    assert router.route(sha).alias == "niche:restaurant" and router.route(sha).model_id == "m-rest"
    service = next(c for c in ws.entries() if c.correction.niche == "service")
    assert router.route(service.video_key).alias == "current" and router.route(service.video_key).fallback
    assert router.route("f" * 64) == router.route("f" * 64, niche=None)
    untagged = router.route("f" * 64)
    assert (untagged.alias, untagged.model_id, untagged.fallback) == ("current", "m-gen", False)
    assert router.route("f" * 64, niche="restaurant").alias == "niche:restaurant"


def test_niche_models_and_report(ws: Corpus, offline: Settings) -> None:
    assert niche_counts(ws) == {"restaurant": (4, 4), "service": (4, 4)}
    report = niche_report(ws, settings=offline)
    assert [(r.niche, r.eligible, r.verdict) for r in report] == [
        ("restaurant", False, "no model"),
        ("service", False, "no model"),
    ]
    assert train_niches(ws, settings=offline, yes=True) == {}  # below niche_min_corrections (50)

    outcomes = train_niches(
        ws, settings=offline, min_corrections=4, yes=True, evaluator=lenient(ws, offline), split=(0.5, 0.0, 0.5)
    )
    assert set(outcomes) == {"restaurant", "service"}
    for niche, outcome in outcomes.items():
        assert outcome.status == "proposed", outcome.message
        row = ws.db.query_one("SELECT niche, dataset_id FROM models WHERE id = ?", (outcome.model_id,))
        assert row is not None and row["niche"] == niche
        examples = ws.db.query("SELECT correction_id FROM dataset_examples WHERE dataset_id = ?", (row["dataset_id"],))
        assert {ws.correction(r[0]).niche for r in examples} == {niche}  # type: ignore[union-attr]
    proposal = next(p for p in pending_proposals(ws) if p.alias == "niche:restaurant")
    decide_proposal(ws, proposal.id, True)

    rows = {r.niche: r for r in niche_report(ws, settings=offline.model_copy(update={"niche_min_corrections": 4}))}
    assert rows["restaurant"].promoted == outcomes["restaurant"].model_id and rows["restaurant"].eligible
    assert rows["service"].promoted is None and rows["service"].candidate == outcomes["service"].model_id
    # no generalist was promoted: nothing to compare against yet
    assert rows["restaurant"].generalist is None and rows["restaurant"].verdict == "no generalist"
    restaurant_clip = next(c for c in ws.entries() if c.correction.niche == "restaurant")
    assert NicheRouter(ws).route(restaurant_clip.video_key).alias == "niche:restaurant"


def test_niche_report_compares_specialist_with_generalist(ws: Corpus, offline: Settings) -> None:
    general = Retrainer(
        ws,
        RetrainPolicy(min_new_corrections=5, split=(0.5, 0.0, 0.5)),
        settings=offline,
        evaluator=lenient(ws, offline),
    ).run(yes=True)
    decide_proposal(ws, pending_proposals(ws)[0].id, True)
    outcomes = train_niches(
        ws, settings=offline, min_corrections=4, only="service", yes=True, evaluator=lenient(ws, offline)
    )
    assert outcomes["service"].incumbent == general.model_id  # a niche candidate must beat the generalist
    rows = {r.niche: r for r in niche_report(ws, settings=offline)}
    service = rows["service"]
    assert service.generalist == general.model_id and service.candidate == outcomes["service"].model_id
    assert service.verdict in ("specialist better", "generalist better", "no clear difference")
    assert service.comparison["n"] >= 1 and "win_rate" in service.comparison
    assert rows["restaurant"].verdict == "no model"
