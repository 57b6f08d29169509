"""Vertex batch prediction through the analyzer, against FakeGemini.

google-genai only accepts gs:// (or bq://) batch sources and destinations, so the storage here is a local
directory that names its objects ``gs://bkt/h/…``; the fake reads the input through it, and the test writes
the output lines (from the fake's own answers) where Vertex would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from humortune.analyzer.analyzer import Analyzer
from humortune.analyzer.batch import BatchRun, generation_from_rest, list_batches, load_batch
from humortune.errors import AnalysisError, EmptyResponseError, SafetyBlockedError, TruncatedOutputError
from humortune.gemini import GeminiClient
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.testing.fake_gemini import FakeGemini
from humortune.testing.vertex_schema import validate
from humortune.workspace import Corpus
from tests._analyzer_support import fake_client, register, tuned_endpoint


class GsLikeStorage(LocalStorage):
    """LocalStorage whose URIs look like Cloud Storage's, as Vertex sees a real bucket."""

    ROOT = "gs://bkt/h"

    @property
    def root_uri(self) -> str:
        return self.ROOT

    def uri(self, key: str) -> str:
        self.path(key)  # validates the key
        return f"{self.ROOT}/{key}"

    def key(self, uri: str) -> str:
        return uri.removeprefix(self.ROOT + "/")

    def read_uri(self, uri: str) -> bytes | None:
        return (
            self.read_bytes(self.key(uri)) if uri.startswith(self.ROOT + "/") and self.exists(self.key(uri)) else None
        )


