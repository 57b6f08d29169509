"""Model judges: a humour-mechanism PASS/FAIL judge and a position-debiased pairwise preference judge.

Both ask a base Gemini model for JSON through ``response_schema`` at temperature 0 and keep a one-line
reason. The pairwise judge is asked twice with the two answers swapped; when the two orders disagree the
clip counts as a tie, so a judge that favours whichever answer comes first cannot manufacture wins.

A judge takes any object with a ``generate(*, model, prompt, system_instruction, response_schema,
temperature)`` method returning something with ``.text`` (`humortune.gemini.GeminiClient`), or a plain
function with the same keyword arguments returning the text. Verdicts are cached by the hash of everything
that went into them (in memory, and in a JSONL file when ``cache_path`` is given), so re-running an
evaluation does not pay for the same judgement twice.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from humortune._util import short_hash
from humortune.errors import JudgeError
from humortune.evaluator.metrics import rouge_l
from humortune.evaluator.stats import Outcome
from humortune.schema import extract_json_object

__all__ = [
    "JUDGE_PROMPT_VERSION",
    "GenerateClient",
    "JudgeBackend",
    "JudgeUsage",
    "LexicalJudge",
    "MechanismJudge",
    "MechanismJudgement",
    "MechanismVerdict",
    "NotCached",
    "PairwiseJudge",
    "PairwiseJudgement",
    "PreferenceVerdict",
    "cache_only",
    "combine_orders",
]


class MechanismVerdict(BaseModel):
    """The response schema of the mechanism judge."""

    model_config = ConfigDict(extra="ignore")

    verdict: Literal["PASS", "FAIL"] = Field(
        description="PASS if the candidate names the same humour mechanism as the owner, else FAIL."
    )
    reason: str = Field(description="One line: why.")


class PreferenceVerdict(BaseModel):
    """The response schema of the pairwise judge."""

    model_config = ConfigDict(extra="ignore")

    preferred: Literal["A", "B", "TIE"] = Field(
        description="Which explanation is closer to the owner's reading: A, B, or TIE."
    )
    reason: str = Field(description="One line: why.")


MECHANISM_SYSTEM = (
    "You grade explanations of why short videos are funny. The owner's explanation is the ground truth. "
    "Texts may be in Swedish or English; judge meaning, not wording or language. Be strict: a vague or "
    "generic explanation ('it is funny and relatable') does not name a mechanism."
)
MECHANISM_PROMPT = (
    "Owner's explanation (ground truth):\n<<<\n{reference}\n>>>\n\n"
    "Candidate explanation:\n<<<\n{candidate}\n>>>\n\n"
    "Does the candidate name the same humour mechanism as the owner — the same reason the clip is funny "
    "(for example a subverted expectation, exaggeration, awkward recognition, a reversal)? What happens in "
    "the clip and the wording do not matter; the mechanism does. Answer PASS or FAIL with a one-line reason."
)
PAIRWISE_SYSTEM = (
    "You compare two explanations of why a short video is funny against the owner's own explanation, which "
    "is the ground truth. Texts may be in Swedish or English. The order of A and B means nothing."
)
PAIRWISE_PROMPT = (
    "Owner's explanation (ground truth):\n<<<\n{reference}\n>>>\n\n"
    "Explanation A:\n<<<\n{a}\n>>>\n\n"
    "Explanation B:\n<<<\n{b}\n>>>\n\n"
    "Which explanation is closer to the owner's reading of the clip: the same humour mechanism, the same "
    "reasons it works, and nothing the owner would reject? Answer A, B or TIE with a one-line reason."
)
JUDGE_PROMPT_VERSION = "j-" + short_hash([MECHANISM_SYSTEM, MECHANISM_PROMPT, PAIRWISE_SYSTEM, PAIRWISE_PROMPT])
"""Changes whenever a judge prompt changes, so calibrations and cached verdicts follow the prompt."""

_REASON_MAX = 240


class _GenerationLike(Protocol):
    @property
    def text(self) -> str: ...


class GenerateClient(Protocol):
    """What a judge needs from a Gemini client (`humortune.gemini.GeminiClient` fits)."""

    def generate(
        self,
        *,
        model: str,
        prompt: str,
        system_instruction: str | None = ...,
        response_schema: type[BaseModel] | None = ...,
        temperature: float = ...,
    ) -> _GenerationLike: ...


JudgeBackend = GenerateClient | Callable[..., Any]
"""A Gemini-client-like object, or a function taking the same keyword arguments and returning text."""


class NotCached(Exception):
    """Raised inside `cache_only` by a question whose answer is not cached yet."""


class _CacheHits:
    """The judges that answered from their cache inside `cache_only`: counted at `commit`, or dropped."""

    def __init__(self) -> None:
        self.judges: list[_Judge] = []

    def commit(self) -> None:
        """Count the hits since the last commit or discard as cached (the work they were for is done)."""
        for judge in set(self.judges):
            judge._count_cached(self.judges.count(judge))
        self.judges.clear()

    def discard(self) -> None:
        """Forget the hits since the last commit or discard (the work stopped at a miss and is redone later)."""
        self.judges.clear()


class _CacheOnly(threading.local):
    def __init__(self) -> None:
        self.hits: _CacheHits | None = None


_CACHE_ONLY = _CacheOnly()


@contextmanager
def cache_only() -> Iterator[_CacheHits]:
    """On this thread, judges answer only from their cache inside the block: a question that is not cached
    raises `NotCached` instead of calling the model. Hits count as cached (`JudgeUsage.cached`) only when the
    caller ``commit()``s the yielded hits (or ``discard()``s them: work abandoned at a miss is redone later)."""
    outer, _CACHE_ONLY.hits = _CACHE_ONLY.hits, _CacheHits()
    try:
        yield _CACHE_ONLY.hits
    finally:
        _CACHE_ONLY.hits = outer


@dataclass(slots=True)
class JudgeUsage:
    """Calls and tokens a judge spent (cached verdicts cost nothing)."""

    calls: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0

    def since(self, before: JudgeUsage) -> JudgeUsage:
        """What was spent after ``before`` (a copy taken earlier)."""
        return JudgeUsage(
            self.calls - before.calls,
            self.cached - before.cached,
            self.prompt_tokens - before.prompt_tokens,
            self.output_tokens - before.output_tokens,
        )

    def copy(self) -> JudgeUsage:
        """A snapshot."""
        return JudgeUsage(self.calls, self.cached, self.prompt_tokens, self.output_tokens)

    def as_dict(self) -> dict[str, int]:
        """JSON-ready form."""
        return {
            "calls": self.calls,
            "cached": self.cached,
            "prompt_tokens": self.prompt_tokens,
            "output_tokens": self.output_tokens,
        }


@dataclass(frozen=True, slots=True)
class MechanismJudgement:
    """PASS/FAIL for one candidate explanation, with the judge's one-line reason."""

    verdict: Literal["PASS", "FAIL"]
    reason: str

    @property
    def passed(self) -> bool:
        """Whether the judge said PASS."""
        return self.verdict == "PASS"


