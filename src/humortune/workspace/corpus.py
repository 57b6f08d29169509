"""The corpus: the owner's corrections, the videos they point at, and the lineage tables around them."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from humortune._util import cyclic_gc_paused
from humortune.errors import BatteryError, CorpusError
from humortune.schema import Correction, HumorRecord, VideoAsset, utcnow
from humortune.settings import Settings
from humortune.urls import parse_source
from humortune.workspace.battery import battery_hash, correction_revision, parse_battery, read_battery
from humortune.workspace.db import Database
from humortune.workspace.stores._base import nul_path
from humortune.workspace.stores.battery_imports import BatteryImportStore

__all__ = ["Corpus", "Entry", "ImportReport", "SourceLink", "correction_revision"]

_COUNTED_TABLES = (
    "corrections",
    "videos",
    "dataset_versions",
    "tuning_jobs",
    "models",
    "analyses",
    "evaluations",
    "reviews",
)


@dataclass(slots=True)
class ImportReport:
    """What an import did: counts per outcome, and every problem found (with item index and field)."""

    source: str
    shape: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)
    skipped: int = 0
    """Items left out because of a problem (an item may have several problems)."""

    @property
    def imported(self) -> int:
        """Items now in the corpus from this file (new, updated or already there)."""
        return self.added + self.updated + self.unchanged


@dataclass(frozen=True, slots=True)
class Entry:
    """A correction with its canonical video key and, once ingested, its stored video."""

    correction: Correction
    video_key: str
    video: VideoAsset | None


@dataclass(frozen=True, slots=True)
class SourceLink:
    """One correction's source as ingest sees it: key, URL, and the stored video it links to (if any)."""

    video_key: str
    video_url: str
    sha256: str | None
    size_bytes: int | None
    uri: str | None


_RECORDED = ("shape", "duplicates", "problems", "skipped", "imported")


def _refuse_nul(correction: Correction, values: dict[str, Any]) -> None:
    """A NUL character anywhere in a correction is refused on both engines (`nul_path`), naming the field.

    The substring test is the cheap filter (JSON columns hold NUL as ``\\u0000``); the walk names the field."""
    if not any(isinstance(v, str) and ("\x00" in v or "\\u0000" in v) for v in values.values()):
        return
    where = nul_path(correction.model_dump(mode="json"))
    if where is not None:
        raise CorpusError(
            f"correction {correction.id!r}: {where!r} contains a NUL character (U+0000)",
            hint="remove the NUL character from it; the workspace cannot store NUL in a text",
            item=correction.id,
        )


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")


