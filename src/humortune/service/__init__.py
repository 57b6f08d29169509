"""``humortune serve``: the JSON API other services call (see `create_app`)."""

from __future__ import annotations

from humortune.service.app import AnalyzeRequest, ErrorBody, Service, create_app, require_token

__all__ = ["AnalyzeRequest", "ErrorBody", "Service", "create_app", "require_token"]
