"""Client-side mirror of Vertex AI's dataset rules: per-line, named errors and warnings.

Vertex checks a dataset only after the job is created, fails the job when more than 10% of rows are dropped,
and silently drops the rest. So humortune treats every invalid row as an error and reports each one with its
file, line, rule name and what to do. Numbers come from `humortune.dataset.limits`; `RULES` is the table.

```python
report = validate_jsonl({"train": "train.jsonl", "validation": "validation.jsonl"}, base_model="gemini-3.5-flash")
for issue in report.errors:
    print(issue)          # train.jsonl:12: error [one-video] 2 videos in one example; Vertex allows 1 …
```
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

import humortune.catalog as catalog
from humortune.dataset.estimate import example_tokens
from humortune.dataset.issues import RULES, Issue, ValidationReport, VideoFacts
from humortune.dataset.limits import (
    ALLOWED_TOP_LEVEL_KEYS,
    FOREIGN_TOP_LEVEL_KEYS,
    LIMITS,
    MAX_CLIP_SECONDS,
    MEDIA_RESOLUTIONS,
    ROLES,
    SUPPORTED_VIDEO_MIME_TYPES,
    Severity,
    model_family,
)

__all__ = ["RULES", "Issue", "ValidationReport", "Validator", "VideoFacts"]


_DURATION = re.compile(r"^\d+(\.\d+)?s$")
_PART_KEYS = frozenset({"text", "fileData", "videoMetadata", "mediaResolution", "inlineData"})
_FACTS_UNKNOWN = VideoFacts()
_MB = 1024 * 1024


def _mmss(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


class Validator:
    """Checks rows against `RULES`. One instance validates one dataset (all of its splits).

    ``facts`` maps a ``fileUri`` to what is known about it (existence, size, duration, audio); give a
    mapping or a function. ``for_vertex`` makes non-``gs://`` URIs errors instead of warnings.
    """

    def __init__(
        self,
        *,
        base_model: str | None = None,
        for_vertex: bool = True,
        facts: Mapping[str, VideoFacts] | Callable[[str], VideoFacts] | None = None,
        file_names: Mapping[str, str] | None = None,
    ) -> None:
        self.base_model = base_model or catalog.default_base_model().id
        self.file_names = dict(file_names or {})  # split → file name shown in issues (default <split>.jsonl)
        self.family = model_family(self.base_model)
        self._token_cache: dict[tuple[float | None, bool, int, str], tuple[int, int]] = {}
        self.for_vertex = for_vertex
        if facts is None:
            self._facts: Callable[[str], VideoFacts] = lambda _uri: _FACTS_UNKNOWN
        elif callable(facts):
            self._facts = facts
        else:
            self._facts = lambda uri, m=facts: m.get(uri, _FACTS_UNKNOWN)  # type: ignore[misc]
        self._report = ValidationReport()
        # Per-row state is kept small: a 100k-row dataset must not hold 100k sets or tuples for these.
        self._aggregated: dict[tuple[str, Severity, str], list[Any]] = {}  # → [rows, first split, first line]
        self._video_split: dict[str, str] = {}  # fileUri → the first split it was seen in
        self._leaked: dict[str, set[str]] = {}  # fileUri → every split, for the videos in more than one
        self._seen_rows: set[int] = set()
        self._file_bytes: dict[str, int] = {}

    # -- per row ----------------------------------------------------------------------------------

    def check_row(self, row: object, *, split: str = "train", line: int = 1, text: str | None = None) -> list[Issue]:
        """Check one parsed row; returns its row-level issues (also recorded in the report).

        ``text`` is the row's JSONL line when known (used to spot duplicate rows cheaply).
        """
        issues: list[Issue] = []

        def err(rule: str, message: str, hint: str | None = None) -> None:
            issues.append(Issue(rule, "error", message, split, line, hint))

        report = self._report
        report.rows[split] = report.rows.get(split, 0) + 1
        if not isinstance(row, dict):
            err("json", f"expected a JSON object, got {type(row).__name__}")
            return self._finish_row(issues, split, line)
        keys = row.keys()
        if not keys <= ALLOWED_TOP_LEVEL_KEYS:
            for key in sorted(keys - ALLOWED_TOP_LEVEL_KEYS):
                if key in FOREIGN_TOP_LEVEL_KEYS:
                    err(
                        "top-level-keys",
                        f"top-level {key!r} is not valid: {FOREIGN_TOP_LEVEL_KEYS[key]}",
                        'put the answer in the last `contents` item with role "model"',
                    )
                else:
                    err(
                        "top-level-keys",
                        f"unknown top-level key {key!r}",
                        f"allowed: {', '.join(sorted(ALLOWED_TOP_LEVEL_KEYS))}",
                    )
        contents = row.get("contents")
        videos: list[tuple[dict[str, Any], Any]] = []
        text_chars = 0
        if not isinstance(contents, list) or not contents:
            err("contents", "missing or empty `contents`", "each row needs a user turn and a model turn")
        else:
            text_chars = self._check_contents(contents, videos, err)
        system = row.get("systemInstruction")
        if system is not None:
            parts = system.get("parts") if isinstance(system, dict) else None
            if not isinstance(parts, list) or not all(
                isinstance(p, dict) and isinstance(p.get("text"), str) for p in parts
            ):
                err("parts", "`systemInstruction` must be {parts: [{text: …}]}")
            else:
                text_chars += sum(len(p["text"]) for p in parts)
        resolution = self._check_resolution(row.get("generationConfig"), err)
        self._check_video(videos, resolution, text_chars, split, line, err)
        # Exact duplicates: by the line's text when given (the file's bytes), else the canonical row.
        digest = hash(text if text is not None else json.dumps(row, sort_keys=True, ensure_ascii=False))
        if digest in self._seen_rows:
            self._aggregate("duplicates", "warning", "identical rows", split, line)
        else:
            self._seen_rows.add(digest)
        return self._finish_row(issues, split, line)

    def _check_contents(
        self, contents: list[Any], videos: list[tuple[dict[str, Any], Any]], err: Callable[..., None]
    ) -> int:
        chars = 0
        previous = None
        for index, turn in enumerate(contents):
            if not isinstance(turn, dict) or "role" not in turn or "parts" not in turn:
                err("contents", f"contents[{index}] must be an object with `role` and `parts`")
                continue
            role, parts = turn["role"], turn["parts"]
            if len(turn) != 2:
                err("contents", f"contents[{index}] has unknown keys {sorted(set(turn) - {'role', 'parts'})}")
            if role not in ROLES:
                hint = "put system text in `systemInstruction`" if role == "system" else "use user or model"
                err("roles", f"contents[{index}] has role {role!r}; only user and model are allowed", hint)
            elif role == previous:
                err("roles", f"contents[{index}] repeats role {role!r}; turns must alternate user → model")
            elif index == 0 and role != "user":
                err("roles", "the first turn must be the user's (role user)")
            previous = role
            if not isinstance(parts, list) or not parts:
                err("contents", f"contents[{index}] has no parts")
                continue
            for p_index, part in enumerate(parts):
                chars += self._check_part(part, index, p_index, role, videos, err)
        last = contents[-1]
        if isinstance(last, dict) and last.get("role") != "model":
            err(
                "last-turn-model",
                'the last turn must be the model\'s answer (role "model")',
                "end every row with the target text in a model turn",
            )
        return chars

    def _check_part(
        self,
        part: Any,
        index: int,
        p_index: int,
        role: Any,
        videos: list[tuple[dict[str, Any], Any]],
        err: Callable[..., None],
    ) -> int:
        if type(part) is dict and len(part) == 1:  # fast path for the two well-formed shapes
            text = part.get("text")
            if type(text) is str and (role != "model" or text.strip()):
                return len(text)
            data = part.get("fileData")
            if (
                type(data) is dict
                and len(data) == 2
                and type(data.get("fileUri")) is str
                and type(data.get("mimeType")) is str
            ):
                videos.append((data, None))
                return 0
        where = f"contents[{index}].parts[{p_index}]"
        if not isinstance(part, dict):
            err("parts", f"{where} must be an object")
            return 0
        if not part.keys() <= _PART_KEYS:
            err("parts", f"{where} has unknown keys {sorted(part.keys() - _PART_KEYS)}")
        kinds = [k for k in ("text", "fileData", "inlineData") if k in part]
        if len(kinds) != 1:
            err("parts", f"{where} must hold exactly one of text / fileData, has {kinds or 'neither'}")
            return 0
        if kinds[0] == "inlineData":
            err("parts", f"{where} uses inlineData", "store the video and reference it with fileData (gs:// URI)")
            return 0
        if kinds[0] == "text":
            text = part["text"]
            if not isinstance(text, str) or (role == "model" and not text.strip()):
                err("parts", f"{where} has empty or non-string text")
                return 0
            return len(text)
        data = part["fileData"]
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("fileUri"), str)
            or not isinstance(data.get("mimeType"), str)
            or set(data) - {"fileUri", "mimeType"}
        ):
            err("parts", f"{where}.fileData must be exactly {{mimeType, fileUri}} (strings)")
            return 0
        meta = part.get("videoMetadata")
        if meta is not None and (
            not isinstance(meta, dict)
            or set(meta) - {"startOffset", "endOffset"}
            or not all(isinstance(v, str) and _DURATION.match(v) for v in meta.values())
        ):
            err("parts", f'{where}.videoMetadata offsets must be Duration strings like "5s" or "12.5s"')
            meta = None
        if "mediaResolution" in part and self.family != "gemini-3":
            err(
                "media-resolution",
                f"{where} sets a per-part mediaResolution, which needs a Gemini 3 base model",
                "use generationConfig.mediaResolution for the whole dataset",
            )
        videos.append((data, meta))
        return 0

    def _check_resolution(self, config: Any, err: Callable[..., None]) -> str | None:
        if config is None:
            value = None
        elif not isinstance(config, dict):
            err("media-resolution", "generationConfig must be an object")
            return None
        else:
            value = config.get("mediaResolution")
        if value is not None and value not in MEDIA_RESOLUTIONS:
            err("media-resolution", f"unknown mediaResolution {value!r}", f"use one of {', '.join(MEDIA_RESOLUTIONS)}")
            return None
        key = value or "unset"
        self._report.media_resolutions[key] = self._report.media_resolutions.get(key, 0) + 1
        return str(value) if value is not None else None

    def _check_video(
        self,
        videos: list[tuple[dict[str, Any], Any]],
        resolution: str | None,
        text_chars: int,
        split: str,
        line: int,
        err: Callable[..., None],
    ) -> None:
        if len(videos) != 1:
            if videos:
                err(
                    "one-video",
                    f"{len(videos)} videos in one example; Vertex allows 1 per example",
                    "split the example into one row per video",
                )
            else:
                err("one-video", "no video in this example; each example needs exactly one (fileData)")
            return
        data, meta = videos[0]
        uri, mime = data["fileUri"], data["mimeType"]
        if mime not in SUPPORTED_VIDEO_MIME_TYPES:
            err(
                "mime-type",
                f"MIME type {mime!r} is not a supported video type",
                "re-encode to MP4 (video/mp4) or use one of " + ", ".join(sorted(SUPPORTED_VIDEO_MIME_TYPES)),
            )
        scheme = uri.split(":", 1)[0] if ":" in uri else ""
        if scheme == "gs":
            pass
        elif scheme == "file":
            if self.for_vertex:
                err(
                    "uri-scheme",
                    f"{uri} is a local file; Vertex reads gs:// URIs only",
                    'set storage = "gs://bucket/prefix" and run `humortune ingest` and `humortune build` again',
                )
            else:
                self._aggregate(
                    "uri-scheme",
                    "warning",
                    "local file:// videos: valid for offline use, not submittable to Vertex until "
                    'stored in GCS (set storage = "gs://…" and rebuild)',
                    split,
                    line,
                )
        elif scheme in ("http", "https"):
            self._aggregate(
                "uri-scheme",
                "warning",
                "public http(s) video URLs: Vertex must be able to fetch them; gs:// is safer",
                split,
                line,
            )
        else:
            err("uri-scheme", f"unsupported URI {uri!r}", "use gs://bucket/path.mp4")
        first_split = self._video_split.setdefault(uri, split)
        if first_split != split:
            self._leaked.setdefault(uri, {first_split}).add(split)
        facts = self._facts(uri)
        if facts.exists is False:
            err("video-exists", f"video not found in storage: {uri}", "run `humortune ingest` (or fix the URI)")
        elif facts.exists is None and scheme not in ("http", "https"):
            self._aggregate(
                "video-exists", "warning", "videos outside the configured storage were not checked", split, line
            )
        max_bytes = LIMITS["max_video_bytes"].value
        if facts.size_bytes is not None and facts.size_bytes > max_bytes:
            err(
                "video-size",
                f"video is {facts.size_bytes / _MB:.1f} MB; Vertex's limit is {max_bytes / _MB:.0f} MB",
                "drop, downscale or split the clip",
            )
        seconds = facts.duration_s
        if meta:
            start = float(meta.get("startOffset", "0s")[:-1])
            end = float(meta["endOffset"][:-1]) if "endOffset" in meta else seconds
            if end is not None and (start >= end or (seconds is not None and end > seconds + 0.5)):
                err(
                    "video-duration",
                    f"segment {start:g}s–{end:g}s is empty or outside the clip"
                    + (f" ({seconds:g}s)" if seconds is not None else ""),
                )
            seconds = None if end is None else max(0.0, end - start)
        effective = resolution or "MEDIA_RESOLUTION_MEDIUM"  # unset: Vertex's default is not LOW; be strict
        if seconds is None:
            self._report.unknown_durations += 1
            self._aggregate("video-duration", "warning", "video durations unknown, not checked", split, line)
        else:
            self._report.video_seconds += seconds if split != "test" else 0.0
            limit = MAX_CLIP_SECONDS[effective]
            if seconds > limit:
                err(
                    "video-duration",
                    f"clip is {_mmss(seconds)} long; at {effective} Vertex drops examples over {_mmss(limit)}",
                    "trim or split the clip"
                    if effective == "MEDIA_RESOLUTION_LOW"
                    else "trim the clip or use MEDIA_RESOLUTION_LOW (20 min)",
                )
        low, high = self._tokens(seconds, facts.has_audio, text_chars, effective)
        self._report.tokens.setdefault(split, []).append((low, high))
        cap = LIMITS["max_tokens_per_example"].value
        if low > cap:
            err(
                "tokens-per-example",
                f"about {low:,}–{high:,} tokens; the limit is {cap:,.0f} per example",
                "shorten the clip or lower the media resolution",
            )
        elif high > cap:
            self._aggregate(
                "tokens-per-example",
                "warning",
                f"examples may exceed {cap:,.0f} tokens at the high estimate",
                split,
                line,
            )

    def _tokens(self, seconds: float | None, has_audio: bool, chars: int, resolution: str) -> tuple[int, int]:
        # Rows repeat the same (duration, audio, length, resolution) a lot; the formula is pure.
        key = (seconds, has_audio, chars, resolution)
        cached = self._token_cache.get(key)
        if cached is None:
            cached = self._token_cache[key] = example_tokens(
                duration_s=seconds,
                has_audio=has_audio,
                text_chars=chars,
                media_resolution=resolution,
                base_model=self.base_model,
            )
        return cached

    def _finish_row(self, issues: list[Issue], split: str, line: int) -> list[Issue]:
        if issues:
            self._report.issues.extend(issues)
            self._report.invalid_rows[split] = self._report.invalid_rows.get(split, 0) + 1
            self._report.invalid_lines.setdefault(split, set()).add(line)
        return issues

    def _aggregate(self, rule: str, severity: Severity, message: str, split: str, line: int) -> None:
        # Row-level warnings that would repeat on every line are reported once, with a count.
        seen = self._aggregated.get(key := (rule, severity, message))
        if seen is None:
            self._aggregated[key] = [1, split, line]
        else:
            seen[0] += 1

    # -- per dataset ------------------------------------------------------------------------------

    def check_file_size(self, split: str, size_bytes: int) -> None:
        """Record the size of a split's JSONL file (checked against the 1 GB limit in `finish`)."""
        self._file_bytes[split] = size_bytes

    def invalid_line(self, split: str, line: int, message: str) -> None:
        """Record a line that is not JSON at all."""
        self._report.rows[split] = self._report.rows.get(split, 0) + 1
        issue = Issue("json", "error", message, split, line, "each line must be one JSON object")
        self._finish_row([issue], split, line)

    def _add(
        self, rule: str, severity: Severity, message: str, split: str | None = None, *, hint: str | None = None
    ) -> None:
        self._report.issues.append(Issue(rule, severity, message, split, hint=hint))

    def _name(self, split: str) -> str:
        return self.file_names.get(split) or f"{split}.jsonl"

    def finish(self) -> ValidationReport:
        """Apply the dataset-level rules and return the report."""
        report = self._report
        add = report.issues.append
        for (rule, severity, message), (rows, first_split, first_line) in self._aggregated.items():
            first = f"{self._name(first_split)}:{first_line}"
            add(Issue(rule, severity, f"{message} ({rows} row(s), first at {first})"))
        for split, size in self._file_bytes.items():
            cap = LIMITS["max_file_bytes"].value
            if size > cap:
                self._add(
                    "file-size",
                    "error",
                    f"{self._name(split)} is {size / 1024**3:.2f} GB; the limit is 1 GB",
                    split,
                    hint="split the corpus by niche or lower the example count",
                )
        train = report.rows.get("train", 0)
        validation = report.rows.get("validation", 0)
        total = train + validation
        if train == 0:
            self._add(
                "example-count",
                "error",
                "no training examples",
                "train",
                hint="ingest videos for the corrections (`humortune ingest`) and build again",
            )
        elif total > LIMITS["max_multimodal_examples"].value:
            self._add(
                "example-count",
                "error",
                f"{total:,} examples; Vertex allows {LIMITS['max_multimodal_examples'].value:,.0f} multimodal examples",
            )
        elif train < LIMITS["min_recommended_examples"].value:
            self._add(
                "example-count",
                "warning",
                f"only {train} training examples; Google recommends "
                f"{LIMITS['min_recommended_examples'].value:.0f}–{LIMITS['max_recommended_examples'].value:.0f}",
                "train",
                hint="add corrections; quality beats quantity",
            )
        self._validation_size(train, validation)
        for uri, splits in self._leaked.items():
            self._add(
                "split-leakage",
                "error",
                f"video {uri} is in {' and '.join(sorted(splits))}",
                hint="a clip's examples must all be in one split",
            )
        if len({k for k in report.media_resolutions}) > 1:
            mix = ", ".join(f"{k} in {n} row(s)" for k, n in sorted(report.media_resolutions.items()))
            mixed: Severity = "error" if self.family == "gemini-2.5" else "warning"
            self._add(
                "media-resolution",
                mixed,
                f"mixed media resolutions: {mix}",
                hint="Vertex needs one mediaResolution for every train and validation row; rebuild with one",
            )
        cap_s = LIMITS["max_total_video_seconds"].value
        if report.video_seconds > cap_s:
            self._add(
                "total-video",
                "warning",
                f"{report.video_seconds / 3600:.1f} hours of video in train + "
                "validation; the seed cautions against more than 1 hour per job",
                hint="the documented 1 h figure is an inference limit; check the job's cost and time",
            )
        self._invalid_fraction(sum(report.rows.values()))
        if self.file_names:  # external files: name them as the user did
            report.issues = [
                replace(i, file=self.file_names[i.split]) if i.split in self.file_names else i for i in report.issues
            ]
        return report

    def _validation_size(self, train: int, validation: int) -> None:
        if validation == 0:
            self._add(
                "validation-size",
                "warning",
                "no validation set; Vertex strongly recommends one",
                "validation",
                hint="build with a validation share, e.g. --split 0.8,0.2",
            )
            return
        cap = LIMITS["max_validation_examples"].value
        share = LIMITS["max_validation_fraction"].value
        above = LIMITS["validation_fraction_applies_above"].value
        if validation > cap:
            self._add(
                "validation-size",
                "error",
                f"{validation:,} validation examples; the limit is {cap:,.0f}",
                "validation",
                hint="lower the validation share",
            )
        elif validation > above and validation > share * train:
            self._add(
                "validation-size",
                "error",
                f"{validation:,} validation examples is more than {share:.0%} of {train:,} training examples",
                "validation",
                hint="lower the validation share (Vertex caps it at 30% of train above 1000)",
            )

    def _invalid_fraction(self, rows: int) -> None:
        invalid = sum(self._report.invalid_rows.values())
        if not invalid or not rows:
            return
        share = invalid / rows
        cap = LIMITS["max_invalid_fraction"].value
        verdict = (
            f"above {cap:.0%}: Vertex would fail the job before training"
            if share > cap
            else "Vertex would drop them and fail the job above 10%"
        )
        self._add(
            "invalid-rows",
            "error",
            f"{invalid} of {rows} rows ({share:.1%}) are invalid; {verdict}",
            hint="fix or remove every invalid row (see the errors above)",
        )

    def validate(
        self, splits: Mapping[str, Iterable[object]], *, file_bytes: Mapping[str, int] | None = None
    ) -> ValidationReport:
        """Check every row of every split, then the dataset-level rules."""
        for split, rows in splits.items():
            for line, row in enumerate(rows, start=1):
                self.check_row(row, split=split, line=line)
        for split, size in (file_bytes or {}).items():
            self.check_file_size(split, size)
        return self.finish()
