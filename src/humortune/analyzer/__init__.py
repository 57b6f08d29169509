"""The analyzer: a video in, the owner's kind of reading out (Swedish narrative + validated record).

`Analyzer` (in `humortune.analyzer.analyzer`) loads google-genai only when it first calls a model; the
helpers here (output parsing, the cache, the rate limiter, model resolution) are light.
"""

from __future__ import annotations

from humortune.analyzer.cache import AnalysisCache, analysis_id
from humortune.analyzer.output import consistency_warnings, parse_joint, split_joint
from humortune.analyzer.ratelimit import TokenBucket
from humortune.analyzer.resolve import ResolvedModel, prompt_for_version, resolve_model

__all__ = [
    "AnalysisCache",
    "ResolvedModel",
    "TokenBucket",
    "analysis_id",
    "consistency_warnings",
    "parse_joint",
    "prompt_for_version",
    "resolve_model",
    "split_joint",
]
