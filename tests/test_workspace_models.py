"""ModelStore and AliasStore against a real workspace file, and parity with today's registries."""

from __future__ import annotations

import pytest

from humortune.errors import CorpusError
from humortune.evaluator.registry import AliasRegistry
from humortune.tuner.registry import ModelRegistry
from humortune.workspace import Corpus
from humortune.workspace.stores import AliasStore, ModelStore
from tests._workspace_support import tuned


def test_register_then_get_round_trips_every_field(corpus: Corpus) -> None:
    store = ModelStore(corpus.db)
    model = tuned(1, niche="gym", checkpoints=[{"step": 10, "endpoint": "e"}], stats={"loss": 0.5})
    store.register(model)
    assert store.get(model.id) == model
    assert store.exists(model.id) and not store.exists("nope")


def test_register_again_refreshes_endpoint_and_stats_but_keeps_the_rest(corpus: Corpus) -> None:
    store = ModelStore(corpus.db)
    first = tuned(1)
    store.register(first)
    store.register(first.model_copy(update={"endpoint": "e2", "stats": {"x": 1}, "prompt_version": "p-other"}))
    again = store.get(first.id)
    assert again is not None
    assert (again.endpoint, again.stats, again.prompt_version) == ("e2", {"x": 1}, first.prompt_version)
    assert again.created_at == first.created_at


def test_find_by_id_endpoint_or_job_and_by_fragment(corpus: Corpus) -> None:
    store = ModelStore(corpus.db)
    a, b = tuned(11), tuned(12)
    store.register(a)
    store.register(b)
    assert store.find(a.endpoint or "") == a
    assert store.find(b.id) == b
    assert store.find("models/1") is None  # find is exact; fragments go through matching
    assert [m.id for m in store.matching("models/1")] == [a.id, b.id]
    assert [m.id for m in store.matching("11@")] == [a.id]
    assert store.matching("%") == []  # LIKE wildcards are taken literally


def test_all_and_latest_for_niche_order_newest_first(corpus: Corpus) -> None:
    store = ModelStore(corpus.db)
    old, new = tuned(1, niche="gym"), tuned(2, niche="gym")
    store.register(old)
    store.register(new.model_copy(update={"created_at": old.created_at.replace(year=old.created_at.year + 1)}))
    store.register(tuned(3, niche="food"))
    assert store.latest_for_niche("gym") is not None
    assert store.latest_for_niche("gym").id == new.id  # type: ignore[union-attr]
    assert store.latest_for_niche("cars") is None
    assert store.all()[0].id == new.id


def test_ensure_registers_a_base_model_once(corpus: Corpus) -> None:
    store = ModelStore(corpus.db)
    assert store.ensure("gemini-2.5-flash", base_model="gemini-2.5-flash") is True
    assert store.ensure("gemini-2.5-flash", base_model="other") is False
    got = store.get("gemini-2.5-flash")
    assert got is not None and got.base_model == "gemini-2.5-flash" and got.endpoint is None


def test_store_reads_what_the_tuner_registry_wrote(corpus: Corpus) -> None:
    registry = ModelRegistry(corpus)
    registry.register(tuned(5, checkpoints=[{"step": 1}]))
    assert ModelStore(corpus.db).all() == registry.models()


def test_aliases_move_and_history_is_newest_first(corpus: Corpus) -> None:
    models, aliases = ModelStore(corpus.db), AliasStore(corpus.db)
    a, b = tuned(1), tuned(2)
    models.register(a)
    models.register(b)
    assert aliases.target("current") is None
    aliases.move("current", a.id)
    first = aliases.record("promote", name="current", model_id=a.id, previous_id=None, evidence={"win": 0.7})
    aliases.move("current", b.id)
    second = aliases.record("promote", name="current", model_id=b.id, previous_id=a.id)
    assert aliases.target("current") == b.id
    assert aliases.targets() == {"current": b.id}
    assert [e.id for e in aliases.history()] == [second.id, first.id]
    assert aliases.history("current", limit=1) == [second]
    assert aliases.history("niche:gym") == []
    assert first.evidence == {"win": 0.7}


def test_an_alias_must_point_at_a_registered_model(corpus: Corpus) -> None:
    with pytest.raises(CorpusError):
        AliasStore(corpus.db).move("current", "never-registered")


def test_last_decision_by_action_and_model(corpus: Corpus) -> None:
    aliases = AliasStore(corpus.db)
    p = aliases.record("propose", name="current", model_id="m2", previous_id="m1")
    aliases.record("refuse", name="current", model_id="m2", previous_id="m1", evidence={"proposal": p.id})
    aliases.record("propose", name="current", model_id=None, previous_id=None)
    last = aliases.last("current", actions=["propose"])
    assert last is not None and last.id == p.id  # the one naming no model is skipped
    refused = aliases.last("current", actions=["propose", "refuse", "promote"], model_id="m2")
    assert refused is not None and refused.action == "refuse"
    assert aliases.last("current", actions=["promote"], model_id="m2") is None
    assert aliases.last("current", actions=[]) is None


def test_proposals_and_the_ones_answered(corpus: Corpus) -> None:
    aliases = AliasStore(corpus.db)
    p1 = aliases.record("propose", name="current", model_id="m2", previous_id="m1")
    p2 = aliases.record("propose", name="current", model_id="m3", previous_id="m1")
    aliases.record("refuse", name="current", model_id="m2", previous_id="m1", evidence={"proposal": p1.id})
    aliases.record("promote", name="current", model_id="m9", previous_id="m1", evidence={"proposal": "x"})
    assert [p.id for p in aliases.proposals()] == [p2.id, p1.id]
    assert aliases.answered_proposals() == {p1.id}


def test_store_history_matches_the_alias_registry(corpus: Corpus) -> None:
    registry = AliasRegistry(corpus)
    ModelStore(corpus.db).register(tuned(1))
    registry.promote(tuned(1).id, evidence={"gate": "pass"}, replacing="gemini-2.5-flash")
    ours = AliasStore(corpus.db).history()
    theirs = registry.history()
    assert [(e.id, e.action, e.model_id, e.previous_id, e.evidence) for e in ours] == [
        (e.id, e.action, e.model_id, e.previous_id, e.evidence) for e in theirs
    ]
    assert AliasStore(corpus.db).target("current") == registry.current()


def test_latest_tuned_skips_bare_base_models(corpus: Corpus) -> None:
    from datetime import timedelta

    from humortune.workspace.stores import JobRecord, JobStore

    models = ModelStore(corpus.db)
    assert models.latest_tuned() is None
    jobs = [f"projects/p/locations/europe-west4/tuningJobs/{n}" for n in (1, 2)]
    for n, name in enumerate(jobs):
        JobStore(corpus.db).record(
            JobRecord(name=name, base_model="gemini-2.5-flash", request_hash=f"h{n}", state="JOB_STATE_SUCCEEDED")
        )
    first = tuned(1, job_name=jobs[0])
    models.register(first)
    models.register(tuned(2, job_name=jobs[1], created_at=first.created_at - timedelta(days=1)))
    models.ensure("gemini-2.5-pro", base_model="gemini-2.5-pro")  # newest, but no tuning job
    latest = models.latest_tuned()
    assert latest is not None and latest.id == first.id
