"""Reads never wait behind a writer: WAL readers get their own connection (issue 15, review server)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from humortune.workspace.db import Database


@pytest.mark.sqlite_only("SQLite's WAL readers")
def test_a_read_does_not_wait_for_a_write_in_progress(tmp_path: Path) -> None:
    db = Database(tmp_path / "w.db")
    db.execute("CREATE TABLE t (v TEXT)")
    db.execute("INSERT INTO t VALUES ('committed')")
    writing, read_done = threading.Event(), threading.Event()
    seen: list[str] = []

    def slow_writer() -> None:
        with db.transaction() as conn:
            conn.execute("INSERT INTO t VALUES ('uncommitted')")
            writing.set()
            # Held until the reader has finished: with a shared, locked connection it never could.
            assert read_done.wait(10), "the read waited behind the writer"
            own = [r["v"] for r in db.query("SELECT v FROM t ORDER BY rowid")]
            assert own == ["committed", "uncommitted"]  # the writer reads its own writes

    def reader() -> None:
        writing.wait(10)
        seen.extend(r["v"] for r in db.query("SELECT v FROM t ORDER BY rowid"))
        read_done.set()

    threads = [threading.Thread(target=slow_writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen == ["committed"]  # the last commit, not half a transaction
    assert [r["v"] for r in db.query("SELECT v FROM t ORDER BY rowid")] == ["committed", "uncommitted"]
    db.close()


@pytest.mark.sqlite_only("SQLite's per-thread read connections")
def test_readers_are_closed_with_the_database(tmp_path: Path) -> None:
    db = Database(tmp_path / "w.db")
    thread = threading.Thread(target=lambda: db.query("SELECT 1"))
    thread.start()
    thread.join()
    assert len(db._readers) == 1
    db.close()
    assert db._readers == []
