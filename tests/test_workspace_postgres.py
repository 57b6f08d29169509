"""The PostgreSQL engine against a real server: a dropped connection (a restart, an idle timeout,
``pg_terminate_backend``) costs at most the operation that was running, never the next one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from humortune.errors import CorpusError
from humortune.settings import Settings
from humortune.workspace import Corpus
from humortune.workspace.stores.review_queue import QueueScope, ReviewQueueStore
from tests._postgres import PostgresServer


@pytest.fixture
def shared(postgres: PostgresServer, tmp_path: Path) -> Iterator[Corpus]:
    with postgres.schema() as url, Corpus.open(settings=Settings(workspace=tmp_path / "ws", database_url=url)) as c:
        yield c


def _terminate(postgres: PostgresServer, pid: int) -> None:
    with psycopg.connect(postgres.url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)


def _write_pid(corpus: Corpus) -> int:
    return int(corpus.db.session_query("SELECT pg_backend_pid()")[0][0])


def _labels(corpus: Corpus) -> int:
    return int(corpus.db.query("SELECT COUNT(*) FROM owner_labels")[0][0])


def _label(conn: object) -> None:
    conn.execute(  # type: ignore[attr-defined]
        "INSERT INTO owner_labels (kind, payload_json, created_at) VALUES ('pass_fail', '{}', 'x')"
    )


def test_the_next_write_and_read_reconnect(shared: Corpus, postgres: PostgresServer) -> None:
    before = _write_pid(shared)
    _terminate(postgres, before)
    with shared.db.transaction() as conn:  # the BEGIN finds the connection dead and starts over on a new one
        _label(conn)
    assert _write_pid(shared) != before
    _terminate(postgres, int(shared.db.query("SELECT pg_backend_pid()")[0][0]))  # a pooled read connection
    assert _labels(shared) == 1


def test_a_write_cut_off_mid_transaction_fails_once_and_is_not_replayed(
    shared: Corpus, postgres: PostgresServer
) -> None:
    with pytest.raises(CorpusError, match="database error"), shared.db.transaction() as conn:
        _label(conn)
        _terminate(postgres, _write_pid(shared))
        _label(conn)
    assert _labels(shared) == 0  # the server rolled the first insert back; nothing was sent again
    shared.db.execute("INSERT INTO owner_labels (kind, payload_json, created_at) VALUES ('pass_fail', '{}', 'y')")
    assert _labels(shared) == 1


def test_the_review_queue_rebuilds_its_table_on_the_new_connection(shared: Corpus, postgres: PostgresServer) -> None:
    shared.db.execute(
        "INSERT INTO analyses (id, video_uri, model, prompt_version, mode, narrative, created_at)"
        " VALUES ('a1', 'u', 'm', 'p', 'x', 'n', '2026-01-01')"
    )
    table = ReviewQueueStore(shared.db, low_score=0.5)
    assert table.counts(QueueScope()) == {2: 1}
    _terminate(postgres, _write_pid(shared))  # the TEMP table goes with the session
    assert table.counts(QueueScope()) == {2: 1}
    assert [r.id for r in table.items(QueueScope(), limit=5)] == ["a1"]
