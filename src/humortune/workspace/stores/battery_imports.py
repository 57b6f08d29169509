"""What the last import of each battery file recorded, so a re-import does only the work that changed.

Two tables: ``battery_imports`` (per file: the hash of its bytes and the report of its last import) and
``battery_items`` (per file and item: the hash of the item's raw JSON and what it parsed to). Both are a cache:
each entry counts only while the correction it names still holds the content it had (checked against
``corrections.content_hash`` on every read), so an edit, a review or a deletion elsewhere is never hidden.

That check is one index lookup per item; ``correction_changes`` (a counter the schema's triggers bump whenever a
correction is added, deleted or gets another id or content hash) lets an unchanged re-import skip it: each
import records the counter's value it left, and while the counter still has that value no correction can have
drifted. This store is the counter's only reader.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from humortune.errors import CorpusError
from humortune.workspace.stores._base import Store, dumps, loads_dict, now_text

__all__ = ["BatteryImportStore", "KnownItem", "RecordedImport"]

_CHUNK = 500  # bound parameters per statement: well under SQLite's and PostgreSQL's limits


@dataclass(frozen=True, slots=True)
class KnownItem:
    """A valid item seen before: the hash of its raw JSON and what it parsed to (its clip's canonical key and
    the owner's text only as hashes: the cross-item checks compare them, and a key may hold a URL's secrets).

    ``current`` says whether the correction it names still has ``content_hash`` (then a re-import has
    nothing to write for it and need not parse it again); ``imported`` whether the last import kept it.
    """

    item_hash: str
    correction_id: str
    key_hash: str
    said_hash: str
    content_hash: str
    imported: bool = True
    current: bool = True


@dataclass(frozen=True, slots=True)
class RecordedImport:
    """The last import of one battery file: the hash of what it read, and its report's fields."""

    file_hash: str
    report: dict[str, object]
    corrections_seen: int | None = None  # `BatteryImportStore.changes` when it was written (None: unknown)


class BatteryImportStore(Store):
    """Owner of ``battery_imports`` and ``battery_items``."""

    def recorded(self, path: str) -> RecordedImport | None:
        """The last import of the battery file at ``path`` (resolved), if any."""
        row = self.db.query_one(
            "SELECT file_hash, report_json, corrections_seen FROM battery_imports WHERE path = ?", (path,)
        )
        return RecordedImport(row[0], loads_dict(row[1]), row[2]) if row is not None else None

    def changes(self) -> int:
        """The ``correction_changes`` counter: equal values mean no correction changed in between."""
        row = self.db.query_one("SELECT n FROM correction_changes")
        if row is None:  # a stand-in value could equal a recorded one and hide a drifted correction
            raise CorpusError(
                "the workspace's correction_changes counter row is missing",
                hint="restore it with: INSERT INTO correction_changes VALUES (0)",
            )
        return int(row[0])

    def intact(self, path: str, recorded: RecordedImport, changes: int) -> bool:
        """Whether every correction the last import of ``path`` kept still holds what that import left.

        ``changes`` is `changes` read before ``recorded``: when it is what the import recorded, nothing can have
        drifted and nothing is read; otherwise each item is checked, and a file found intact is stamped with
        ``changes`` so the next unchanged re-import is free again.
        """
        if recorded.corrections_seen == changes:
            return True
        drifted = self.db.query_one(
            "SELECT 1 FROM battery_items b LEFT JOIN corrections c ON c.id = b.correction_id"
            " WHERE b.path = ? AND b.imported = 1 AND (c.content_hash IS NULL OR c.content_hash <> b.content_hash)"
            " LIMIT 1",
            (path,),
        )
        if drifted is None:
            self.db.execute(
                "UPDATE battery_imports SET corrections_seen = ? WHERE path = ? AND file_hash = ?",
                (changes, path, recorded.file_hash),
            )
        return drifted is None

    def known(self, path: str) -> dict[str, KnownItem]:
        """Every item recorded for ``path``, by item hash, each marked current or not."""
        rows = self.db.query(
            "SELECT b.item_hash, b.correction_id, b.key_hash, b.said_hash, b.content_hash, b.imported,"
            " CASE WHEN c.content_hash = b.content_hash THEN 1 ELSE 0 END"
            " FROM battery_items b LEFT JOIN corrections c ON c.id = b.correction_id WHERE b.path = ?",
            (path,),
        )
        return {r[0]: KnownItem(r[0], r[1], r[2], r[3], r[4], bool(r[5]), bool(r[6])) for r in rows}

    def record(
        self,
        path: str,
        *,
        file_hash: str,
        report: dict[str, object],
        before: dict[str, KnownItem],
        after: Iterable[KnownItem],
        current: bool,
    ) -> None:
        """Write what this import of ``path`` found, touching only the item rows that changed.

        ``current`` says ``before`` was read with no correction changed since but this import's own writes
        (the caller compared `changes` before reading it with `changes` once its write transaction began);
        only then is the counter's value recorded, else the next re-import checks every item.
        """
        now_items = {item.item_hash: item for item in after}
        gone = [h for h in before if h not in now_items]
        added = [i for h, i in now_items.items() if h not in before]
        flipped = [i for h, i in now_items.items() if h in before and before[h].imported != i.imported]
        with self.db.transaction() as conn:
            for start in range(0, len(gone), _CHUNK):
                chunk = gone[start : start + _CHUNK]
                conn.execute(
                    f"DELETE FROM battery_items WHERE path = ? AND item_hash IN ({', '.join('?' * len(chunk))})",
                    (path, *chunk),
                )
            conn.executemany(
                "INSERT INTO battery_items (path, item_hash, correction_id, key_hash, said_hash, content_hash,"
                " imported) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path, item_hash) DO NOTHING",
                [
                    (path, i.item_hash, i.correction_id, i.key_hash, i.said_hash, i.content_hash, int(i.imported))
                    for i in added
                ],
            )
            conn.executemany(
                "UPDATE battery_items SET imported = ? WHERE path = ? AND item_hash = ?",
                [(int(i.imported), path, i.item_hash) for i in flipped],
            )
            seen = self.changes() if current else None
            conn.execute(
                "INSERT INTO battery_imports (path, file_hash, report_json, imported_at, corrections_seen)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET file_hash = excluded.file_hash,"
                " report_json = excluded.report_json, imported_at = excluded.imported_at,"
                " corrections_seen = excluded.corrections_seen",
                (path, file_hash, dumps(report), now_text(), seen),
            )
