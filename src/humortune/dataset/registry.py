"""Dataset versions in the corpus: load, list, show and diff them. All of the dataset layer's SQL lives here.

Tables (workspace/migrations.py): ``dataset_versions`` (one row per version, with its manifest, validation
and estimate as JSON), ``dataset_examples`` (which correction went into which split, and the hash of its
row) and ``split_assignments`` (the recorded split of every clip, never moved once set).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from humortune.dataset.issues import Issue, VideoFacts
from humortune.errors import DatasetError
from humortune.schema import CostEstimate, DatasetVersion
from humortune.storage import Storage
from humortune.workspace import Corpus
from humortune.workspace.db import Database

__all__ = [
    "DatasetDiff",
    "ExampleRef",
    "SourceRow",
    "diff_versions",
    "list_versions",
    "load_examples",
    "load_sources",
    "load_version",
    "recorded_splits",
    "resolve_version",
    "save_version",
    "storage_key",
    "tuned_video_keys",
    "verify_files",
    "version_manifest",
    "video_facts",
]


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One correction joined with its stored video (if ingested): what the builder needs, nothing more."""

    correction_id: str
    video_key: str
    human_said: str
    record_json: str | None
    niche: str | None
    video_sha256: str | None
    video_uri: str | None
    mime: str | None
    size_bytes: int | None
    duration_s: float | None
    has_audio: bool
    updated_at: str = ""


@dataclass(frozen=True, slots=True)
class ExampleRef:
    """One example of a version: the correction, its video, its split and the hash of its JSONL row."""

    correction_id: str
    video_sha256: str
    split: str
    row_hash: str


@dataclass(slots=True)
class DatasetDiff:
    """What changed between two versions, by correction id."""

    old: str
    new: str
    added: list[ExampleRef] = field(default_factory=list)
    removed: list[ExampleRef] = field(default_factory=list)
    changed: list[tuple[ExampleRef, ExampleRef]] = field(default_factory=list)
    """(old, new) pairs whose row differs (the correction's text, record, video or prompt changed)."""
    moved: list[tuple[ExampleRef, ExampleRef]] = field(default_factory=list)
    """(old, new) pairs whose split differs (only possible via the leakage guard)."""
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        """Whether the two versions hold exactly the same examples."""
        return not (self.added or self.removed or self.changed or self.moved)


_SOURCES_SQL = (
    "SELECT c.id, c.video_key, c.human_said, c.record_json, c.niche, v.sha256, v.uri, v.mime, v.size_bytes,"
    " v.duration_s, v.has_audio, c.updated_at FROM corrections c LEFT JOIN videos v ON v.sha256 = c.video_sha256"
)


def load_sources(corpus: Corpus, *, niche: str | None = None) -> list[SourceRow]:
    """Every correction (optionally of one niche) with its stored video, ordered by correction id."""
    sql: str = _SOURCES_SQL
    params: tuple[str, ...] = ()
    if niche is not None:
        sql, params = sql + " WHERE c.niche = ?", (niche,)
    rows = corpus.db.query(sql + " ORDER BY c.id", params)
    return [SourceRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], bool(r[10]), r[11]) for r in rows]


def latest_per_clip(sources: list[SourceRow]) -> tuple[list[SourceRow], dict[str, str]]:
    """One correction per clip: the owner's latest word wins (a review after the battery, or the reverse).

    Returns the kept rows (in their original order) and ``{superseded correction id: id that replaced it}``.
    Clips are the same when they share a content hash or, before ingest, a canonical video key.
    """
    winner: dict[str, SourceRow] = {}
    for source in sources:
        clip = source.video_sha256 or source.video_key
        best = winner.get(clip)
        if best is None or (source.updated_at, source.correction_id) > (best.updated_at, best.correction_id):
            winner[clip] = source
    kept_ids = {s.correction_id for s in winner.values()}
    superseded = {
        s.correction_id: winner[s.video_sha256 or s.video_key].correction_id
        for s in sources
        if s.correction_id not in kept_ids
    }
    return [s for s in sources if s.correction_id in kept_ids], superseded


def recorded_splits(corpus: Corpus) -> dict[str, str]:
    """The recorded split of every clip: canonical video key → train | validation | test."""
    return {r[0]: r[1] for r in corpus.db.query("SELECT video_key, split FROM split_assignments")}


def tuned_video_keys(corpus: Corpus) -> set[str]:
    """Canonical keys of clips in the train or validation split of a dataset a tuning job or model used."""
    rows = corpus.db.query(
        "SELECT DISTINCT c.video_key FROM dataset_examples e JOIN corrections c ON c.id = e.correction_id"
        " WHERE e.split IN ('train', 'validation') AND e.dataset_id IN"
        " (SELECT dataset_id FROM tuning_jobs WHERE dataset_id IS NOT NULL"
        "  UNION SELECT dataset_id FROM models WHERE dataset_id IS NOT NULL)"
    )
    return {r[0] for r in rows}


