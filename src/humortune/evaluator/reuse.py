"""A rerun whose inputs are unchanged reuses the stored evaluation instead of re-deriving it (issue 13).

The fingerprint covers everything the figures depend on: the clips as the owner wrote them, every
system's answer (analysis id, text, record, error), the test set, the models, the judge model and prompt
revision, the latest calibrations, seed, bootstrap count, gate policy, the report folder, and the
evaluator's own source code (any change to the scorer recomputes). The finished report is kept in
``<workspace>/cache/evaluations/<fingerprint>.pickle``; a damaged or unreadable entry is simply recomputed.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from humortune._util import atomic_write, canonical_json
from humortune._version import __version__
from humortune.errors import HumortuneError
from humortune.evaluator.judge import JudgeUsage
from humortune.evaluator.results import ClipResult, EvaluationReport

__all__ = ["StoredRun", "as_rerun", "code_revision", "fingerprint", "load_run", "save_run", "still_stored"]

if TYPE_CHECKING:  # pragma: no cover
    from humortune.storage.base import Storage
    from humortune.workspace.stores import EvaluationStore

_PACKAGE = Path(__file__).resolve().parent
# What unpickling a damaged or foreign file raises; any of them means "recompute".
_UNREADABLE = (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError, ValueError, IndexError)


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A finished evaluation: the report, the digest of its files, and their storage key."""

    report: EvaluationReport
    digest: str
    report_key: str


@lru_cache(maxsize=1)
def code_revision() -> str:
    """sha256 of the evaluator package's sources and templates: editing the scorer invalidates every entry."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(p for p in _PACKAGE.rglob("*") if p.is_file() and p.suffix in (".py", ".html", ".j2")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _field(value: str | None) -> bytes:
    # length-prefixed, so no text can imitate a field boundary
    data = (value or "").encode("utf-8", "surrogatepass")
    return b"%d:" % len(data) + data


def fingerprint(parts: list[Any], clips: list[ClipResult]) -> str:
    """The hex digest of the run's settings (``parts``, JSON-able) and of every clip and answer."""
    digest = hashlib.sha256(canonical_json([code_revision(), parts]).encode("utf-8", "surrogatepass"))
    for clip in clips:
        owner_record = clip.owner_record.model_dump_json() if clip.owner_record else None
        fields = [clip.correction_id, clip.video_key, clip.video_sha256, clip.niche, clip.category, clip.owner]
        fields.append(owner_record)
        for role, answer in sorted(clip.answers.items()):
            record = answer.record.model_dump_json() if answer.record else None
            fields += [role, answer.analysis_id, answer.text, record, answer.error]
        digest.update(b"%d|" % len(fields) + b"".join(_field(f) for f in fields))
    return digest.hexdigest()


def _path(folder: Path, key: str) -> Path:
    return folder / f"{key}.pickle"


def load_run(folder: Path, key: str) -> StoredRun | None:
    """The stored run under this fingerprint, or None (missing, damaged, or from an older layout)."""
    try:
        run = pickle.loads(_path(folder, key).read_bytes())
    except _UNREADABLE:
        return None
    return run if isinstance(run, StoredRun) and isinstance(run.report, EvaluationReport) else None


def save_run(folder: Path, key: str, run: StoredRun) -> None:
    """Keep a finished run under its fingerprint (atomically: a crash leaves the old entry or none)."""
    with atomic_write(_path(folder, key), "wb") as fh:
        pickle.dump(run, fh, protocol=pickle.HIGHEST_PROTOCOL)


def as_rerun(run: StoredRun, cost_usd: float | None) -> StoredRun:
    """A copy of a finished run as a rerun shows it: every judge verdict cached, nothing spent (``cost_usd``
    is what no tokens cost)."""
    copy: StoredRun = pickle.loads(pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL))
    for info in copy.report.judges.values():
        if isinstance(info, dict) and "usage" in info:
            asked = info["usage"]["calls"] + info["usage"]["cached"]
            info["usage"], info["cost_usd"] = JudgeUsage(cached=asked).as_dict(), cost_usd
    return copy


def still_stored(
    run: StoredRun, report_dir: Path, storage: Callable[[], Storage], evaluations: EvaluationStore
) -> bool:
    """Whether the run's report files (local and in storage) and its stored evaluation are all still there."""
    from humortune.evaluator.report import shows_report  # jinja2 only when a report is at stake

    if not shows_report(report_dir / run.report.id, run.digest):
        return False
    try:
        earlier = evaluations.get(run.report.id)
        return earlier is not None and earlier.report_key == run.report_key and storage().exists(run.report_key)
    except HumortuneError:  # storage unreachable: the full path says so in the report's warnings
        return False
