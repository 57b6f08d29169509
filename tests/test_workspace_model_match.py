"""`match_model` over the stores: the one model-name lookup, below every layer that names models."""

from __future__ import annotations

from datetime import timedelta

import pytest

from humortune.errors import ModelNotFoundError
from humortune.schema import utcnow
from humortune.tuner import registry as tuner_registry
from humortune.workspace import Corpus
from humortune.workspace.stores import AliasStore, JobRecord, JobStore, ModelStore
from humortune.workspace.stores.model_match import CURRENT, match_model, short_id
from tests._workspace_support import tuned


def job(corpus: Corpus, n: int) -> str:
    name = f"projects/p/locations/l/tuningJobs/{n}"
    JobStore(corpus.db).record(JobRecord(name=name, base_model="gemini-2.5-flash", request_hash=f"h{n}", state="S"))
    return name


def test_alias_then_id_endpoint_job_then_fragment(corpus: Corpus) -> None:
    models = ModelStore(corpus.db)
    first, second = tuned(1, job_name=job(corpus, 11)), tuned(12)
    models.register(first)
    models.register(second)
    AliasStore(corpus.db).move("prod", second.id)
    found = match_model(corpus.db, "prod")
    assert found is not None and found.model.id == second.id and found.alias == "prod"
    for ref in (first.id, first.endpoint, first.job_name):
        match = match_model(corpus.db, str(ref))
        assert match is not None and match.model.id == first.id and match.alias is None
    by_short = match_model(corpus.db, short_id(second.id))
    assert by_short is not None and by_short.model.id == second.id
    with pytest.raises(ModelNotFoundError, match="matches 2 models"):
        match_model(corpus.db, "1")  # a prefix of both short ids
    assert match_model(corpus.db, "nothing-like-it") is None


def test_current_before_a_promotion_is_the_newest_tuned_model_said_out_loud(corpus: Corpus) -> None:
    models, now = ModelStore(corpus.db), utcnow()
    models.register(tuned(1, job_name=job(corpus, 1), created_at=now - timedelta(days=1)))
    models.register(tuned(2, job_name=job(corpus, 2), created_at=now))
    models.ensure("gemini-3.5-flash", base_model="gemini-3.5-flash")  # a bare base model is never "current"
    found = match_model(corpus.db, CURRENT)
    assert found is not None and found.model.id == tuned(2).id and found.note and "newest tuned" in found.note


def test_the_tuner_registry_re_exports_the_same_lookup() -> None:
    assert tuner_registry.match_model is match_model and tuner_registry.short_id is short_id
