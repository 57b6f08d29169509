"""Typed stores: one owner per workspace table, and the only place (with `Corpus`) that holds SQL.

Callers get pydantic models and plain values back, never database rows, so the engine under the stores
(SQLite today, SQLAlchemy Core on SQLite or PostgreSQL next) can change without touching them.

```python
stores = Stores.of(corpus.db)
stores.aliases.target("current")            # model id or None
stores.models.get(model_id)                 # TunedModel
stores.datasets.latest()                    # DatasetRecord
```
"""

from __future__ import annotations

from dataclasses import dataclass

from humortune.workspace.db import Database
from humortune.workspace.stores.aliases import AliasAction, AliasChange, AliasStore, ModelAlias
from humortune.workspace.stores.analyses import AnalysisPair, AnalysisStore
from humortune.workspace.stores.corrections import (
    ClipCorrection,
    CorrectionSnapshot,
    CorrectionSource,
    CorrectionStore,
    NicheCount,
)
from humortune.workspace.stores.datasets import DatasetExample, DatasetRecord, DatasetStore
from humortune.workspace.stores.evaluations import EvaluationItem, EvaluationRecord, EvaluationStore
from humortune.workspace.stores.ingest_status import IngestState, IngestStatusStore
from humortune.workspace.stores.jobs import JobRecord, JobStore, SweepRecord
from humortune.workspace.stores.labels import LabelStore, StoredLabel
from humortune.workspace.stores.models import ModelStore
from humortune.workspace.stores.offline_state import OfflineStateStore
from humortune.workspace.stores.prompts import PromptStore, StoredPrompt
from humortune.workspace.stores.reviews import ReviewEvent, ReviewLog
from humortune.workspace.stores.videos import VideoFacts, VideoStore

__all__ = [
    "AliasAction",
    "AliasChange",
    "AliasStore",
    "AnalysisPair",
    "AnalysisStore",
    "ClipCorrection",
    "CorrectionSnapshot",
    "CorrectionSource",
    "CorrectionStore",
    "DatasetExample",
    "DatasetRecord",
    "DatasetStore",
    "EvaluationItem",
    "EvaluationRecord",
    "EvaluationStore",
    "IngestState",
    "IngestStatusStore",
    "JobRecord",
    "JobStore",
    "LabelStore",
    "ModelAlias",
    "ModelStore",
    "NicheCount",
    "OfflineStateStore",
    "PromptStore",
    "ReviewEvent",
    "ReviewLog",
    "StoredLabel",
    "StoredPrompt",
    "Stores",
    "SweepRecord",
    "VideoFacts",
    "VideoStore",
]


@dataclass(frozen=True, slots=True)
class Stores:
    """Every store over one workspace database (cheap to build: stores hold only the database)."""

    db: Database
    models: ModelStore
    aliases: AliasStore
    jobs: JobStore
    datasets: DatasetStore
    prompts: PromptStore
    analyses: AnalysisStore
    evaluations: EvaluationStore
    labels: LabelStore
    reviews: ReviewLog
    corrections: CorrectionStore
    videos: VideoStore
    ingest: IngestStatusStore
    offline: OfflineStateStore

    @classmethod
    def of(cls, db: Database) -> Stores:
        """The stores of ``db`` (``corpus.db``)."""
        return cls(
            db=db,
            models=ModelStore(db),
            aliases=AliasStore(db),
            jobs=JobStore(db),
            datasets=DatasetStore(db),
            prompts=PromptStore(db),
            analyses=AnalysisStore(db),
            evaluations=EvaluationStore(db),
            labels=LabelStore(db),
            reviews=ReviewLog(db),
            corrections=CorrectionStore(db),
            videos=VideoStore(db),
            ingest=IngestStatusStore(db),
            offline=OfflineStateStore(db),
        )
