"""Transport failures on the SDK's default HTTP backend (httpx2 on google-genai 3, httpx on 2) are transient.

No client is injected here: the requests go through whatever backend google-genai picks for a loopback
``base_url``, so these run the real path on both majors (CI runs this file on 3.x and with 2.x forced).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from google import genai

from humortune._gemini_errors import MAYBE_CREATED_HINT, is_transport_error
from humortune.errors import AnalysisServiceError, TuningServiceError
from humortune.gemini import GeminiClient, translate
from humortune.settings import Settings
from humortune.testing import FakeGemini
from tests._tuner_support import Sleeps

GENAI_MAJOR = int(genai.__version__.split(".", 1)[0])
AIOHTTP = {"__module__": "aiohttp"}
JOB = "projects/demo-proj/locations/us-central1/tuningJobs/1"


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A loopback URL nothing listens on: every connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield f"http://127.0.0.1:{port}"


@pytest.fixture
def client(tmp_path: Path, refused_url: str) -> Iterator[tuple[GeminiClient, Sleeps]]:
    sleeps = Sleeps()
    settings = Settings(workspace=tmp_path / "ws", project="demo-proj")
    gemini = GeminiClient.from_settings(settings, base_url=refused_url, retry=sleeps.policy(attempts=3))
    yield gemini, sleeps
    gemini.close()


def _backend_of(exc: BaseException) -> str:
    cause = exc.__cause__
    assert cause is not None
    return type(cause).__module__.split(".", 1)[0]


def test_refused_connection_is_retried_on_the_default_backend(client: tuple[GeminiClient, Sleeps]) -> None:
    gemini, sleeps = client
    with pytest.raises(TuningServiceError) as info:
        gemini.get_tuning_job(JOB)
    assert info.value.transient and len(sleeps.calls) == 2  # 3 attempts
    assert "could not reach Vertex AI" in info.value.message and "after 3 attempts" in info.value.message
    assert info.value.hint == "check the network and retry"
    # The SDK's own default backend was used, not an injected httpx client.
    assert _backend_of(info.value) == ("httpx2" if GENAI_MAJOR >= 3 else "httpx")


def test_refused_create_is_not_retried_and_says_it_may_exist(client: tuple[GeminiClient, Sleeps]) -> None:
    gemini, sleeps = client
    with pytest.raises(TuningServiceError) as info:
        gemini.create_tuning_job(base_model="gemini-2.5-flash", train_uri="gs://b/t.jsonl")
    assert info.value.transient and sleeps.calls == []
    assert info.value.hint == MAYBE_CREATED_HINT


def test_refused_connection_is_retried_on_the_async_default_backend(client: tuple[GeminiClient, Sleeps]) -> None:
    gemini, sleeps = client
    with pytest.raises(AnalysisServiceError) as info:
        asyncio.run(gemini.agenerate(model="gemini-2.5-flash", prompt="x", video_uri="gs://b/v.mp4"))
    assert info.value.transient and len(sleeps.calls) == 2


def test_reset_mid_request_on_the_default_backend_is_retried(tmp_path: Path) -> None:
    fake, sleeps = FakeGemini(), Sleeps()
    with fake.serve() as url:
        settings = Settings(workspace=tmp_path / "ws", project="demo-proj")
        gemini = GeminiClient.from_settings(settings, base_url=url, retry=sleeps.policy())
        job = gemini.create_tuning_job(base_model="gemini-2.5-flash", train_uri="gs://b/t.jsonl")
        fake.inject("reset", times=2, match="/tuningJobs/")
        assert gemini.get_tuning_job(job.name).name == job.name
        gemini.close()
    assert len(sleeps.calls) == 2


def _foreign(package: str, name: str, base: type[Exception] = Exception) -> Exception:
    cls = type(name, (base,), {"__module__": f"{package}._exceptions"})
    return cls("boom")


@pytest.mark.parametrize(
    "exc",
    [
        _foreign("httpx2", "ConnectError", type("TransportError", (Exception,), {"__module__": "httpx2"})),
        _foreign("httpx2", "ReadTimeout", type("TimeoutException", (Exception,), {"__module__": "httpx2"})),
        _foreign(
            "aiohttp", "ClientConnectorError", type("ClientConnectionError", (Exception,), {"__module__": "aiohttp"})
        ),
        _foreign("aiohttp", "ServerTimeoutError"),
        httpx.ConnectError("refused"),
        ConnectionResetError(104, "reset"),
        TimeoutError("timed out"),
    ],
    ids=lambda e: f"{type(e).__module__}.{type(e).__name__}",
)
def test_transport_errors_of_every_backend_are_recognised(exc: Exception) -> None:
    assert is_transport_error(exc)
    err = translate(exc, op="analysis", item="clip")
    assert err.transient and "could not reach Vertex AI" in err.message and err.item == "clip"


def test_an_unknown_wrapper_of_a_refused_connection_is_recognised_by_its_cause() -> None:
    wrapper = RuntimeError("request failed")
    wrapper.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert is_transport_error(wrapper)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad"),
        _foreign("httpx2", "DecodingError"),  # a response that was received but cannot be read
        _foreign("somelib", "TransportError"),  # the name alone, outside an HTTP backend, is not enough
    ],
    ids=lambda e: f"{type(e).__module__}.{type(e).__name__}",
)
def test_other_errors_are_not_transport_errors(exc: Exception) -> None:
    assert not is_transport_error(exc)


def test_an_error_raised_while_handling_a_reset_is_not_one() -> None:
    try:
        try:
            raise ConnectionResetError(104, "reset")
        except ConnectionResetError:
            raise KeyError("unrelated")  # noqa: B904 - the implicit context is the point
    except KeyError as exc:
        assert not is_transport_error(exc)
        assert not translate(exc, op="tuning").transient
