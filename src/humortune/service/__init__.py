"""``humortune serve``: the JSON API other services call (see `create_app`)."""

from __future__ import annotations

from humortune.service.app import AnalyzeRequest, Service, create_app, require_token
from humortune.service.openapi import AnalysisResponse, ErrorBody, Health, write_openapi

__all__ = [
    "AnalysisResponse",
    "AnalyzeRequest",
    "ErrorBody",
    "Health",
    "Service",
    "create_app",
    "require_token",
    "write_openapi",
]