@dataclass(frozen=True, slots=True)
class PairwiseJudgement:
    """The candidate's outcome against the incumbent, from both presentation orders.

    ``first`` is the judge's answer with the candidate shown as A, ``second`` with the candidate shown as
    B. ``outcome`` is for the candidate; ``consistent`` is False when the two orders disagreed (→ tie).
    """

    outcome: Outcome
    first: Literal["A", "B", "TIE"]
    second: Literal["A", "B", "TIE"]
    reasons: tuple[str, str]
    consistent: bool


def combine_orders(first: Literal["A", "B", "TIE"], second: Literal["A", "B", "TIE"]) -> tuple[Outcome, bool]:
    """Candidate outcome from both orders: candidate is A in ``first`` and B in ``second``.

    Agreement gives that outcome; disagreement (including one TIE) gives a tie, flagged inconsistent.
    """
    as_first: Outcome = {"A": "win", "B": "loss", "TIE": "tie"}[first]  # type: ignore[assignment]
    as_second: Outcome = {"A": "loss", "B": "win", "TIE": "tie"}[second]  # type: ignore[assignment]
    if as_first == as_second:
        return as_first, True
    return "tie", False


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _REASON_MAX else line[: _REASON_MAX - 1] + "…"


class _Judge:
    def __init__(
        self,
        backend: JudgeBackend,
        *,
        model: str,
        cache_path: str | Path | None = None,
    ) -> None:
        self.backend = backend
        self.model = model
        """The judge model (a base Gemini model name)."""
        self.usage = JudgeUsage()
        """What this judge has spent so far."""
        self._cache: dict[str, dict[str, Any]] = {}
        self._cache_path = Path(cache_path) if cache_path else None
        self._lock = threading.Lock()
        self._pending: dict[str, threading.Event] = {}
        if self._cache_path and self._cache_path.is_file():
            for line in self._cache_path.read_text("utf-8").splitlines():
                try:  # a crash mid-append leaves at most one torn last line: skip it
                    entry = json.loads(line)
                    self._cache[entry["key"]] = entry["value"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue

    @property
    def version(self) -> str:
        """Judge identity for calibration records: model and prompt version."""
        return f"{self.model}@{JUDGE_PROMPT_VERSION}"

    def _ask(self, schema: type[BaseModel], system: str, prompt: str) -> dict[str, Any]:
        key = short_hash([self.model, JUDGE_PROMPT_VERSION, schema.__name__, system, prompt], 24)
        # One call per question even under concurrency: a second asker waits for the first instead of
        # also missing the cache (that race made identical runs spend different numbers of calls).
        hits = _CACHE_ONLY.hits
        with self._lock:
            if key in self._cache:
                if hits is not None:
                    hits.judges.append(self)
                else:
                    self.usage.cached += 1
                return self._cache[key]
            if hits is not None:
                raise NotCached(key)
            pending = self._pending.get(key)
            if pending is None:
                self._pending[key] = done = threading.Event()
        if pending is not None:
            pending.wait()
            return self._ask(schema, system, prompt)  # cached now, or the first asker failed: ask again
        try:
            value = self._call(schema, system, prompt).model_dump()
            with self._lock:
                self._cache[key] = value
                if self._cache_path is not None:
                    self._cache_path.parent.mkdir(parents=True, exist_ok=True)
                    with self._cache_path.open("a", encoding="utf-8") as fh:
                        fh.write(json.dumps({"key": key, "value": value}, ensure_ascii=False) + "\n")
        finally:
            with self._lock:
                del self._pending[key]
            done.set()
        return value

    def _count_cached(self, n: int) -> None:
        with self._lock:
            self.usage.cached += n

    def _call(self, schema: type[BaseModel], system: str, prompt: str) -> BaseModel:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "prompt": prompt,
            "system_instruction": system,
            "response_schema": schema,
            "temperature": 0.0,
        }
        generate = getattr(self.backend, "generate", None)
        result = generate(**kwargs) if callable(generate) else self.backend(**kwargs)  # type: ignore[operator]
        text = result if isinstance(result, str) else getattr(result, "text", None)
        with self._lock:
            self.usage.calls += 1
            usage = getattr(result, "usage", None)
            self.usage.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
            self.usage.output_tokens += int(getattr(usage, "output_tokens", 0) or 0)
        if not isinstance(text, str) or not text.strip():
            raise JudgeError(
                "the judge returned no text",
                hint="check the judge model name and its safety filters; rerun to retry",
                item=self.model,
            )
        try:
            return schema.model_validate_json(text)
        except ValidationError:
            data = extract_json_object(text)
            try:
                return schema.model_validate(data or {})
            except ValidationError as exc:
                raise JudgeError(
                    f"the judge's answer does not fit {schema.__name__}: {text[:120]!r}",
                    hint="the judge must answer with the requested JSON; check the model supports response_schema",
                    item=self.model,
                ) from exc


