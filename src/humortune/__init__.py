"""humortune: teach Gemini to read short-form video the way its owner does.

Only the errors are imported eagerly; every other public name (the model catalog, the pydantic models,
settings, corpus, and everything that pulls in google-genai, google-cloud-storage, yt-dlp or PyAV) loads on
first use, so ``import humortune`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from humortune._lazy import lazy_getattr
from humortune._version import __version__
from humortune.errors import (
    AnalysisError,
    BatteryError,
    ConfigError,
    CorpusError,
    DatasetError,
    DatasetValidationError,
    EvaluationError,
    FeedbackError,
    HumortuneError,
    ModelLifecycleError,
    PermanentSourceError,
    PreflightError,
    ProbeError,
    RecordParseError,
    SchemaVersionError,
    SourceError,
    StaleReviewError,
    StorageError,
    TransientSourceError,
    TransientStorageError,
    TuningError,
    UnknownModelError,
    UnsupportedSourceError,
)

if TYPE_CHECKING:  # pragma: no cover - import-time only for type checkers
    from humortune import catalog as catalog
    from humortune.analyzer.analyzer import AnalysisResult as AnalysisResult
    from humortune.analyzer.analyzer import Analyzer as Analyzer
    from humortune.analyzer.request import BatchRequest as BatchRequest
    from humortune.analyzer.request import GenerationRequest as GenerationRequest
    from humortune.app import App as App
    from humortune.catalog import CatalogModel as CatalogModel
    from humortune.dataset import BuildOptions as BuildOptions
    from humortune.dataset import DatasetBuilder as DatasetBuilder
    from humortune.dataset import validate_jsonl as validate_jsonl
    from humortune.doctor import Doctor as Doctor
    from humortune.doctor import DoctorReport as DoctorReport
    from humortune.evaluator import AliasRegistry as AliasRegistry
    from humortune.evaluator import EvaluationReport as EvaluationReport
    from humortune.evaluator import Evaluator as Evaluator
    from humortune.evaluator import GatePolicy as GatePolicy
    from humortune.feedback.abtest import BlindAB as BlindAB
    from humortune.feedback.app import create_review_app as create_review_app
    from humortune.feedback.niches import NicheRouter as NicheRouter
    from humortune.feedback.queue import ReviewQueue as ReviewQueue
    from humortune.feedback.retrain import Retrainer as Retrainer
    from humortune.feedback.retrain import RetrainPolicy as RetrainPolicy
    from humortune.feedback.review import ReviewStore as ReviewStore
    from humortune.gemini import GeminiClient as GeminiClient
    from humortune.gemini import Generation as Generation
    from humortune.ingest import Ingestor as Ingestor
    from humortune.ingest import IngestReport as IngestReport
    from humortune.prompts import DEFAULT_PROMPT as DEFAULT_PROMPT
    from humortune.prompts import Prompt as Prompt
    from humortune.schema import Analysis as Analysis
    from humortune.schema import Category as Category
    from humortune.schema import Correction as Correction
    from humortune.schema import CostEstimate as CostEstimate
    from humortune.schema import DatasetVersion as DatasetVersion
    from humortune.schema import HumorRecord as HumorRecord
    from humortune.schema import Quality as Quality
    from humortune.schema import TokenUsage as TokenUsage
    from humortune.schema import TunedModel as TunedModel
    from humortune.schema import VideoAsset as VideoAsset
    from humortune.settings import Settings as Settings
    from humortune.storage import LocalStorage as LocalStorage
    from humortune.storage import Storage as Storage
    from humortune.storage import open_storage as open_storage
    from humortune.storage.gcs import GCSStorage as GCSStorage
    from humortune.testing.fake_gemini import FakeGemini as FakeGemini
    from humortune.tuner import ModelRegistry as ModelRegistry
    from humortune.tuner import Tuner as Tuner
    from humortune.tuner import TuningJob as TuningJob
    from humortune.tuner import TuningRequest as TuningRequest
    from humortune.workspace import Corpus as Corpus
    from humortune.workspace import Entry as Entry
    from humortune.workspace import ImportReport as ImportReport
    from humortune.workspace import SourceLink as SourceLink


# name → module that defines it; loaded on first attribute access (PEP 562). The pydantic models and settings
# are lazy too: building them is most of a bare `import humortune` (and of every CLI start-up), issue 13.
_LAZY: dict[str, str] = {
    "catalog": "humortune.catalog",  # dataclasses, inspect and datetime: most of what was left (issue 13)
    "CatalogModel": "humortune.catalog",
    "App": "humortune.app",
    "DEFAULT_PROMPT": "humortune.prompts",
    "Prompt": "humortune.prompts",
    **dict.fromkeys(
        ["Analysis", "Category", "Correction", "CostEstimate", "DatasetVersion", "HumorRecord", "Quality"],
        "humortune.schema",
    ),
    **dict.fromkeys(["TokenUsage", "TunedModel", "VideoAsset"], "humortune.schema"),
    "Settings": "humortune.settings",
    **dict.fromkeys(["LocalStorage", "Storage", "open_storage"], "humortune.storage"),
    **dict.fromkeys(["Corpus", "Entry", "ImportReport"], "humortune.workspace"),
    "SourceLink": "humortune.workspace",
    "Analyzer": "humortune.analyzer.analyzer",
    "AnalysisResult": "humortune.analyzer.analyzer",
    "BuildOptions": "humortune.dataset",
    "DatasetBuilder": "humortune.dataset",
    "validate_jsonl": "humortune.dataset",
    "Doctor": "humortune.doctor",
    "DoctorReport": "humortune.doctor",
    "EvaluationReport": "humortune.evaluator",
    "Evaluator": "humortune.evaluator",
    "GatePolicy": "humortune.evaluator",
    "AliasRegistry": "humortune.evaluator",
    "FakeGemini": "humortune.testing.fake_gemini",
    "BlindAB": "humortune.feedback.abtest",
    "NicheRouter": "humortune.feedback.niches",
    "Retrainer": "humortune.feedback.retrain",
    "RetrainPolicy": "humortune.feedback.retrain",
    "ReviewQueue": "humortune.feedback.queue",
    "ReviewStore": "humortune.feedback.review",
    "create_review_app": "humortune.feedback.app",
    "GeminiClient": "humortune.gemini",
    "Generation": "humortune.gemini",
    "GCSStorage": "humortune.storage.gcs",
    "IngestReport": "humortune.ingest",
    "Ingestor": "humortune.ingest",
    "ModelRegistry": "humortune.tuner.registry",
    "Tuner": "humortune.tuner.tuner",
    "TuningJob": "humortune.tuner.jobs",
    "TuningRequest": "humortune.tuner.request",
    **dict.fromkeys(["BatchRequest", "GenerationRequest"], "humortune.analyzer.request"),
}

__all__ = [
    "AnalysisError",
    "BatteryError",
    "ConfigError",
    "CorpusError",
    "DatasetError",
    "DatasetValidationError",
    "EvaluationError",
    "FeedbackError",
    "HumortuneError",
    "ModelLifecycleError",
    "PermanentSourceError",
    "PreflightError",
    "ProbeError",
    "RecordParseError",
    "SchemaVersionError",
    "SourceError",
    "StaleReviewError",
    "StorageError",
    "TransientSourceError",
    "TransientStorageError",
    "TuningError",
    "UnknownModelError",
    "UnsupportedSourceError",
    "__version__",
    *_LAZY,
]


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)
