"""`validate_jsonl`: the `Validator` over JSONL files a user wrote or another tool made (``humortune validate``)."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from humortune.dataset.issues import ValidationReport, VideoFacts
from humortune.dataset.validator import Validator

__all__ = ["validate_jsonl"]


def validate_jsonl(
    files: Mapping[str, str | os.PathLike[str] | bytes],
    *,
    base_model: str | None = None,
    for_vertex: bool = True,
    facts: Mapping[str, VideoFacts] | Callable[[str], VideoFacts] | None = None,
) -> ValidationReport:
    """Validate JSONL (split name → path, or the file's bytes), e.g. a file a user wrote or another tool made."""
    names = {split: Path(source).name for split, source in files.items() if not isinstance(source, bytes)}
    validator = Validator(
        base_model=base_model,
        for_vertex=for_vertex,
        facts=facts,
        file_names={split: name for split, name in names.items() if name != f"{split}.jsonl"},
    )
    for split, source in files.items():
        if isinstance(source, bytes):
            validator.check_file_size(split, len(source))
            _check_lines(validator, split, io.BytesIO(source))
        else:
            path = Path(source)
            validator.check_file_size(split, path.stat().st_size)
            with open(path, "rb") as fh:
                _check_lines(validator, split, fh)
    return validator.finish()


def _check_lines(validator: Validator, split: str, lines: Iterable[bytes]) -> None:
    for line_no, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            validator.invalid_line(split, line_no, f"not UTF-8 text (byte {exc.start})")
            continue
        if not text:
            validator.invalid_line(split, line_no, "empty line")
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            validator.invalid_line(split, line_no, f"not valid JSON: {exc.msg} at column {exc.colno}")
            continue
        validator.check_row(row, split=split, line=line_no, text=text)