class MechanismJudge(_Judge):
    """Does a candidate explanation name the same humour mechanism as the owner's correction?

    ```python
    judge = MechanismJudge(client, model="gemini-3.5-flash")
    judge.judge(candidate="Det roliga är ...", reference=correction.human_said).passed
    ```
    """

    def judge(self, *, candidate: str, reference: str) -> MechanismJudgement:
        """PASS/FAIL with a one-line reason."""
        value = self._ask(
            MechanismVerdict,
            MECHANISM_SYSTEM,
            MECHANISM_PROMPT.format(reference=reference.strip(), candidate=candidate.strip()),
        )
        return MechanismJudgement(verdict=value["verdict"], reason=_one_line(value["reason"]))


class PairwiseJudge(_Judge):
    """Which of two explanations is closer to the owner's? Asked in both orders to cancel position bias.

    ```python
    judge = PairwiseJudge(client, model="gemini-3.5-flash")
    judge.compare(reference=owner_text, candidate=new_text, incumbent=old_text).outcome  # "win"|"tie"|"loss"
    ```
    """

    def prefer(self, *, reference: str, a: str, b: str) -> tuple[Literal["A", "B", "TIE"], str]:
        """One presentation order: the judge's raw choice and reason."""
        value = self._ask(
            PreferenceVerdict,
            PAIRWISE_SYSTEM,
            PAIRWISE_PROMPT.format(reference=reference.strip(), a=a.strip(), b=b.strip()),
        )
        return value["preferred"], _one_line(value["reason"])

    def compare(self, *, reference: str, candidate: str, incumbent: str) -> PairwiseJudgement:
        """The candidate's outcome: both orders asked, disagreement counted as a tie."""
        first, reason_1 = self.prefer(reference=reference, a=candidate, b=incumbent)
        second, reason_2 = self.prefer(reference=reference, a=incumbent, b=candidate)
        outcome, consistent = combine_orders(first, second)
        return PairwiseJudgement(
            outcome=outcome, first=first, second=second, reasons=(reason_1, reason_2), consistent=consistent
        )


