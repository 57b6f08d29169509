"""What a test pays for its workspace under ``HUMORTUNE_TEST_ENGINE=postgresql`` (issue 16), in one run.

    python benchmarks/bench_test_schemas.py [--rounds 30]

Starts Debian's PostgreSQL in a temp dir (tests/_postgres.py) and times, per test (median of ``--rounds``):

* ``sqlite file``: a fresh SQLite workspace opened and migrated (what every test pays on the default engine);
* ``alembic per schema``: an empty schema, migrated by Alembic on the first open, dropped afterwards;
* ``recorded copy``: the session's recorded migration replayed into a new schema, opened, written to, dropped
  (a test that uses its workspace);
* ``reused untouched``: a schema the previous test left empty handed out again (a test that never opens one).

Each figure is printed with its ratio to ``alembic per schema``, the baseline the copy replaces.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/ rigs, when run from anywhere

from tests._postgres import PostgresServer, running_server

from humortune.workspace.db import Database

_WRITE = "INSERT INTO prompts (version, text, created_at) VALUES ('v', 'Vad är roligt?', 'now')"


def median_ms(fn: Callable[[], object], rounds: int) -> float:
    fn()  # warm: imports, the recorded migration
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def sqlite_file(root: Path) -> Callable[[], None]:
    counter = iter(range(10**9))

    def run() -> None:
        Database(root / f"w{next(counter)}.db").close()

    return run


def alembic_per_schema(server: PostgresServer) -> None:
    with server.schema() as url:
        db = Database(url)
        db.execute(_WRITE)
        db.close()


def recorded_copy(server: PostgresServer) -> None:
    with server.migrated_schema() as url:
        db = Database(url)
        db.execute(_WRITE)  # written to: dropped afterwards, never reused
        db.close()


def reused_untouched(server: PostgresServer) -> None:
    with server.migrated_schema():
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp, running_server() as server:
        figures = {
            "sqlite file": median_ms(sqlite_file(Path(tmp)), rounds),
            "alembic per schema": median_ms(lambda: alembic_per_schema(server), rounds),
            "recorded copy": median_ms(lambda: recorded_copy(server), rounds),
            "reused untouched": median_ms(lambda: reused_untouched(server), rounds),
        }
    baseline = figures["alembic per schema"]
    print(f"per-test workspace setup and teardown, median of {rounds}")
    for name, ms in figures.items():
        print(f"  {name:<20} {ms:8.1f} ms   x{ms / baseline:5.2f} of alembic per schema")


if __name__ == "__main__":
    main()