def save_version(
    corpus: Corpus,
    version: DatasetVersion,
    *,
    settings: Mapping[str, Any],
    manifest: Mapping[str, Any],
    validation: Mapping[str, Any],
    examples: Iterable[ExampleRef],
    new_splits: Mapping[str, str],
    moved_splits: Mapping[str, str],
    seed: str,
) -> bool:
    """Record a built version, its examples and its new split assignments, in one transaction.

    Returns ``False`` (and records nothing) if another process recorded the same version first.
    """
    now = version.created_at.isoformat(timespec="microseconds")
    db: Database = corpus.db
    with db.transaction() as conn:
        if conn.execute("SELECT 1 FROM dataset_versions WHERE id = ?", (version.id,)).fetchone():
            return False
        conn.executemany(
            "INSERT INTO split_assignments (video_key, split, seed, assigned_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(video_key) DO NOTHING",
            [(k, s, seed, now) for k, s in new_splits.items()],
        )
        conn.executemany(
            "UPDATE split_assignments SET split = ?, assigned_at = ? WHERE video_key = ?",
            [(s, now, k) for k, s in moved_splits.items()],
        )
        conn.execute(
            "INSERT INTO dataset_versions (id, created_at, prompt_version, target_format, media_resolution, niche,"
            " settings_json, manifest_json, estimate_json, validation_json, valid, storage_prefix, train_uri,"
            " validation_uri, test_uri) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                version.id,
                now,
                version.prompt_version,
                version.target_format,
                version.media_resolution,
                version.niche,
                _dumps(settings),
                _dumps(manifest),
                version.estimate.model_dump_json() if version.estimate else None,
                _dumps(validation),
                int(version.valid),
                version.storage_prefix,
                version.train_uri,
                version.validation_uri,
                version.test_uri,
            ),
        )
        conn.executemany(
            "INSERT INTO dataset_examples (dataset_id, correction_id, video_sha256, split, row_hash)"
            " VALUES (?, ?, ?, ?, ?)",
            [(version.id, e.correction_id, e.video_sha256, e.split, e.row_hash) for e in examples],
        )
    return True


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _to_version(row: sqlite3.Row) -> DatasetVersion:
    manifest = json.loads(row["manifest_json"])
    validation = json.loads(row["validation_json"] or "{}")
    issues = validation.get("issues", [])
    estimate = CostEstimate.model_validate_json(row["estimate_json"]) if row["estimate_json"] else None
    return DatasetVersion(
        id=row["id"],
        created_at=datetime.fromisoformat(row["created_at"]),
        prompt_version=row["prompt_version"],
        target_format=row["target_format"],
        media_resolution=row["media_resolution"],
        niche=row["niche"],
        storage_prefix=row["storage_prefix"],
        train_uri=row["train_uri"],
        validation_uri=row["validation_uri"],
        test_uri=row["test_uri"],
        counts=manifest.get("counts", {}),
        valid=bool(row["valid"]),
        errors=[_issue_text(i) for i in issues if i.get("severity") == "error"],
        warnings=[_issue_text(i) for i in issues if i.get("severity") == "warning"] + manifest.get("notes", []),
        estimate=estimate,
    )


def _issue_text(issue: Mapping[str, Any]) -> str:
    return str(
        Issue(
            str(issue.get("rule")),
            "error" if issue.get("severity") == "error" else "warning",
            str(issue.get("message")),
            issue.get("split"),
            issue.get("line"),
            issue.get("hint"),
        )
    )


def load_version(corpus: Corpus, version_id: str) -> DatasetVersion | None:
    """One version by exact id, or ``None``."""
    row = corpus.db.query_one("SELECT * FROM dataset_versions WHERE id = ?", (version_id,))
    return _to_version(row) if row else None


