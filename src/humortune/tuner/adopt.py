"""Adopt a tuned model or tuning job made outside humortune, so `eval` and `compare` can measure it.

```python
from humortune.tuner.adopt import adopt

model = adopt("projects/p/locations/us-central1/models/123@1", client=client, corpus=corpus)
model.stats["lineage"]   # "external"
```

What is registered is what Vertex reports about the job: base model, hyperparameters, dataset URIs,
checkpoints and token statistics. Adopting the same model again refreshes it and changes nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import humortune.catalog as catalog
from humortune.errors import TuningError, TuningJobNotFoundError
from humortune.schema import TunedModel
from humortune.tuner.registry import ModelRegistry

if TYPE_CHECKING:  # pragma: no cover
    from humortune._gemini_results import TuningJobInfo
    from humortune.gemini import GeminiClient
    from humortune.workspace import Corpus

__all__ = ["adopt", "find_job"]

EXTERNAL = "external"
"""``TunedModel.stats["lineage"]`` of an adopted model: humortune did not build its dataset."""


def _unversioned(model: str | None) -> str:
    return (model or "").split("@", 1)[0]


def find_job(name: str, client: GeminiClient) -> TuningJobInfo:
    """The tuning job behind ``name``: a job resource, a model resource (``…/models/ID@V``) or a display name."""
    if "/tuningJobs/" in name:
        return client.get_tuning_job(name)
    wanted = _unversioned(name)
    for info in client.list_tuning_jobs(limit=1000):
        if "/models/" in name and _unversioned(info.tuned_model) == wanted:
            return info
        if name in (info.display_name, info.name.rsplit("/", 1)[-1]):
            return info
    raise TuningJobNotFoundError(
        f"no tuning job in {client.project}/{client.location} made {name!r}",
        hint="pass the job name (projects/…/tuningJobs/…) from the Vertex console, and check HUMORTUNE_LOCATION",
        item=name,
    )


def adopt(name: str, *, client: GeminiClient, corpus: Corpus) -> TunedModel:
    """Register the tuned model behind ``name`` (model, job or display name) with lineage marked external."""
    info = find_job(name, client)
    if not info.succeeded or not info.tuned_model:
        raise TuningError(
            f"tuning job {info.name} has no model to adopt ({info.short_state})",
            hint="adopt it once the job succeeded (`humortune jobs show NAME`)",
            item=name,
        )
    entry = catalog.find(info.base_model or "")
    base = entry.id if entry else (info.base_model or "")
    registry = ModelRegistry(corpus)
    known = registry.job(info.name)
    previous = registry.model(info.tuned_model)
    if known is not None and previous is not None and previous.stats.get("lineage") != EXTERNAL:
        return previous  # humortune made this one: its own lineage is richer than what Vertex reports
    facts = {
        "lineage": EXTERNAL,
        "adopted_as": name,
        "hyperparameters": info.hyperparameters,
        "train_uri": info.train_uri,
        "validation_uri": info.validation_uri,
    }
    if known is None:  # a job humortune did not submit: record it as Vertex reports it
        registry.record_job(
            info,
            dataset_id=None,
            base_model=base,
            request_hash=f"{EXTERNAL}:{info.name}",
            hyperparams={**info.hyperparameters, **facts, "family": base},
            display_name=info.display_name,
        )
    else:
        registry.update_job(info)
    model = TunedModel(
        id=info.tuned_model,
        endpoint=info.endpoint,
        job_name=info.name,
        base_model=base,
        checkpoints=info.checkpoints,
        stats={**info.stats, **facts},
        **({"created_at": previous.created_at} if previous else {}),
    )
    return registry.register(model)
