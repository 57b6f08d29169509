"""GeminiClient: the real google-genai code path against FakeGemini / hand-made MockTransports, offline."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from humortune.app import default_client
from humortune.errors import (
    AnalysisPermissionError,
    AnalysisServiceError,
    CredentialsError,
    EmptyResponseError,
    ModelNotFoundError,
    RateLimitedError,
    SafetyBlockedError,
    TruncatedOutputError,
    TuningJobNotFoundError,
    TuningPermissionError,
    TuningRequestError,
    TuningServiceError,
)
from humortune.gemini import GeminiClient
from humortune.schema import HumorRecord
from humortune.settings import Settings
from humortune.testing import FakeGemini
from tests._tuner_support import Sleeps, client_for

VIDEO = "gs://humortune-demo/training/videos/7301234567890123456.mp4"


@pytest.fixture
def demo(tmp_path: Path) -> Settings:
    return Settings(workspace=tmp_path / "ws", project="demo-proj", location="us-central1")


def test_generate_returns_text_usage_and_version(demo: Settings, fake: FakeGemini) -> None:
    client = client_for(demo, fake)
    gen = client.generate(
        model="gemini-2.5-flash",
        prompt="Analysera denna video.",
        video_uri=VIDEO,
        media_resolution="MEDIA_RESOLUTION_LOW",
    )
    assert gen.text.startswith("Det roliga i detta klipp är") and "Det fungerar för att" in gen.text
    assert gen.finish_reason == "STOP" and gen.model_version == "gemini-2.5-flash-001"
    assert gen.usage.prompt_tokens > 0 and gen.usage.total_tokens == gen.usage.prompt_tokens + gen.usage.output_tokens
    assert gen.raw["candidates"][0]["finish_reason"] == "STOP"
    body = fake.calls(":generateContent")[0].body
    assert body is not None
    # google-genai 2.34 sends fileData's inner keys in snake_case, video before the prompt.
    assert body["contents"][0]["parts"][0] == {"fileData": {"file_uri": VIDEO, "mime_type": "video/mp4"}}
    assert body["generationConfig"] == {"temperature": 0.0, "mediaResolution": "MEDIA_RESOLUTION_LOW"}
    # Same clip, same answer: the fake is deterministic.
    assert client.generate(model="gemini-2.5-flash", prompt="Analysera denna video.", video_uri=VIDEO).text == gen.text


def test_generate_with_response_schema_parses_as_record(demo: Settings, fake: FakeGemini) -> None:
    gen = client_for(demo, fake).generate(
        model="gemini-2.5-flash", prompt="Analysera", video_uri=VIDEO, response_schema=HumorRecord
    )
    record = HumorRecord.parse(gen.text)
    assert record.mechanism and record.summary
    config = fake.calls(":generateContent")[0].body["generationConfig"]  # type: ignore[index]
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseSchema"]["properties"]) == set(HumorRecord.model_fields)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("safety", SafetyBlockedError),
        ("prompt_blocked", SafetyBlockedError),
        ("empty", EmptyResponseError),
        ("max_tokens", TruncatedOutputError),
    ],
)
def test_generate_content_faults_are_distinct_errors(
    demo: Settings, fake: FakeGemini, fault: str, error: type[Exception]
) -> None:
    fake.inject(fault)
    with pytest.raises(error) as info:
        client_for(demo, fake).generate(model="gemini-2.5-flash", prompt="x", video_uri=VIDEO)
    assert info.value.item == "gemini-2.5-flash"  # type: ignore[attr-defined]
    assert len(fake.calls(":generateContent")) == 1  # content faults are not retried


def test_truncated_output_keeps_the_partial_answer(demo: Settings, fake: FakeGemini) -> None:
    with pytest.raises(TruncatedOutputError) as info:
        client_for(demo, fake).generate(model="gemini-2.5-flash", prompt="x", video_uri=VIDEO, max_output_tokens=5)
    assert info.value.partial and len(info.value.partial) <= 20


def test_429_is_retried_honouring_retry_after(demo: Settings, fake: FakeGemini) -> None:
    sleeps = Sleeps()
    fake.inject("429", times=2, retry_after=7)
    gen = client_for(demo, fake, sleeps=sleeps).generate(model="gemini-2.5-flash", prompt="x", video_uri=VIDEO)
    assert gen.text
    assert sleeps.calls == [7.0, 7.0]
    assert len(fake.calls(":generateContent")) == 3


def test_429_exhausted_becomes_rate_limited_error(demo: Settings, fake: FakeGemini) -> None:
    sleeps = Sleeps()
    fake.inject("429", times=10)
    with pytest.raises(RateLimitedError) as info:
        client_for(demo, fake, attempts=3, sleeps=sleeps).generate(model="gemini-2.5-flash", prompt="x")
    assert "after 3 attempts" in str(info.value) and "quota" in str(info.value.hint)
    assert info.value.transient and len(sleeps.calls) == 2
    assert all(0 < s <= 4.0 for s in sleeps.calls)  # exponential backoff without Retry-After


def test_async_generate_retries_503_and_resets(demo: Settings, fake: FakeGemini) -> None:
    sleeps = Sleeps()
    fake.inject("503")
    fake.inject("reset")
    client = client_for(demo, fake, sleeps=sleeps)
    gen = asyncio.run(client.agenerate(model="gemini-2.5-flash", prompt="x", video_uri=VIDEO))
    assert gen.text.startswith("Det roliga") and len(sleeps.calls) == 2


def test_unknown_model_is_model_not_found(demo: Settings, fake: FakeGemini) -> None:
    with pytest.raises(ModelNotFoundError) as info:
        client_for(demo, fake).generate(model="gemini-9-ultra", prompt="x")
    assert "was not found" in info.value.message and "models list" in str(info.value.hint)


def test_403_names_the_missing_permission(demo: Settings, fake: FakeGemini) -> None:
    fake.inject("403")
    with pytest.raises(AnalysisPermissionError) as info:
        client_for(demo, fake).generate(model="gemini-2.5-flash", prompt="x")
    assert "roles/aiplatform.user" in str(info.value.hint)
    fake.inject("403")
    with pytest.raises(TuningPermissionError) as tinfo:
        client_for(demo, fake).get_tuning_job("projects/demo-proj/locations/us-central1/tuningJobs/1")
    assert "roles/storage.objectViewer" in str(tinfo.value.hint) and "Service Agent" in str(tinfo.value.hint)


def test_403_hints_name_batch_writes_and_custom_service_account_roles(demo: Settings, fake: FakeGemini) -> None:
    fake.inject("403")
    with pytest.raises(AnalysisPermissionError) as info:
        client_for(demo, fake).create_batch_job(model="gemini-2.5-flash", src_uri="gs://b/i.jsonl", dest_uri="gs://b/o")
    assert "roles/storage.objectCreator" in str(info.value.hint) and "output prefix" in str(info.value.hint)
    fake.inject("403")
    with pytest.raises(TuningPermissionError) as tinfo:
        client_for(demo, fake).get_tuning_job("projects/demo-proj/locations/us-central1/tuningJobs/1")
    hint = str(tinfo.value.hint)
    assert "roles/aiplatform.tuningServiceAgent" in hint and "roles/iam.serviceAccountTokenCreator" in hint
    assert "gcp-sa-vertex-tune" in hint and "iam.serviceAccounts.actAs" in hint


def _answer(status: int, message: str, code_status: str) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": {"code": status, "message": message, "status": code_status}})

    return httpx.MockTransport(handler)


def test_disabled_api_and_expired_credentials_hints(demo: Settings) -> None:
    disabled = _answer(
        403, "Vertex AI API has not been used in project demo-proj before or it is disabled.", "PERMISSION_DENIED"
    )
    client = GeminiClient.from_settings(demo, transport=disabled, retry=Sleeps().policy(1))
    with pytest.raises(TuningPermissionError) as info:
        client.list_tuning_jobs()
    assert "gcloud services enable aiplatform.googleapis.com" in str(info.value.hint)
    expired = _answer(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
    client = GeminiClient.from_settings(demo, transport=expired, retry=Sleeps().policy(1))
    with pytest.raises(AnalysisPermissionError) as ainfo:
        client.generate(model="gemini-2.5-flash", prompt="x")
    assert "gcloud auth application-default login" in str(ainfo.value.hint)


def test_create_is_never_retried(demo: Settings, fake: FakeGemini) -> None:
    sleeps = Sleeps()
    fake.inject("503")
    with pytest.raises(TuningServiceError) as info:
        client_for(demo, fake, sleeps=sleeps).create_tuning_job(
            base_model="gemini-2.5-flash", train_uri="gs://b/train.jsonl"
        )
    assert len(fake.calls("/tuningJobs", method="POST")) == 1 and sleeps.calls == []
    assert "jobs list" in str(info.value.hint)  # the job may exist: look before submitting again
    fake.inject("reset")
    with pytest.raises(AnalysisServiceError):
        client_for(demo, fake).create_batch_job(model="gemini-2.5-flash", src_uri="gs://b/i.jsonl", dest_uri="gs://b/o")
    assert len(fake.calls("/batchPredictionJobs", method="POST")) == 1


def test_get_retries_transient_failures(demo: Settings, fake: FakeGemini) -> None:
    client = client_for(demo, fake)
    job = client.create_tuning_job(base_model="gemini-2.5-flash", train_uri="gs://b/train.jsonl")
    fake.inject("503", match="/tuningJobs/")
    fake.inject("reset", match="/tuningJobs/")
    fake.inject("500", match="/tuningJobs/")
    assert client.get_tuning_job(job.name).state == "JOB_STATE_RUNNING"
    assert len(fake.calls(job.name.rsplit("/", 1)[-1], method="GET")) == 4


def test_tuning_request_is_the_exact_body_sent(demo: Settings, fake: FakeGemini) -> None:
    client = client_for(demo, fake)
    args = {
        "base_model": "gemini-2.5-flash",
        "train_uri": "gs://b/sft/train.jsonl",
        "validation_uri": "gs://b/sft/validation.jsonl",
        "epochs": 4,
        "learning_rate_multiplier": 1.0,
        "adapter_size": 8,
        "display_name": "humortune-ds-1",
        "labels": {"team": "video"},
        "export_last_checkpoint_only": False,
    }
    preview = client.tuning_request(**args)  # type: ignore[arg-type]
    assert fake.requests == []  # a preview sends nothing
    assert preview == {
        "baseModel": "gemini-2.5-flash",
        "supervisedTuningSpec": {
            "trainingDatasetUri": "gs://b/sft/train.jsonl",
            "validationDatasetUri": "gs://b/sft/validation.jsonl",
            "hyperParameters": {"epochCount": 4, "learningRateMultiplier": 1.0, "adapterSize": "ADAPTER_SIZE_EIGHT"},
            "exportLastCheckpointOnly": False,
        },
        "tunedModelDisplayName": "humortune-ds-1",
        "labels": {"team": "video"},
    }
    client.create_tuning_job(**args)  # type: ignore[arg-type]
    assert fake.calls("/tuningJobs", method="POST")[0].body == preview


def test_service_account_goes_into_the_body(tmp_path: Path, fake: FakeGemini) -> None:
    settings = Settings(workspace=tmp_path, project="demo-proj", service_account="tuner@demo-proj.iam.example")
    body = client_for(settings, fake).tuning_request(base_model="gemini-2.5-flash", train_uri="gs://b/t.jsonl")
    assert body["serviceAccount"] == "tuner@demo-proj.iam.example"


def test_unknown_base_model_and_bad_adapter(demo: Settings, fake: FakeGemini) -> None:
    client = client_for(demo, fake)
    with pytest.raises(TuningRequestError) as info:
        client.create_tuning_job(base_model="gemini-1.0-pro", train_uri="gs://b/t.jsonl")
    assert "gemini-2.5-flash" in str(info.value.hint) and "gemini-2.5-pro" in str(info.value.hint)
    with pytest.raises(TuningRequestError) as ainfo:
        client.create_tuning_job(base_model="gemini-2.5-pro", train_uri="gs://b/t.jsonl", adapter_size=16)
    assert "adapter size" in ainfo.value.message and "4 or 8" in str(ainfo.value.hint)


def test_missing_job_is_not_found(demo: Settings, fake: FakeGemini) -> None:
    with pytest.raises(TuningJobNotFoundError):
        client_for(demo, fake).get_tuning_job("projects/demo-proj/locations/us-central1/tuningJobs/404")


def test_tuned_endpoint_in_another_location_gets_its_own_client(demo: Settings, fake: FakeGemini) -> None:
    hosts: list[str] = []
    inner = fake.transport()

    def spy(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return inner.handle_request(request)

    client = GeminiClient.from_settings(demo, transport=httpx.MockTransport(spy), retry=Sleeps().policy())
    with pytest.raises(ModelNotFoundError):
        client.generate(model="projects/demo-proj/locations/us/endpoints/42", prompt="x")
    assert hosts == ["aiplatform.us.rep.googleapis.com"]


def test_missing_credentials_say_how_to_log_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    with pytest.raises(CredentialsError) as info:
        GeminiClient.from_settings(Settings(workspace=tmp_path / "ws", project="demo-proj"))
    assert "gcloud auth application-default login" in str(info.value.hint) and "--offline" in str(info.value.hint)
    with pytest.raises(CredentialsError) as kinfo:
        GeminiClient.from_settings(
            Settings(workspace=tmp_path / "ws", project="demo-proj", credentials_file=tmp_path / "missing.json")
        )
    assert "key file" in kinfo.value.message


def test_offline_settings_use_the_fake_without_credentials(tmp_path: Path) -> None:
    client = default_client(Settings(workspace=tmp_path / "ws", offline=True))
    assert client.offline and isinstance(client.fake, FakeGemini)
    assert client.generate(model="gemini-2.5-flash", prompt="x", video_uri=VIDEO).text.startswith("Det roliga")
    # Jobs persist in the workspace, so another process (a new client) sees them.
    job = client.create_tuning_job(base_model="gemini-2.5-flash", train_uri="gs://b/t.jsonl")
    again = default_client(Settings(workspace=tmp_path / "ws", offline=True))
    assert again.get_tuning_job(job.name).name == job.name


def test_loopback_server_mode(demo: Settings) -> None:
    fake = FakeGemini()
    with fake.serve() as url:
        client = GeminiClient.from_settings(demo, base_url=url, retry=Sleeps().policy())
        job = client.create_tuning_job(base_model="gemini-2.5-flash", train_uri="gs://b/t.jsonl")
        fake.inject("reset", match="/tuningJobs/")  # the server drops the connection mid-request
        assert client.get_tuning_job(job.name).state == "JOB_STATE_RUNNING"
        gen = client.generate(model="gemini-2.5-flash", prompt="x", video_uri=VIDEO)
    assert gen.text and all(r.authorized for r in fake.requests)


def test_importing_humortune_does_not_import_google_genai() -> None:
    code = (
        "import sys, humortune, humortune.testing, humortune.tuner\n"
        "from humortune.testing import FakeGemini\n"
        "assert 'google.genai' not in sys.modules, 'google.genai imported'\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('google.genai'))))"
    )
    out = subprocess.run([sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
