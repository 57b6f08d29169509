"""humortune: teach Gemini to read short-form video the way its owner does.

The light core (errors, settings, schema, prompts, corpus) is imported eagerly; everything that pulls in
google-genai, google-cloud-storage, yt-dlp or PyAV loads on first use, so ``import humortune`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from humortune import catalog
from humortune._util import lazy_getattr
from humortune._version import __version__
from humortune.catalog import CatalogModel
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
from humortune.prompts import DEFAULT_PROMPT, Prompt
from humortune.schema import (
    Analysis,
    Category,
    Correction,
    CostEstimate,
    DatasetVersion,
    HumorRecord,
    Quality,
    TokenUsage,
    TunedModel,
    VideoAsset,
)
from humortune.settings import Settings
from humortune.storage import LocalStorage, Storage, open_storage
from humortune.workspace import Corpus, Entry, ImportReport

if TYPE_CHECKING:  # pragma: no cover - import-time only for type checkers
    from humortune.analyzer.analyzer import AnalysisResult as AnalysisResult
    from humortune.analyzer.analyzer import Analyzer as Analyzer
    from humortune.app import App as App
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
    from humortune.storage.gcs import GCSStorage as GCSStorage
    from humortune.testing.fake_gemini import FakeGemini as FakeGemini
    from humortune.tuner import ModelRegistry as ModelRegistry
    from humortune.tuner import Tuner as Tuner
    from humortune.tuner import TuningJob as TuningJob
    from humortune.tuner import TuningRequest as TuningRequest


# name → module that defines it; loaded on first attribute access (PEP 562).
_LAZY: dict[str, str] = {
    "App": "humortune.app",
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
}

__all__ = [
    "DEFAULT_PROMPT",
    "Analysis",
    "AnalysisError",
    "BatteryError",
    "CatalogModel",
    "Category",
    "ConfigError",
    "Corpus",
    "CorpusError",
    "Correction",
    "CostEstimate",
    "DatasetError",
    "DatasetValidationError",
    "DatasetVersion",
    "Entry",
    "EvaluationError",
    "FeedbackError",
    "HumorRecord",
    "HumortuneError",
    "ImportReport",
    "LocalStorage",
    "ModelLifecycleError",
    "PermanentSourceError",
    "PreflightError",
    "ProbeError",
    "Prompt",
    "Quality",
    "RecordParseError",
    "SchemaVersionError",
    "Settings",
    "SourceError",
    "StaleReviewError",
    "Storage",
    "StorageError",
    "TokenUsage",
    "TunedModel",
    "TransientSourceError",
    "TransientStorageError",
    "TuningError",
    "UnknownModelError",
    "UnsupportedSourceError",
    "VideoAsset",
    "__version__",
    "catalog",
    "open_storage",
    *_LAZY,
]


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)