_SECTION = re.compile(r"<<<\n(.*?)\n>>>", re.DOTALL)


class LexicalJudge:
    """An offline judge backend: deterministic, no model, agrees with ROUGE-L against the owner.

    PASS when the candidate's ROUGE-L against the owner's text reaches ``threshold``; in pairwise prompts the
    closer answer (a tie within ``tie_margin``). ``position_bias`` (0–1) is the share of pairwise prompts on
    which it answers "A" whatever the texts say, chosen by a hash of the prompt so it is reproducible (it
    exercises the position swap). Pass it where a judge takes a backend: ``Evaluator(corpus, judge=LexicalJudge())``
    evaluates with no cloud, for demos, CI and workspaces without credentials.
    """

    def __init__(self, *, threshold: float = 0.5, tie_margin: float = 0.02, position_bias: float = 0.0) -> None:
        self.threshold = threshold
        self.tie_margin = tie_margin
        self.position_bias = position_bias
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, *, model: str, prompt: str, response_schema: Any = None, **_: Any) -> str:
        """Answer one judge prompt (the keyword arguments of `GenerateClient.generate`) with its JSON text."""
        with self._lock:
            self.calls += 1
        sections = _SECTION.findall(prompt)
        if getattr(response_schema, "__name__", "") == "PreferenceVerdict" or len(sections) == 3:
            return self._prefer(prompt, *sections)
        reference, candidate = sections
        score = rouge_l(candidate, reference)
        verdict = "PASS" if score >= self.threshold else "FAIL"
        return json.dumps({"verdict": verdict, "reason": f"word overlap with the owner {score:.2f}"})

    def _prefer(self, prompt: str, reference: str, a: str, b: str) -> str:
        if int(short_hash(["bias", prompt], 8), 16) / 16**8 < self.position_bias:
            return json.dumps({"preferred": "A", "reason": "A reads better (first position)"})
        sa, sb = rouge_l(a, reference), rouge_l(b, reference)
        if abs(sa - sb) <= self.tie_margin:
            return json.dumps({"preferred": "TIE", "reason": "both are equally close to the owner"})
        return json.dumps(
            {"preferred": "A" if sa > sb else "B", "reason": f"closer to the owner ({sa:.2f} vs {sb:.2f})"}
        )