class Corpus:
    """The SQLite workspace. Open it with `Corpus.open`; close it (or use ``with``) when done.

    ```python
    with Corpus.open(".humortune/humortune.db") as corpus:
        corpus.import_battery("datasets/sample_battery.json")
    ```
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        """The underlying database, for the layers that keep their own lineage tables."""

    @classmethod
    def open(cls, path: str | Path | None = None, *, settings: Settings | None = None) -> Corpus:
        """Open (creating and migrating if needed) the corpus at ``path``, or the workspace's default."""
        if path is None:
            path = (settings or Settings()).database_target
        return cls(Database(path))

    @property
    def path(self) -> Path:
        """The database file."""
        return self.db.path

    def close(self) -> None:
        """Close the database connection."""
        self.db.close()

    def __enter__(self) -> Corpus:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- corrections ------------------------------------------------------------------------------

    @cyclic_gc_paused()  # 100k items, no cycles: full collections only walked the heap (issue 13)
    def import_battery(self, path: str | Path, *, strict: bool = False, source: str = "battery") -> ImportReport:
        """Import a battery file; idempotent. Raises `BatteryError` on any bad item when ``strict``.

        An unchanged file whose corrections are all still as it left them writes nothing and reports what its
        last import found; in a changed file only the items whose raw JSON changed are validated again, and
        only corrections whose content changed (or that were edited or deleted since) are written.
        """
        data = read_battery(path)
        where, file_hash = str(Path(path).resolve()), battery_hash(data, source)
        store = BatteryImportStore(self.db)
        changes = store.changes()  # before anything is read: a change after it makes the next import check again
        recorded = store.recorded(where)
        if recorded is not None and recorded.file_hash == file_hash and store.intact(where, recorded, changes):
            report = ImportReport(source=str(path), shape=str(recorded.report["shape"]))
            _replay(report, recorded.report)
        else:
            report = self._import_parsed(
                path, where, (data, file_hash), store, strict=strict, source=source, changes=changes
            )
        if report.problems and strict:
            raise BatteryError(report.problems, source=str(path))
        return report

    def _import_parsed(
        self,
        path: str | Path,
        where: str,
        read: tuple[bytes, str],
        store: BatteryImportStore,
        *,
        strict: bool,
        source: str,
        changes: int,
    ) -> ImportReport:
        """Parse (reusing the items parsed before that still hold), write what changed, record what was read."""
        (data, file_hash), before = read, store.known(where)
        current = {digest: item for digest, item in before.items() if item.current}
        parsed = parse_battery(path, source=source, data=data, known=current)
        report = ImportReport(
            source=str(path),
            shape=parsed.shape,
            unchanged=len(parsed.known),
            duplicates=parsed.duplicates,
            problems=parsed.problems,
            skipped=parsed.skipped,
        )
        if parsed.problems and strict:
            return report  # the caller raises; nothing is written
        # an item that cannot be hashed is not in ``parses``: never let the whole file count as done
        whole = all(item.item_hash is not None for item in parsed.items)
        with self.db.transaction():
            unmoved = store.changes() == changes  # under the write lock: nobody changed a correction since `known`
            for item in parsed.items:
                outcome = self._upsert(item.correction, item.video_key, item.content_hash)
                setattr(report, outcome, getattr(report, outcome) + 1)
            recorded = {name: getattr(report, name) for name in _RECORDED}
            done = file_hash if whole else ""
            store.record(where, file_hash=done, report=recorded, before=before, after=parsed.parses, current=unmoved)
        return report

    def add_correction(self, correction: Correction, *, video_key: str | None = None) -> str:
        """Insert or update one correction; returns ``"added"``, ``"updated"`` or ``"unchanged"``.

        ``video_key`` is the URL's canonical key when the caller has it already (the battery parser does):
        folding a local path resolves it on disk, which dominated a re-import's time.
        """
        key = video_key if video_key is not None else parse_source(correction.video_url).key
        return self._upsert(correction, key, correction_revision(correction))

    def _upsert(self, correction: Correction, key: str, digest: str) -> str:
        now = _iso(utcnow())
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT content_hash, video_key FROM corrections WHERE id = ?", (correction.id,)
            ).fetchone()
            if row is not None and row["content_hash"] == digest:
                return "unchanged"
            values = {
                "id": correction.id,
                "video_url": correction.video_url,
                "video_key": key,
                "gemini_said": correction.gemini_said,
                "human_said": correction.human_said,
                "record_json": correction.record.model_dump_json() if correction.record else None,
                "niche": correction.niche,
                "source": correction.source,
                "extra_json": json.dumps(correction.extra, ensure_ascii=False, default=str),
                "content_hash": digest,
                "created_at": _iso(correction.created_at),
                "updated_at": now,
            }
            _refuse_nul(correction, values)
            if row is None:
                conn.execute(
                    f"INSERT INTO corrections ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                    tuple(values.values()),
                )
                self._link_to_stored_clip(conn, correction.id, key)
                return "added"
            values.pop("created_at")
            if row["video_key"] != key:  # the correction now points at another clip
                values["video_sha256"] = None
            assignments = ", ".join(f"{k} = :{k}" for k in values)
            conn.execute(f"UPDATE corrections SET {assignments} WHERE id = :id", values)
            self._link_to_stored_clip(conn, correction.id, key)
            return "updated"

    @staticmethod
    def _link_to_stored_clip(conn: sqlite3.Connection, correction_id: str, key: str) -> None:
        """A correction of a clip that is already stored points at its video at once (no ingest needed)."""
        conn.execute(
            "UPDATE corrections SET video_sha256 = (SELECT video_sha256 FROM corrections WHERE video_key = ?"
            " AND video_sha256 IS NOT NULL AND id != ? LIMIT 1) WHERE id = ? AND video_sha256 IS NULL",
            (key, correction_id, correction_id),
        )

    def correction(self, correction_id: str) -> Correction | None:
        """One correction by id."""
        row = self.db.query_one("SELECT * FROM corrections WHERE id = ?", (correction_id,))
        return _row_to_correction(row) if row else None

    def corrections(self, *, niche: str | None = None, source: str | None = None) -> list[Correction]:
        """All corrections, oldest first, optionally filtered."""
        return [e.correction for e in self.entries(niche=niche, source=source)]

    def entries(self, *, niche: str | None = None, source: str | None = None) -> list[Entry]:
        """Corrections with their canonical video key and stored video (if ingested), oldest first."""
        sql = (
            "SELECT c.*, v.sha256 AS v_sha256, v.source_id AS v_source_id, v.size_bytes AS v_size_bytes,"
            " v.duration_s AS v_duration_s, v.width AS v_width, v.height AS v_height, v.codec AS v_codec,"
            " v.fps AS v_fps, v.has_audio AS v_has_audio, v.mime AS v_mime, v.container AS v_container,"
            " v.uri AS v_uri FROM corrections c LEFT JOIN videos v ON v.sha256 = c.video_sha256"
        )
        clauses, params = [], []
        if niche is not None:
            clauses.append("c.niche = ?")
            params.append(niche)
        if source is not None:
            clauses.append("c.source = ?")
            params.append(source)
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY c.created_at, c.id"
        out = []
        for row in self.db.query(sql, params):
            video = None
            if row["v_sha256"] is not None:
                video = VideoAsset(**{k[2:]: row[k] for k in row.keys() if k.startswith("v_")})
            out.append(Entry(_row_to_correction(row), row["video_key"], video))
        return out

    def source_links(self) -> list[SourceLink]:
        """Every correction's source key, URL and linked video, oldest first: what `entries` gives ingest, in a
        few hundred bytes a row instead of whole corrections (100k clips: tens of MB, not half a GB)."""
        rows = self.db.query(
            "SELECT c.video_key, c.video_url, v.sha256, v.size_bytes, v.uri FROM corrections c"
            " LEFT JOIN videos v ON v.sha256 = c.video_sha256 ORDER BY c.created_at, c.id"
        )
        return [SourceLink(row[0], row[1], row[2], row[3], row[4]) for row in rows]

    # -- videos -----------------------------------------------------------------------------------

    def add_video(self, asset: VideoAsset) -> None:
        """Record a stored video (idempotent: the content hash is the key)."""
        data = asset.model_dump()
        data["has_audio"] = int(asset.has_audio)
        data["created_at"] = _iso(utcnow())
        self.db.execute(
            f"INSERT INTO videos ({', '.join(data)}) VALUES ({', '.join('?' * len(data))})"
            " ON CONFLICT(sha256) DO UPDATE SET uri = excluded.uri",
            tuple(data.values()),
        )

    def link_video(self, video_key: str, sha256: str) -> int:
        """Point every correction of a source at its stored video; returns how many were linked."""
        cursor = self.db.execute("UPDATE corrections SET video_sha256 = ? WHERE video_key = ?", (sha256, video_key))
        return cursor.rowcount

    def video(self, sha256: str) -> VideoAsset | None:
        """A stored video by content hash."""
        row = self.db.query_one("SELECT * FROM videos WHERE sha256 = ?", (sha256,))
        return _row_to_video(row) if row else None

    def video_for_key(self, video_key: str) -> VideoAsset | None:
        """The stored video a source key is linked to, if it was ingested."""
        row = self.db.query_one(
            "SELECT v.* FROM videos v JOIN corrections c ON c.video_sha256 = v.sha256 WHERE c.video_key = ? LIMIT 1",
            (video_key,),
        )
        return _row_to_video(row) if row else None

    def videos(self) -> list[VideoAsset]:
        """Every stored video."""
        return [_row_to_video(r) for r in self.db.query("SELECT * FROM videos ORDER BY created_at, sha256")]

    # -- overview ---------------------------------------------------------------------------------

    def status(self) -> dict[str, int]:
        """Row counts per table, plus how many corrections still lack a stored video."""
        counts = {t: int(self.db.query_one(f"SELECT COUNT(*) FROM {t}")[0]) for t in _COUNTED_TABLES}  # type: ignore[index]
        missing = self.db.query_one("SELECT COUNT(*) FROM corrections WHERE video_sha256 IS NULL")
        counts["corrections_without_video"] = int(missing[0]) if missing else 0
        return counts


def _replay(report: ImportReport, recorded: dict[str, Any]) -> None:
    """An unchanged file's report: what its last import found, with every imported item now unchanged."""
    report.unchanged = int(recorded["imported"])
    report.duplicates = int(recorded["duplicates"])
    report.skipped = int(recorded["skipped"])
    report.problems = [str(p) for p in recorded["problems"]]


def _row_to_correction(row: sqlite3.Row) -> Correction:
    extra: dict[str, Any] = json.loads(row["extra_json"] or "{}")
    record = HumorRecord.model_validate_json(row["record_json"]) if row["record_json"] else None
    return Correction(
        id=row["id"],
        video_url=row["video_url"],
        gemini_said=row["gemini_said"],
        human_said=row["human_said"],
        record=record,
        niche=row["niche"],
        source=row["source"],
        created_at=datetime.fromisoformat(row["created_at"]),
        **extra,
    )


def _row_to_video(row: sqlite3.Row) -> VideoAsset:
    data = {k: row[k] for k in row.keys() if k != "created_at"}
    data["has_audio"] = bool(data["has_audio"])
    return VideoAsset(**data)
