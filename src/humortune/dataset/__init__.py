"""Tuning datasets: Vertex JSONL rows, stable splits, validation, cost estimates and versions.

```python
from humortune.dataset import DatasetBuilder

version = DatasetBuilder(corpus, storage, settings=settings).build(split=(0.8, 0.2))
print(version.id, version.counts, version.estimate.usd_low, version.estimate.usd_high)
```

See ``docs/datasets.md`` ("Preparing a dataset") for the validator's rules and the cost formula.
"""

from __future__ import annotations

from humortune.dataset.builder import BuildResult, DatasetBuilder, Skipped
from humortune.dataset.estimate import PRICE_SOURCE, TRAINING_PRICE_PER_MTOK, estimate_cost, example_tokens
from humortune.dataset.issues import RULES, Issue, Rule, ValidationReport, VideoFacts
from humortune.dataset.limits import LIMITS, Limit
from humortune.dataset.options import BuildOptions
from humortune.dataset.registry import (
    DatasetDiff,
    ExampleRef,
    diff_versions,
    list_versions,
    load_examples,
    resolve_version,
)
from humortune.dataset.rows import TuningExample, dumps_row, example_row, render_target
from humortune.dataset.split import SplitItem, SplitPlan, assign_splits
from humortune.dataset.validate_files import validate_jsonl
from humortune.dataset.validator import Validator

__all__ = [
    "LIMITS",
    "PRICE_SOURCE",
    "RULES",
    "TRAINING_PRICE_PER_MTOK",
    "BuildOptions",
    "BuildResult",
    "DatasetBuilder",
    "DatasetDiff",
    "ExampleRef",
    "Issue",
    "Limit",
    "Rule",
    "Skipped",
    "SplitItem",
    "SplitPlan",
    "TuningExample",
    "ValidationReport",
    "Validator",
    "VideoFacts",
    "assign_splits",
    "diff_versions",
    "dumps_row",
    "estimate_cost",
    "example_row",
    "example_tokens",
    "list_versions",
    "load_examples",
    "render_target",
    "resolve_version",
    "validate_jsonl",
]
