"""What the validator reports: named rules, issues with file and line, and the report object.

`RULES` is the one table of checks (the docs render it); the numbers each rule reads live in
`humortune.dataset.limits`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from humortune.dataset.limits import LIMITS, Severity
from humortune.errors import DatasetValidationError

__all__ = ["RULES", "Issue", "Rule", "ValidationReport", "VideoFacts", "rules_markdown"]


@dataclass(frozen=True, slots=True)
class Rule:
    """A named check: what it enforces, its severity, and the limit it reads (if any)."""

    name: str
    severity: Severity
    checks: str
    limit: str | None = None


RULES: dict[str, Rule] = {
    r.name: r
    for r in [
        Rule("json", "error", "each line is one JSON object"),
        Rule(
            "top-level-keys",
            "error",
            "top-level keys ⊆ systemInstruction, contents, tools, generationConfig; "
            "no response / request / input_text / output_text / messages",
        ),
        Rule("contents", "error", "`contents` is a non-empty list of {role, parts[]} with non-empty parts"),
        Rule("roles", "error", "roles are user/model and alternate, starting with user"),
        Rule("last-turn-model", "error", "the last turn is the model's answer (role model)"),
        Rule(
            "parts",
            "error",
            "each part holds exactly one of text / fileData (fileUri + mimeType); "
            "no empty text; offsets are Duration strings",
        ),
        Rule("one-video", "error", "exactly one video per example", "videos_per_example"),
        Rule("mime-type", "error", "the video MIME type is one Gemini supports"),
        Rule("uri-scheme", "error", "gs:// URIs when the target is Vertex (file:// is valid offline: warning)"),
        Rule("video-exists", "error", "the referenced object exists in storage"),
        Rule("video-size", "error", "video file ≤ 100 MB", "max_video_bytes"),
        Rule("video-duration", "error", "clip ≤ 20 min at LOW, ≤ 5 min at MEDIUM/HIGH; offsets inside the clip"),
        Rule(
            "media-resolution",
            "error",
            "a valid mediaResolution, one value for the whole dataset "
            "(Gemini 2.5); per-part resolution only on Gemini 3",
        ),
        Rule("tokens-per-example", "error", "estimated tokens per example ≤ 131,072", "max_tokens_per_example"),
        Rule("file-size", "error", "each JSONL file ≤ 1 GB", "max_file_bytes"),
        Rule(
            "example-count",
            "error",
            "≤ 300,000 multimodal examples; warning below 100 (100–500 recommended)",
            "max_multimodal_examples",
        ),
        Rule(
            "validation-size",
            "error",
            "validation ≤ 5000 examples, and ≤ 30% of train above 1000; warning when there is none",
            "max_validation_examples",
        ),
        Rule("split-leakage", "error", "no video appears in two splits"),
        Rule("invalid-rows", "error", "no invalid row at all (Vertex fails the job above 10%)", "max_invalid_fraction"),
        Rule("total-video", "warning", "≤ 1 hour of video per job (the seed's caution)", "max_total_video_seconds"),
        Rule("duplicates", "warning", "no identical rows"),
    ]
}
"""Every rule the validator applies, by name (rendered as the rules table in docs/datasets.md)."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding: the rule, its severity, what is wrong and where (file line when it is one row)."""

    rule: str
    severity: Severity
    message: str
    split: str | None = None
    line: int | None = None
    hint: str | None = None
    file: str | None = None
    """The file's name when it is not ``<split>.jsonl`` (external files)."""

    def __str__(self) -> str:
        where = self.file or (f"{self.split}.jsonl" if self.split else "dataset")
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: {self.severity} [{self.rule}] {self.message}"
        return f"{text} — {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored with the dataset version)."""
        return {k: getattr(self, k) for k in ("rule", "severity", "message", "split", "line", "hint", "file")}


@dataclass(frozen=True, slots=True)
class VideoFacts:
    """What is known about a referenced video. ``None`` means unknown (not checked)."""

    exists: bool | None = None
    size_bytes: int | None = None
    duration_s: float | None = None
    has_audio: bool = True


@dataclass(slots=True)
class ValidationReport:
    """All issues found, with per-split row counts and per-example token estimates."""

    issues: list[Issue] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    invalid_rows: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    """split → (low, high) tokens per valid-shaped example, for the cost estimate."""
    invalid_lines: dict[str, set[int]] = field(default_factory=dict)
    video_seconds: float = 0.0
    media_resolutions: dict[str, int] = field(default_factory=dict)
    unknown_durations: int = 0

    @property
    def errors(self) -> list[Issue]:
        """Issues that make Vertex reject or drop something."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        """Guidance: the job still runs."""
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        """No errors."""
        return not self.errors

    def raise_for_errors(self, item: str | None = None) -> None:
        """Raise `DatasetValidationError` listing every error, if there is any."""
        if self.errors:
            raise DatasetValidationError([str(i) for i in self.errors], item=item)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary stored with the dataset version."""
        return {
            "ok": self.ok,
            "rows": self.rows,
            "invalid_rows": self.invalid_rows,
            "video_seconds": round(self.video_seconds, 3),
            "media_resolutions": self.media_resolutions,
            "issues": [i.to_dict() for i in self.issues],
        }


def rules_markdown() -> str:
    """The validator's rules as a Markdown table (the one in ``docs/datasets.md``; a test keeps them equal)."""
    lines = ["| rule | severity | checks | limit | source |", "|---|---|---|---|---|"]
    for rule in RULES.values():
        limit = LIMITS[rule.limit] if rule.limit else None
        value = f"`{rule.limit}` = {limit.display()}" if limit else ""
        lines.append(f"| `{rule.name}` | {rule.severity} | {rule.checks} | {value} | {limit.source if limit else ''} |")
    return "\n".join(lines)
