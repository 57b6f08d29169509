"""The ``offline_state`` store: key → JSON documents, rewritten whole under the write lock (both engines)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from humortune.errors import CorpusError
from humortune.settings import Settings
from humortune.workspace import Corpus
from humortune.workspace.db import Database
from humortune.workspace.stores import OfflineStateStore, Stores


def test_a_document_is_stored_edited_and_read_back(corpus: Corpus) -> None:
    store = Stores.of(corpus.db).offline
    assert store.get("fake") is None and store.keys() == []
    with store.edit("fake", default=lambda: {"counter": 0}) as state:
        assert state == {"counter": 0}
        state["counter"] += 1
        state["jobs"] = {"1": {"name": "projects/p/tuningJobs/1", "ok": True}}
    assert store.get("fake") == {"counter": 1, "jobs": {"1": {"name": "projects/p/tuningJobs/1", "ok": True}}}
    with store.edit("fake") as state:
        state["counter"] += 1
    assert store.get("fake") == {"counter": 2, "jobs": {"1": {"name": "projects/p/tuningJobs/1", "ok": True}}}
    assert store.keys() == ["fake"]


def test_an_unchanged_document_is_not_rewritten(corpus: Corpus) -> None:
    store = Stores.of(corpus.db).offline
    with store.edit("fake") as state:
        state["a"] = 1

    def stamp() -> str:
        row = corpus.db.query_one("SELECT updated_at FROM offline_state WHERE key = 'fake'")
        assert row is not None
        return str(row[0])

    before = stamp()
    with store.edit("fake"):
        pass
    assert stamp() == before


def test_a_failing_edit_changes_nothing(corpus: Corpus) -> None:
    store = Stores.of(corpus.db).offline
    with store.edit("fake") as state:
        state["a"] = 1
    with pytest.raises(RuntimeError), store.edit("fake") as state:
        state["a"] = 2
        raise RuntimeError("boom")
    assert store.get("fake") == {"a": 1}


def test_a_damaged_document_is_named_with_the_fix(corpus: Corpus) -> None:
    corpus.db.execute("INSERT INTO offline_state VALUES ('fake', '[1, 2]', 'now')")
    with pytest.raises(CorpusError) as caught:
        Stores.of(corpus.db).offline.get("fake")
    assert caught.value.item == "fake" and "offline_state" in (caught.value.hint or "")


def test_concurrent_edits_from_two_connections_lose_no_update(settings: Settings, corpus: Corpus) -> None:
    """Two databases objects on one workspace are two processes: each increments 10 times, none is lost."""
    per_writer = 10

    def writer(db: Database) -> None:
        store = OfflineStateStore(db)
        for _ in range(per_writer):
            with store.edit("fake", default=lambda: {"counter": 0}) as state:
                seen: Any = state["counter"]
                time.sleep(0.005)  # widen the read→write window: without the lock the other writer reads here
                state["counter"] = seen + 1

    dbs = [Database(settings.database_target) for _ in range(2)]
    try:
        threads = [threading.Thread(target=writer, args=(db,)) for db in dbs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for db in dbs:
            db.close()
    assert Stores.of(corpus.db).offline.get("fake") == {"counter": 2 * per_writer}