def vertex_writes_output(fake: FakeGemini, storage: GsLikeStorage, run: BatchRun, *, skip: str | None = None) -> None:
    """What Vertex does when the job succeeds: one output line per input line, under the output directory."""
    lines = []
    for raw in storage.read_bytes(storage.key(run.input_uri)).decode("utf-8").splitlines():
        request = json.loads(raw)["request"]
        if skip and skip in raw:
            continue
        lines.append(
            {
                "status": "",
                "processed_time": "2026-11-25T12:00:00Z",
                "request": request,
                "response": fake.answer(request),
            }
        )
    key = storage.key(run.info["output_dir"]) + "/predictions.jsonl"
    storage.put_bytes(key, "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode())


VIDEOS = [f"gs://bkt/training/videos/{7301234567890123000 + i}.mp4" for i in range(4)]


@pytest.fixture
def storage(settings: Settings) -> GsLikeStorage:
    return GsLikeStorage(settings.workspace / "s")


@pytest.fixture
def fake(storage: GsLikeStorage) -> FakeGemini:
    return FakeGemini(strict=True, reader=storage.read_uri)


@pytest.fixture
def client(settings: Settings, fake: FakeGemini) -> Iterator[GeminiClient]:
    c = fake_client(settings, fake)
    yield c
    c.close()


@pytest.fixture
def analyzer(settings: Settings, corpus: Corpus, client: GeminiClient, storage: GsLikeStorage) -> Analyzer:
    model_id, endpoint = tuned_endpoint(client)
    register(corpus, model_id, endpoint, media_resolution="MEDIA_RESOLUTION_MEDIUM")
    return Analyzer("current", client=client, settings=settings, corpus=corpus, storage=storage)


def test_batch_submit_wait_collect(analyzer: Analyzer, fake: FakeGemini, storage: GsLikeStorage) -> None:
    run = analyzer.batch([*VIDEOS, VIDEOS[0]], display_name="nightly")
    assert run.state == "JOB_STATE_PENDING" and len(run.items) == 4  # the duplicate clip is sent once
    created = fake.calls("batchPredictionJobs", method="POST")[0].body
    assert created is not None and created["displayName"] == "nightly"
    # A BatchPredictionJob names the Model resource (…/models/ID@V), never the endpoint online calls use.
    assert created["model"] == analyzer.model.model_id and "/models/" in created["model"]
    assert "/endpoints/" not in created["model"] and run.call_name == created["model"]
    assert created["inputConfig"]["gcsSource"]["uris"] == [run.input_uri]
    assert run.input_uri.startswith("gs://bkt/h/analysis/batches/") and run.output_uri.endswith("/output/")
    assert created["outputConfig"]["gcsDestination"]["outputUriPrefix"] == run.output_uri
    validate("BatchPredictionJob", created)
    lines = [json.loads(x) for x in storage.read_bytes(storage.key(run.input_uri)).splitlines()]
    assert [line["request"]["contents"][0]["parts"][0]["fileData"]["fileUri"] for line in lines] == VIDEOS
    for line in lines:  # each line is exactly the online request, and a valid GenerateContentRequest
        request = line["request"]
        assert request["contents"][0]["parts"][1]["text"] == analyzer.prompt.text
        assert request["generationConfig"]["mediaResolution"] == "MEDIA_RESOLUTION_MEDIUM"
        validate("GenerateContentRequest", request)

    info = run.wait(poll_s=0)
    assert info.succeeded and run.has_ended and info.output_dir
    vertex_writes_output(fake, storage, run)
    results = run.collect()
    assert sorted(r.index for r in results) == [0, 1, 2, 3] and all(r.ok for r in results)
    for result in results:
        assert result.analysis is not None and result.analysis.record is not None
        assert result.analysis.narrative.startswith("Det roliga i detta klipp är")
    # Only the text-only record stage ran online; the narratives came from the batch output.
    assert len(fake.calls("endpoints/")) == 0 and len(fake.calls("publishers/")) == 4
    assert analyzer.analyze(VIDEOS[2]).cached
    assert load_batch(analyzer, run.id).collected == 4
    assert list_batches(analyzer.settings.workspace)[0]["job_name"] == run.job_name


def test_resubmitting_the_same_batch_follows_the_first_job(analyzer: Analyzer, fake: FakeGemini) -> None:
    first = analyzer.batch(VIDEOS)
    second = analyzer.batch(VIDEOS)
    assert second.job_name == first.job_name
    assert len(fake.calls("batchPredictionJobs", method="POST")) == 1


def test_missing_output_line_is_a_per_clip_error(analyzer: Analyzer, fake: FakeGemini, storage: GsLikeStorage) -> None:
    run = analyzer.batch(VIDEOS)
    run.wait(poll_s=0)
    vertex_writes_output(fake, storage, run, skip=VIDEOS[1])
    results = {r.index: r for r in run.collect()}
    assert not results[1].ok and "no line for this clip" in str(results[1].error)
    assert all(results[i].ok for i in (0, 2, 3))


def test_collect_before_the_end_is_refused(analyzer: Analyzer) -> None:
    run = analyzer.batch(VIDEOS[:1])
    with pytest.raises(AnalysisError, match="not finished"):
        run.collect()


def test_batch_needs_cloud_storage(settings: Settings, corpus: Corpus, fake: FakeGemini, tmp_path: Path) -> None:
    from humortune.testing.videos import make_test_video

    client = fake_client(settings, fake, offline=False)
    analyzer = Analyzer(
        "gemini-2.5-flash", client=client, settings=settings, corpus=corpus, storage=LocalStorage(tmp_path / "s")
    )
    with pytest.raises(AnalysisError, match="Cloud Storage only"):
        analyzer.batch([make_test_video(tmp_path / "c.mp4", seconds=1.0)])


def _line(**response: object) -> dict[str, object]:
    return {"status": "", "request": {}, "response": response}


def test_batch_on_a_bare_endpoint_names_the_fix(
    settings: Settings, corpus: Corpus, client: GeminiClient, storage: GsLikeStorage, fake: FakeGemini
) -> None:
    _, endpoint = tuned_endpoint(client)  # an endpoint not in the registry: its Model resource is unknown
    analyzer = Analyzer(endpoint, client=client, settings=settings, corpus=corpus, storage=storage)
    with pytest.raises(AnalysisError) as info:
        analyzer.batch(VIDEOS[:1])
    assert "Model resource" in str(info.value) and "models/" in str(info.value.hint)
    assert fake.calls("batchPredictionJobs", method="POST") == []


def test_batch_output_lines_follow_the_online_rules() -> None:
    ok = generation_from_rest(
        _line(
            candidates=[{"content": {"parts": [{"text": "Det roliga"}]}, "finishReason": "STOP"}],
            usageMetadata={"promptTokenCount": 10, "candidatesTokenCount": 3, "totalTokenCount": 13},
        ),
        item="v",
    )
    assert (ok.text, ok.usage.total_tokens, ok.finish_reason) == ("Det roliga", 13, "STOP")
    with pytest.raises(SafetyBlockedError):
        generation_from_rest(_line(candidates=[{"finishReason": "SAFETY"}]), item="v")
    with pytest.raises(SafetyBlockedError):
        generation_from_rest(_line(promptFeedback={"blockReason": "PROHIBITED_CONTENT"}), item="v")
    with pytest.raises(TruncatedOutputError):
        generation_from_rest(
            _line(candidates=[{"content": {"parts": [{"text": "Det"}]}, "finishReason": "MAX_TOKENS"}]), item="v"
        )
    with pytest.raises(EmptyResponseError):
        generation_from_rest(_line(candidates=[]), item="v")
    # Vertex may write a part with "text": null (e.g. beside a thought signature); it holds no text.
    parts = [{"text": None, "thoughtSignature": "c2ln"}, {"text": "Det roliga"}]
    assert (
        generation_from_rest(_line(candidates=[{"content": {"parts": parts}, "finishReason": "STOP"}]), item="v").text
        == "Det roliga"
    )
    with pytest.raises(EmptyResponseError):
        generation_from_rest(
            _line(candidates=[{"content": {"parts": [{"text": None}]}, "finishReason": "STOP"}]), item="v"
        )
    with pytest.raises(AnalysisError, match="the batch line failed: Bad request"):
        generation_from_rest({"status": "Bad request line: x", "request": "{}"}, item="v")
