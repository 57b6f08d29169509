"""The ``dataset_versions``, ``dataset_examples`` and ``split_assignments`` tables.

The store returns what was recorded (`DatasetRecord`, decoded JSON included); turning a record into the
dataset layer's `DatasetVersion` (its issue texts come from the validator) stays in ``humortune.dataset``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from humortune.schema import CostEstimate
from humortune.workspace.stores._base import Store, dumps, like_prefix, loads_dict, now_text, parse_time, time_text

__all__ = ["DatasetExample", "DatasetRecord", "DatasetStore", "SplitName"]

SplitName = Literal["train", "validation", "test"]


@dataclass(frozen=True, slots=True)
class DatasetExample:
    """One example of a version: the correction, its video, its split and the hash of its JSONL row.

    A slotted dataclass, not a pydantic model: versions hold thousands of these and they come from our own rows.
    """

    correction_id: str
    video_sha256: str
    split: str
    row_hash: str


class DatasetRecord(BaseModel):
    """A recorded dataset version, with its settings, manifest and validation blobs decoded."""

    model_config = ConfigDict(frozen=True)

    id: str
    created_at: datetime
    prompt_version: str
    target_format: str
    media_resolution: str
    niche: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    manifest: dict[str, Any] = Field(default_factory=dict)
    estimate: CostEstimate | None = None
    validation: dict[str, Any] = Field(default_factory=dict)
    valid: bool = False
    storage_prefix: str
    train_uri: str | None = None
    validation_uri: str | None = None
    test_uri: str | None = None


class DatasetStore(Store):
    """Record built versions with their examples and split assignments; read them back."""

    def exists(self, dataset_id: str | None) -> bool:
        """Whether a version with this id is recorded."""
        if not dataset_id:
            return False
        return self.db.query_one("SELECT 1 FROM dataset_versions WHERE id = ?", (dataset_id,)) is not None

    def save(
        self,
        record: DatasetRecord,
        examples: Iterable[DatasetExample],
        *,
        new_splits: Mapping[str, str],
        moved_splits: Mapping[str, str],
        seed: str,
    ) -> bool:
        """Record a version, its examples and split changes in one transaction; ``False`` if it was there."""
        now = time_text(record.created_at)
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM dataset_versions WHERE id = ?", (record.id,)).fetchone():
                return False
            conn.executemany(  # in key order: the index grows at its end, not by 100k random page writes
                "INSERT INTO split_assignments (video_key, split, seed, assigned_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(video_key) DO NOTHING",
                [(key, split, seed, now) for key, split in sorted(new_splits.items())],
            )
            conn.executemany(
                "UPDATE split_assignments SET split = ?, assigned_at = ? WHERE video_key = ?",
                [(split, now, key) for key, split in moved_splits.items()],
            )
            conn.execute(
                "INSERT INTO dataset_versions (id, created_at, prompt_version, target_format, media_resolution,"
                " niche, settings_json, manifest_json, estimate_json, validation_json, valid, storage_prefix,"
                " train_uri, validation_uri, test_uri) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _version_values(record, now),
            )
            conn.executemany(
                "INSERT INTO dataset_examples (dataset_id, correction_id, video_sha256, split, row_hash)"
                " VALUES (?, ?, ?, ?, ?)",
                [(record.id, e.correction_id, e.video_sha256, e.split, e.row_hash) for e in examples],
            )
        return True

    def get(self, dataset_id: str) -> DatasetRecord | None:
        """One version by exact id."""
        row = self.db.query_one("SELECT * FROM dataset_versions WHERE id = ?", (dataset_id,))
        return _record(row) if row is not None else None

    def latest(self) -> DatasetRecord | None:
        """The newest version."""
        row = self.db.query_one("SELECT * FROM dataset_versions ORDER BY created_at DESC, id LIMIT 1")
        return _record(row) if row is not None else None

    def matching(self, ref: str) -> list[DatasetRecord]:
        """Versions whose id is ``ref`` or starts with it, by id (the caller decides what is ambiguous)."""
        rows = self.db.query(
            "SELECT * FROM dataset_versions WHERE id = ? OR id LIKE ? ESCAPE '\\' ORDER BY id",
            (ref, like_prefix(ref)),
        )
        return [_record(r) for r in rows]

    def all(self) -> list[DatasetRecord]:
        """Every version, newest first."""
        return [_record(r) for r in self.db.query("SELECT * FROM dataset_versions ORDER BY created_at DESC, id")]

    def with_prompt_version(self, prompt_version: str) -> list[DatasetRecord]:
        """Versions built with this prompt version (legacy workspaces keep the prompt text only in their blobs)."""
        rows = self.db.query(
            "SELECT * FROM dataset_versions WHERE prompt_version = ? ORDER BY created_at, id", (prompt_version,)
        )
        return [_record(r) for r in rows]

    def examples(self, dataset_id: str, *, split: str | None = None) -> list[DatasetExample]:
        """The examples of one version (optionally one split), by correction id."""
        sql = "SELECT correction_id, video_sha256, split, row_hash FROM dataset_examples WHERE dataset_id = ?"
        params: tuple[str, ...] = (dataset_id,)
        if split is not None:
            sql, params = sql + " AND split = ?", (dataset_id, split)
        rows = self.db.query(sql + " ORDER BY correction_id", params)
        return [DatasetExample(r[0], r[1], r[2], r[3]) for r in rows]

    def leaked_examples(self, dataset_id: str) -> list[DatasetExample]:
        """Train/validation examples of a version whose clip is assigned to the frozen test split."""
        rows = self.db.query(
            "WITH held AS (SELECT c.video_sha256 AS sha FROM corrections c"
            " JOIN split_assignments s ON s.video_key = c.video_key"
            " WHERE s.split = 'test' AND c.video_sha256 IS NOT NULL)"
            " SELECT e.correction_id, e.video_sha256, e.split, e.row_hash FROM dataset_examples e"
            " WHERE e.dataset_id = ? AND e.split != 'test' AND e.video_sha256 IN (SELECT sha FROM held)"
            " ORDER BY e.correction_id",
            (dataset_id,),
        )
        return [DatasetExample(r[0], r[1], r[2], r[3]) for r in rows]

    def splits(self) -> dict[str, str]:
        """The recorded split of every clip: canonical video key → train | validation | test."""
        return {r[0]: r[1] for r in self.db.query("SELECT video_key, split FROM split_assignments")}

    def keys_in(self, split: SplitName) -> list[str]:
        """Canonical video keys assigned to ``split``, sorted."""
        rows = self.db.query("SELECT video_key FROM split_assignments WHERE split = ? ORDER BY video_key", (split,))
        return [str(r[0]) for r in rows]

    def assign(self, video_key: str, split: SplitName, *, seed: str) -> bool:
        """Assign a clip to a split unless it already has one (assignments never move silently)."""
        cursor = self.db.execute(
            "INSERT INTO split_assignments (video_key, split, seed, assigned_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(video_key) DO NOTHING",
            (video_key, split, seed, now_text()),
        )
        return cursor.rowcount > 0

    def tuned_video_keys(self) -> set[str]:
        """Clips that trained or validated a submitted job or a registered model (they must never become test)."""
        rows = self.db.query(
            "SELECT DISTINCT c.video_key FROM dataset_examples e JOIN corrections c ON c.id = e.correction_id"
            " WHERE e.split IN ('train', 'validation') AND e.dataset_id IN"
            " (SELECT dataset_id FROM tuning_jobs WHERE dataset_id IS NOT NULL"
            " UNION SELECT dataset_id FROM models WHERE dataset_id IS NOT NULL)"
        )
        return {str(r[0]) for r in rows}


def _version_values(record: DatasetRecord, now: str) -> tuple[Any, ...]:
    return (
        record.id,
        now,
        record.prompt_version,
        record.target_format,
        record.media_resolution,
        record.niche,
        dumps(record.settings),
        dumps(record.manifest),
        record.estimate.model_dump_json() if record.estimate else None,
        dumps(record.validation),
        int(record.valid),
        record.storage_prefix,
        record.train_uri,
        record.validation_uri,
        record.test_uri,
    )


def _record(row: Any) -> DatasetRecord:
    estimate = row["estimate_json"]
    return DatasetRecord(
        id=row["id"],
        created_at=parse_time(row["created_at"]),
        prompt_version=row["prompt_version"],
        target_format=row["target_format"],
        media_resolution=row["media_resolution"],
        niche=row["niche"],
        settings=loads_dict(row["settings_json"]),
        manifest=loads_dict(row["manifest_json"]),
        estimate=CostEstimate.model_validate_json(estimate) if estimate else None,
        validation=loads_dict(row["validation_json"]),
        valid=bool(row["valid"]),
        storage_prefix=row["storage_prefix"],
        train_uri=row["train_uri"],
        validation_uri=row["validation_uri"],
        test_uri=row["test_uri"],
    )