def resolve_version(corpus: Corpus, ref: str | None = None) -> DatasetVersion:
    """A version by id, unique id prefix, or ``None``/``"latest"`` for the newest. Raises `DatasetError`."""
    if ref in (None, "", "latest"):
        row = corpus.db.query_one("SELECT * FROM dataset_versions ORDER BY created_at DESC, id LIMIT 1")
        if row is None:
            raise DatasetError("no dataset version yet", hint="run `humortune build` (or `humortune prepare`)")
        return _to_version(row)
    assert ref is not None
    rows = corpus.db.query(
        "SELECT * FROM dataset_versions WHERE id = ? OR id LIKE ? ESCAPE '\\' ORDER BY id",
        (ref, ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"),
    )
    exact = [r for r in rows if r["id"] == ref]
    if exact or len(rows) == 1:
        return _to_version((exact or rows)[0])
    if not rows:
        raise DatasetError(f"no dataset version {ref!r}", hint="see `humortune datasets list`", item=ref)
    raise DatasetError(f"{ref!r} matches {len(rows)} versions", hint="give more characters of the id", item=ref)


def list_versions(corpus: Corpus) -> list[DatasetVersion]:
    """Every version, newest first."""
    rows = corpus.db.query("SELECT * FROM dataset_versions ORDER BY created_at DESC, id")
    return [_to_version(r) for r in rows]


def load_examples(corpus: Corpus, version_id: str) -> list[ExampleRef]:
    """The examples of one version, by correction id."""
    rows = corpus.db.query(
        "SELECT correction_id, video_sha256, split, row_hash FROM dataset_examples WHERE dataset_id = ?"
        " ORDER BY correction_id",
        (version_id,),
    )
    return [ExampleRef(r[0], r[1], r[2], r[3]) for r in rows]


def version_manifest(corpus: Corpus, version_id: str) -> dict[str, Any]:
    """The manifest and build settings recorded with a version."""
    row = corpus.db.query_one(
        "SELECT manifest_json, settings_json, validation_json FROM dataset_versions WHERE id = ?", (version_id,)
    )
    if row is None:
        raise DatasetError(f"no dataset version {version_id!r}", item=version_id)
    return {
        "manifest": json.loads(row[0]),
        "settings": json.loads(row[1]),
        "validation": json.loads(row[2] or "{}"),
    }


def diff_versions(corpus: Corpus, old: str, new: str) -> DatasetDiff:
    """Added, removed, changed and moved examples from version ``old`` to version ``new``."""
    a = resolve_version(corpus, old).id
    b = resolve_version(corpus, new).id
    before = {e.correction_id: e for e in load_examples(corpus, a)}
    after = {e.correction_id: e for e in load_examples(corpus, b)}
    result = DatasetDiff(old=a, new=b)
    for cid in sorted(before.keys() | after.keys()):
        x, y = before.get(cid), after.get(cid)
        if x is None and y is not None:
            result.added.append(y)
        elif y is None and x is not None:
            result.removed.append(x)
        elif x is not None and y is not None:
            if x.split != y.split:
                result.moved.append((x, y))
            if x.row_hash != y.row_hash:
                result.changed.append((x, y))
            elif x.split == y.split:
                result.unchanged += 1
    return result


def verify_files(corpus: Corpus, storage: Storage, version_id: str) -> dict[str, str]:
    """What is wrong with a version's JSONL files in ``storage``, by split: missing, or not the bytes that
    were built. Files outside ``storage`` (the storage moved since) are not checked."""
    files: dict[str, Any] = version_manifest(corpus, version_id)["manifest"].get("files", {})
    problems: dict[str, str] = {}
    for split, meta in files.items():
        key = storage_key(storage, meta["uri"])
        if key is None:
            continue
        info = storage.stat(key)
        if info is None:
            problems[split] = f"{meta['uri']} is missing"
        elif info.size != meta["bytes"] or (info.sha256 is not None and info.sha256 != meta["sha256"]):
            problems[split] = f"{meta['uri']} is not the file that was built (size or sha256 differ)"
    return problems


def storage_key(storage: Storage, uri: str) -> str | None:
    """The object key of ``uri`` in ``storage``, or ``None`` if the URI is not under its root."""
    root = storage.root_uri.rstrip("/") + "/"
    if not uri.startswith(root):
        return None
    key = uri[len(root) :]
    return unquote(key) if root.startswith("file:") else key


def video_facts(corpus: Corpus, storage: Storage) -> Callable[[str], VideoFacts]:
    """What the corpus and storage know about a video URI, for validating JSONL that refers to it.

    Probe facts (size, duration, audio) come from the corpus' videos table; existence from ``storage`` for
    URIs under its root, from the file system for other ``file://`` URIs; anything else is unknown.
    """
    known = {r[0]: r for r in corpus.db.query("SELECT uri, size_bytes, duration_s, has_audio FROM videos")}
    cache: dict[str, VideoFacts] = {}

    def facts(uri: str) -> VideoFacts:
        if uri in cache:
            return cache[uri]
        row = known.get(uri)
        exists: bool | None = None
        size = int(row[1]) if row else None
        key = storage_key(storage, uri)
        if key is not None:
            exists = storage.exists(key)
        elif uri.startswith("file:"):
            path = Path(unquote(urlsplit(uri).path))
            exists = path.is_file()
            size = path.stat().st_size if exists and size is None else size
        result = VideoFacts(
            exists=exists,
            size_bytes=size,
            duration_s=float(row[2]) if row else None,
            has_audio=bool(row[3]) if row else True,
        )
        cache[uri] = result
        return result

    return facts
