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
from humortune.workspace.migrations import SCHEMA_VERSION
from humortune.workspace.stores import CorrectionStore
from humortune.workspace.stores.review_queue import QueueScope, ReviewQueueStore
from tests._postgres import PostgresServer
from tests._workspace_support import add_clip


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


def _ordered_world(corpus: Corpus) -> list[tuple[str, str, str | None]]:
    """Ids and niches whose order differs between code points and a linguistic collation."""
    with corpus.db.transaction() as conn:
        conn.execute(
            "INSERT INTO videos VALUES ('v1', 'v1', 1, 1.0, 1, 1, 'h264', 1.0, 1, 'video/mp4', 'mp4', 'file:///v', 'x')"
        )
        for cid, niche in (("c1", "Zoo"), ("c2", "gym")):  # the same updated_at: the larger value wins
            conn.execute(
                "INSERT INTO corrections (id, video_url, video_key, human_said, niche, source, content_hash,"
                " video_sha256, created_at, updated_at) VALUES (?, 'u', ?, 'h', ?, 'battery', 'h', 'v1', 't', 't')",
                (cid, cid, niche),
            )
        for aid in ("a_2", "a1", "B", "a", "a-1"):
            conn.execute(
                "INSERT INTO analyses (id, video_sha256, video_uri, model, prompt_version, mode, narrative,"
                " created_at) VALUES (?, 'v1', 'u', 'm', ?, 'x', 'n', '2026-01-01')",
                (aid, aid),
            )
    table = ReviewQueueStore(corpus.db, low_score=0.5)
    return [(r.id, r.clip, r.niche) for r in table.items(QueueScope(), limit=10)]


def test_the_queue_orders_by_code_point_under_a_linguistic_collation(postgres: PostgresServer, tmp_path: Path) -> None:
    with psycopg.connect(postgres.url, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = 'icu'").fetchone():
            admin.execute("CREATE DATABASE icu TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")
    url = postgres.url.rsplit("/", 1)[0] + "/icu"
    with Corpus.open(settings=Settings(workspace=tmp_path / "pg", database_url=url)) as corpus:
        assert corpus.db.query("SELECT 'a_2' < 'a1'")[0][0] is True  # the database does sort linguistically
        on_postgres = _ordered_world(corpus)
    with Corpus.open(tmp_path / "sqlite.db") as corpus:
        on_sqlite = _ordered_world(corpus)
    assert on_postgres == on_sqlite == [(aid, "v1", "gym") for aid in sorted(("a_2", "a1", "B", "a", "a-1"))]


def test_the_builder_reads_corrections_in_code_point_order_under_a_linguistic_collation(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.url.rsplit("/", 1)[0] + "/icu_sources"
    with psycopg.connect(postgres.url, autocommit=True) as admin:  # its own database: a fresh workspace
        admin.execute("DROP DATABASE IF EXISTS icu_sources")
        admin.execute("CREATE DATABASE icu_sources TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")
    ids = ("c_2", "c1", "C", "c", "c-1")
    with Corpus.open(settings=Settings(workspace=tmp_path / "pg", database_url=url)) as corpus:
        for n, cid in enumerate(ids, start=1):
            add_clip(corpus, n, cid=cid)
        assert [s.correction_id for s in CorrectionStore(corpus.db).sources()] == sorted(ids)


def test_a_nul_that_reaches_the_server_says_what_to_remove(shared: Corpus) -> None:
    with pytest.raises(CorpusError, match="NUL") as excinfo:
        shared.db.execute("INSERT INTO prompts (version, text, created_at) VALUES ('p', ?, 'x')", ("a\x00b",))
    assert excinfo.value.hint is not None and "remove the NUL character" in excinfo.value.hint


def test_a_v4_workspace_upgrades_and_its_rows_get_their_queue_keys(postgres: PostgresServer, tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from humortune.workspace.schema import SCRIPTS

    with postgres.schema() as url:
        engine = create_engine("postgresql+psycopg://" + url.split("://", 1)[1])
        with engine.begin() as conn:  # what a humortune of schema v4 left behind
            config = Config()
            config.set_main_option("script_location", str(SCRIPTS))
            config.attributes["connection"] = conn
            command.upgrade(config, "0004")
            conn.exec_driver_sql(
                "INSERT INTO analyses (id, video_uri, model, prompt_version, mode, narrative, record_json, created_at)"
                """ VALUES ('a1', 'u', 'm', 'p', 'x', 'n', '{"category": "clever", "quality": "good"}', 't')"""
            )
        engine.dispose()
        with Corpus.open(settings=Settings(workspace=tmp_path / "ws", database_url=url)) as corpus:
            assert corpus.db.schema_version == SCHEMA_VERSION
            assert corpus.db.query("SELECT record_key FROM analyses")[0][0] == '["clever","good",null]'
            [row] = ReviewQueueStore(corpus.db, low_score=0.5).items(QueueScope(), limit=5)
            assert (row.id, row.record_key, row.rank) == ("a1", '["clever","good",null]', 2)
