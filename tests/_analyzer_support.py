"""Helpers for the analyzer, service and CLI tests: a FakeGemini-backed client, a tuned endpoint, registry rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from humortune.gemini import GeminiClient, RetryPolicy
from humortune.prompts import DEFAULT_PROMPT, Prompt
from humortune.settings import Settings
from humortune.testing.fake_gemini import FakeGemini
from humortune.workspace import Corpus

NOW = "2026-11-25T12:00:00+00:00"


class Sleeps:
    """Records the retry policy's sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def policy(self, attempts: int = 4) -> RetryPolicy:
        return RetryPolicy(attempts=attempts, initial_s=0.01, max_s=0.05, sleep=self, async_sleep=self.asleep)


def fake_client(
    settings: Settings, fake: FakeGemini, *, sleeps: Sleeps | None = None, offline: bool = True
) -> GeminiClient:
    """A real GeminiClient whose HTTP goes to ``fake`` (MockTransport); ``offline`` lets it read file:// URIs."""
    client = GeminiClient.from_settings(
        settings,
        transport=fake.transport(),
        async_transport=fake.async_transport(),
        retry=(sleeps or Sleeps()).policy(),
    )
    client.offline = offline  # the fake reads local files, as the bundled offline mode does
    return client


def tuned_endpoint(client: GeminiClient) -> tuple[str, str]:
    """Tune a model on the fake and return (model id, endpoint) once it succeeded."""
    job = client.create_tuning_job(base_model="gemini-2.5-flash", train_uri="gs://bkt/train.jsonl")
    for _ in range(10):
        job = client.get_tuning_job(job.name)
        if job.has_ended:
            break
    assert job.succeeded and job.tuned_model and job.endpoint, job
    return job.tuned_model, job.endpoint


def register(
    corpus: Corpus,
    model_id: str,
    endpoint: str | None,
    *,
    alias: str | None = "current",
    prompt: Prompt = DEFAULT_PROMPT,
    media_resolution: str = "MEDIA_RESOLUTION_LOW",
    target_format: str = "narrative",
    dataset_id: str = "ds-test",
) -> None:
    """Registry rows as the dataset and tuner layers write them."""
    corpus.db.execute(
        "INSERT INTO dataset_versions (id, created_at, prompt_version, target_format, media_resolution,"
        " settings_json, manifest_json, valid, storage_prefix) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)"
        " ON CONFLICT (id) DO NOTHING",  # portable: SQLite and PostgreSQL
        (
            dataset_id,
            NOW,
            prompt.version,
            target_format,
            media_resolution,
            json.dumps({"prompt": {"text": prompt.text, "system_instruction": prompt.system_instruction}}),
            "{}",
            f"gs://bkt/training/datasets/{dataset_id}/",
        ),
    )
    corpus.db.execute(
        "INSERT INTO models (id, endpoint, base_model, dataset_id, created_at) VALUES (?, ?, ?, ?, ?)",
        (model_id, endpoint, "gemini-2.5-flash", dataset_id, NOW),
    )
    if alias:
        corpus.db.execute("INSERT INTO aliases (name, model_id, updated_at) VALUES (?, ?, ?)", (alias, model_id, NOW))


def generate_response(text: str, *, finish: str = "STOP", prompt_tokens: int = 1000, out: int = 90) -> dict[str, Any]:
    """A GenerateContentResponse as Vertex returns it."""
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": finish}],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": out,
            "totalTokenCount": prompt_tokens + out,
        },
        "modelVersion": "gemini-2.5-flash-001",
        "responseId": "resp-1",
    }


class Scripted:
    """A MockTransport handler answering each path (by fragment) from a queue of texts or responses."""

    def __init__(self, routes: dict[str, list[str | dict[str, Any] | httpx.Response]]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        self.requests.append((request.url.path, body))
        for fragment, answers in self.routes.items():
            if fragment in request.url.path:
                answer = answers.pop(0) if len(answers) > 1 else answers[0]
                if isinstance(answer, httpx.Response):
                    return answer
                return httpx.Response(200, json=generate_response(answer) if isinstance(answer, str) else answer)
        return httpx.Response(404, json={"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})

    def bodies(self, fragment: str) -> list[dict[str, Any]]:
        return [b for p, b in self.requests if fragment in p]


def scripted_client(settings: Settings, handler: Callable[[httpx.Request], httpx.Response]) -> GeminiClient:
    async def ahandler(request: httpx.Request) -> httpx.Response:
        return handler(request)

    return GeminiClient.from_settings(
        settings,
        transport=httpx.MockTransport(handler),
        async_transport=httpx.MockTransport(ahandler),
        retry=Sleeps().policy(),
    )
