"""Judges: position-swap logic, parsing, caching, and real request shapes (FakeGemini and a Vertex cassette)."""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from humortune.errors import HumortuneError, JudgeError
from humortune.evaluator import Evaluator
from humortune.evaluator.judge import (
    JUDGE_PROMPT_VERSION,
    LexicalJudge,
    MechanismJudge,
    PairwiseJudge,
    combine_orders,
)
from humortune.gemini import GeminiClient, RetryPolicy
from humortune.settings import Settings
from humortune.testing.fake_gemini import FakeGemini
from humortune.testing.vertex_schema import validate
from humortune.workspace import Corpus
from tests.rigs.evaluation import populate_evaluation

CASSETTES = Path(__file__).parent / "cassettes" / "test_evaluator_judge"


class Scripted:
    """A judge backend answering from a function of the prompt; records every call."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.prompts: list[str] = []

    def __call__(self, *, model: str, prompt: str, **_: Any) -> str:
        self.prompts.append(prompt)
        value = self.answer(prompt)
        return value if isinstance(value, str) else json.dumps(value)


@pytest.mark.parametrize(
    ("first", "second", "outcome", "consistent"),
    [
        ("A", "B", "win", True),  # candidate preferred in both positions
        ("B", "A", "loss", True),
        ("TIE", "TIE", "tie", True),
        ("A", "A", "tie", False),  # always the first answer: pure position bias → tie
        ("B", "B", "tie", False),  # always the second answer
        ("A", "TIE", "tie", False),
        ("TIE", "A", "tie", False),
    ],
)
def test_combine_orders(first: str, second: str, outcome: str, consistent: bool) -> None:
    assert combine_orders(first, second) == (outcome, consistent)  # type: ignore[arg-type]


def test_position_biased_judge_cannot_manufacture_wins() -> None:
    backend = Scripted(lambda prompt: {"preferred": "A", "reason": "first one"})
    judge = PairwiseJudge(backend, model="judge")
    result = judge.compare(reference="ägaren", candidate="kandidat", incumbent="nuvarande")
    assert result.outcome == "tie" and not result.consistent
    # Both orders were really asked: the candidate appears as A once and as B once.
    first, second = backend.prompts
    assert first.index("kandidat") < first.index("nuvarande")
    assert second.index("nuvarande") < second.index("kandidat")


def test_content_based_judge_wins_in_both_orders() -> None:
    def prefer_kandidat(prompt: str) -> dict[str, str]:
        a = prompt.split("Explanation A:")[1].split("Explanation B:")[0]
        return {"preferred": "A" if "kandidat" in a else "B", "reason": "names the mechanism"}

    judge = PairwiseJudge(Scripted(prefer_kandidat), model="judge")
    result = judge.compare(reference="ägaren", candidate="kandidat", incumbent="nuvarande")
    assert (result.outcome, result.first, result.second, result.consistent) == ("win", "A", "B", True)
    assert result.reasons == ("names the mechanism", "names the mechanism")


def test_fake_judge_position_bias_becomes_ties() -> None:
    reference = "Det roliga i detta klipp är en oväntad vändning i sista sekunden."
    good, bad = reference, "En helt annan förklaring om något annat."
    honest = PairwiseJudge(LexicalJudge(), model="judge").compare(reference=reference, candidate=good, incumbent=bad)
    assert honest.outcome == "win"
    biased = PairwiseJudge(LexicalJudge(position_bias=1.0), model="judge")
    assert biased.compare(reference=reference, candidate=bad, incumbent=good).outcome == "tie"


def test_lexical_judge_passes_by_overlap_with_the_owner_and_repeats_itself() -> None:
    owner = "Det roliga i detta klipp är en oväntad vändning i sista sekunden."
    backend = LexicalJudge(threshold=0.5)
    judge = MechanismJudge(backend, model="offline")
    assert judge.judge(candidate=owner, reference=owner).verdict == "PASS"
    assert judge.judge(candidate="En hund som skäller på en dammsugare.", reference=owner).verdict == "FAIL"
    again = MechanismJudge(LexicalJudge(threshold=0.5), model="offline")
    assert again.judge(candidate=owner[:40], reference=owner) == judge.judge(candidate=owner[:40], reference=owner)
    assert backend.calls == 3  # a real call per new verdict: it is an ordinary judge backend


def test_mechanism_verdict_parsing_and_one_line_reason() -> None:
    fenced = '```json\n{"verdict": "PASS", "reason": "same reversal,\\n   worded differently"}\n```'
    judge = MechanismJudge(Scripted(lambda _: fenced), model="judge")
    verdict = judge.judge(candidate="x", reference="y")
    assert verdict.passed and verdict.reason == "same reversal, worded differently"


@pytest.mark.parametrize("answer", ["", "I think it passes", '{"verdict": "MAYBE", "reason": "?"}'])
def test_unusable_answers_raise_judge_error(answer: str) -> None:
    judge = MechanismJudge(Scripted(lambda _: answer), model="judge-model")
    with pytest.raises(JudgeError) as info:
        judge.judge(candidate="x", reference="y")
    assert info.value.item == "judge-model" and info.value.hint


def test_client_object_backend_and_usage() -> None:
    class Generation:
        def __init__(self, text: str) -> None:
            self.text = text
            self.usage = type("U", (), {"prompt_tokens": 100, "output_tokens": 7})()

    class Client:
        def __init__(self) -> None:
            self.kwargs: list[dict[str, Any]] = []

        def generate(self, **kwargs: Any) -> Generation:
            self.kwargs.append(kwargs)
            return Generation('{"verdict": "FAIL", "reason": "generic"}')

    client = Client()
    judge = MechanismJudge(client, model="gemini-2.5-flash")
    assert judge.judge(candidate="x", reference="y").verdict == "FAIL"
    call = client.kwargs[0]
    assert call["model"] == "gemini-2.5-flash" and call["temperature"] == 0.0
    assert call["response_schema"].__name__ == "MechanismVerdict" and call["system_instruction"]
    assert (judge.usage.calls, judge.usage.prompt_tokens, judge.usage.output_tokens) == (1, 100, 7)
    assert judge.version == f"gemini-2.5-flash@{JUDGE_PROMPT_VERSION}"


def test_verdicts_are_cached_in_memory_and_on_disk(tmp_path: Path) -> None:
    backend = Scripted(lambda _: {"verdict": "PASS", "reason": "ok"})
    cache = tmp_path / "cache" / "judge.jsonl"
    judge = MechanismJudge(backend, model="judge", cache_path=cache)
    for _ in range(3):
        judge.judge(candidate="x", reference="y")
    assert len(backend.prompts) == 1 and judge.usage.cached == 2
    cache.write_text(cache.read_text("utf-8") + '{"key": "torn', "utf-8")  # a crash mid-append
    again = MechanismJudge(backend, model="judge", cache_path=cache)
    assert again.judge(candidate="x", reference="y").passed
    assert len(backend.prompts) == 1  # served from the file
    MechanismJudge(backend, model="other-judge", cache_path=cache).judge(candidate="x", reference="y")
    assert len(backend.prompts) == 2  # another judge model is another verdict


# -- through the real client: FakeGemini (HTTP level) and a replayed Vertex cassette -------------------


def _strict(message: str, body: dict[str, Any]) -> None:
    validate(message, body, versions=("v1beta1",))  # the judge talks v1beta1: that document alone


def test_judges_through_fake_gemini(tmp_path: Path) -> None:
    fake = FakeGemini(strict=True)  # strict: the fake answers 400 to any body that the discovery document rejects
    settings = Settings(workspace=tmp_path / "ws", project="demo-proj")
    client = GeminiClient.from_settings(settings, transport=fake.transport(), retry=RetryPolicy(attempts=1))
    try:
        verdict = MechanismJudge(client, model="gemini-2.5-flash").judge(
            candidate="Hunden snor korven.", reference="Ägaren."
        )
        pair = PairwiseJudge(client, model="gemini-2.5-flash").compare(reference="R", candidate="C", incumbent="I")
    finally:
        client.close()
    assert verdict.verdict in ("PASS", "FAIL") and verdict.reason
    assert pair.outcome in ("win", "tie", "loss")
    calls = fake.calls(":generateContent", "POST")
    assert len(calls) == 3 and all(
        c.path.endswith("publishers/google/models/gemini-2.5-flash:generateContent") for c in calls
    )
    for call in calls:
        assert call.body is not None
        _strict("GenerateContentRequest", call.body)
        config = call.body["generationConfig"]
        assert config["temperature"] == 0.0 and config["responseMimeType"] == "application/json"
        assert call.body["systemInstruction"]["parts"][0]["text"]
    enums = [c.body["generationConfig"]["responseSchema"]["properties"] for c in calls if c.body]
    assert enums[0]["verdict"]["enum"] == ["PASS", "FAIL"]
    assert enums[1]["preferred"]["enum"] == ["A", "B", "TIE"]


OWNER = (
    "Det roliga i detta klipp är att kocken kommenterar ett stekt ägg som en sportfinal. Kontrasten mellan "
    "dramatiken och den banala uppgiften bär klippet.\n"
    "Mechanism: överdriven dramatik kring en helt banal vardagsuppgift"
)


@pytest.mark.vcr(str(CASSETTES / "mechanism_judge.yaml"))
def test_mechanism_judge_replay(vertex: GeminiClient) -> None:
    judge = MechanismJudge(vertex, model="gemini-2.5-flash")
    verdict = judge.judge(
        candidate="Det roliga i detta klipp är att kocken rör sig snabbt i köket. Videon visar en kock som lagar mat.",
        reference=OWNER,
    )
    assert verdict.verdict == "FAIL" and "mock-sports drama" in verdict.reason
    assert (judge.usage.prompt_tokens, judge.usage.output_tokens) == (287, 31)


@pytest.mark.vcr(str(CASSETTES / "pairwise_judge.yaml"))
def test_pairwise_judge_replay_asks_both_orders(vertex: GeminiClient) -> None:
    result = PairwiseJudge(vertex, model="gemini-2.5-flash").compare(
        reference="Det roliga i detta klipp är att hunden låtsas inte se korven och sedan snor den när ingen tittar.",
        candidate="Det roliga i detta klipp är hundens spelade ointresse innan den snor korven. Tajmingen gör det.",
        incumbent="En hund och en korv i ett kök. Det är roligt.",
    )
    assert (result.outcome, result.first, result.second, result.consistent) == ("win", "A", "B", True)


@pytest.mark.vcr(str(CASSETTES / "mechanism_judge.yaml"))
def test_a_changed_judge_request_does_not_replay(vertex: GeminiClient) -> None:
    with pytest.raises(HumortuneError, match="CannotOverwriteExistingCassetteException"):
        MechanismJudge(vertex, model="gemini-2.5-flash").judge(candidate="något annat", reference=OWNER)


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("*.yaml")), ids=lambda p: p.name)
def test_judge_cassettes_are_strict_v1beta1_bodies(path: Path) -> None:
    interactions = yaml.safe_load(path.read_text("utf-8"))["interactions"]
    assert interactions
    for item in interactions:
        request, response = item["request"], item["response"]
        assert request["uri"].endswith(":generateContent") and "/v1beta1/" in request["uri"]
        assert request["headers"]["Content-Type"] == ["application/json"]  # JSON-aware body matching
        _strict("GenerateContentRequest", json.loads(request["body"]))
        _strict("GenerateContentResponse", json.loads(response["body"]["string"]))
        assert "fake-token" not in path.read_text("utf-8") and "Bearer" not in path.read_text("utf-8")


def test_concurrent_identical_questions_reach_the_backend_once() -> None:
    # The race behind varying call counts: two threads asking the same question both missed the cache.
    entered, arrivals = threading.Event(), threading.Barrier(2, timeout=1.0)

    def answer(prompt: str) -> dict[str, str]:
        entered.set()
        with contextlib.suppress(threading.BrokenBarrierError):
            arrivals.wait()  # a second caller arriving here is the bug; alone, this gives up after 1 s
        return {"verdict": "PASS", "reason": "samma"}

    backend = Scripted(answer)
    judge = MechanismJudge(backend, model="judge")
    results: list[bool] = []

    def ask() -> None:
        results.append(judge.judge(candidate="kandidat", reference="ägaren").passed)

    first = threading.Thread(target=ask)
    first.start()
    assert entered.wait(5)
    second = threading.Thread(target=ask)
    second.start()
    first.join(10)
    second.join(10)
    assert results == [True, True]
    assert len(backend.prompts) == 1
    assert (judge.usage.calls, judge.usage.cached) == (1, 1)


def test_a_failed_first_asker_lets_the_waiting_one_retry() -> None:
    calls: list[str] = []

    def answer(prompt: str) -> str:
        calls.append(prompt)
        return "" if len(calls) == 1 else json.dumps({"verdict": "FAIL", "reason": "nej"})

    judge = MechanismJudge(Scripted(answer), model="judge")
    with pytest.raises(JudgeError):
        judge.judge(candidate="kandidat", reference="ägaren")
    assert judge.judge(candidate="kandidat", reference="ägaren").verdict == "FAIL"
    assert len(calls) == 2


def test_identical_compare_runs_make_equal_judge_calls(tmp_path: Path) -> None:
    tuned = "projects/p/locations/us-central1/models/m1@1"

    def run(name: str) -> int:
        settings = Settings(workspace=tmp_path / name)
        corpus = Corpus.open(settings=settings)
        populate_evaluation(corpus, 150, models={tuned: 0.75, "gemini-2.5-flash": 0.45}, seed=11)
        judge = LexicalJudge(position_bias=0.1)
        Evaluator(corpus, settings=settings, judge=judge, analyzer=_no_analyzer, concurrency=8).compare(
            tuned, "gemini-2.5-flash"
        )
        corpus.close()
        return judge.calls

    assert run("one") == run("two") == run("three")


def _no_analyzer(*_: Any, **__: Any) -> Any:
    raise AssertionError("every analysis is cached")
