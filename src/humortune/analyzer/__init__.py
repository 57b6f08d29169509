"""The analyzer: a video in, the owner's kind of reading out (Swedish narrative + validated record).

Importing this package is light: `Analyzer` loads google-genai only when it first calls a model, PyAV only
when it probes a local file, and yt-dlp only when it downloads a URL.
"""

from __future__ import annotations

from humortune.analyzer.analyzer import AnalysisResult, Analyzer, ProgressCallback
from humortune.analyzer.batch import BatchRun, list_batches, load_batch
from humortune.analyzer.cache import AnalysisCache, analysis_id
from humortune.analyzer.output import consistency_warnings, parse_joint, split_joint
from humortune.analyzer.ratelimit import TokenBucket
from humortune.analyzer.request import BatchRequest, GenerationRequest
from humortune.analyzer.resolve import ResolvedModel, prompt_for_version, resolve_model

__all__ = [
    "AnalysisCache",
    "AnalysisResult",
    "Analyzer",
    "BatchRequest",
    "BatchRun",
    "GenerationRequest",
    "ProgressCallback",
    "ResolvedModel",
    "TokenBucket",
    "analysis_id",
    "consistency_warnings",
    "list_batches",
    "load_batch",
    "parse_joint",
    "prompt_for_version",
    "resolve_model",
    "split_joint",
]
