"""Schema migrations: the scripts Alembic's revisions run (``humortune/workspace/alembic/versions``).

Append a new script to `MIGRATIONS` (and a revision that runs it) to change the schema; never edit a released
one. SQLite workspaces also keep ``PRAGMA user_version`` at the number of applied scripts: that is how a
workspace made before Alembic (v1–v3) is recognised and stamped, and a higher number than ``len(MIGRATIONS)``
means a newer humortune wrote it. PostgreSQL runs the same scripts through `statements` (`_postgres`).
"""

from __future__ import annotations

import re
import sqlite3

__all__ = ["MIGRATIONS", "REVISIONS", "SCHEMA_VERSION", "statements"]

_V1 = """
-- The owner's corrections: the only source of truth.
CREATE TABLE corrections (
    id            TEXT PRIMARY KEY,
    video_url     TEXT NOT NULL,
    video_key     TEXT NOT NULL,            -- canonical source key (tiktok:<id>, file:<path>, http:<url>)
    gemini_said   TEXT,
    human_said    TEXT NOT NULL,
    record_json   TEXT,                     -- the owner's HumorRecord, when given
    niche         TEXT,
    source        TEXT NOT NULL,            -- battery | review | api
    extra_json    TEXT NOT NULL DEFAULT '{}',
    content_hash  TEXT NOT NULL,            -- hash of what the owner said; changes when a correction changes
    video_sha256  TEXT REFERENCES videos(sha256),
    analysis_id   TEXT REFERENCES analyses(id),   -- the model output a review correction corrects
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX corrections_video_key ON corrections(video_key);
CREATE INDEX corrections_niche ON corrections(niche);
CREATE INDEX corrections_source ON corrections(source, created_at);

-- Stored, probed videos, named by content hash.
CREATE TABLE videos (
    sha256      TEXT PRIMARY KEY,
    source_id   TEXT NOT NULL,
    size_bytes  INTEGER NOT NULL,
    duration_s  REAL NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    codec       TEXT NOT NULL,
    fps         REAL NOT NULL,
    has_audio   INTEGER NOT NULL,
    mime        TEXT NOT NULL,
    container   TEXT,
    uri         TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX videos_source_id ON videos(source_id);

-- Per-source ingest outcome, so `ingest --only-failed` knows what to retry.
CREATE TABLE ingest_status (
    video_key   TEXT PRIMARY KEY,
    status      TEXT NOT NULL,              -- ok | failed
    category    TEXT,
    message     TEXT,
    hint        TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT NOT NULL
);

-- Which split a clip belongs to. Assigned once, never moved (except by the owner); test is frozen.
CREATE TABLE split_assignments (
    video_key   TEXT PRIMARY KEY,
    split       TEXT NOT NULL CHECK (split IN ('train', 'validation', 'test')),
    seed        TEXT NOT NULL,
    assigned_at TEXT NOT NULL
);

CREATE TABLE dataset_versions (
    id               TEXT PRIMARY KEY,
    created_at       TEXT NOT NULL,
    prompt_version   TEXT NOT NULL,
    target_format    TEXT NOT NULL,
    media_resolution TEXT NOT NULL,
    niche            TEXT,
    settings_json    TEXT NOT NULL,
    manifest_json    TEXT NOT NULL,
    estimate_json    TEXT,
    validation_json  TEXT,
    valid            INTEGER NOT NULL DEFAULT 0,
    storage_prefix   TEXT NOT NULL,
    train_uri        TEXT,
    validation_uri   TEXT,
    test_uri         TEXT
);

CREATE TABLE dataset_examples (
    dataset_id     TEXT NOT NULL REFERENCES dataset_versions(id) ON DELETE CASCADE,
    correction_id  TEXT NOT NULL,
    video_sha256   TEXT NOT NULL,
    split          TEXT NOT NULL,
    row_hash       TEXT NOT NULL,
    PRIMARY KEY (dataset_id, correction_id)
);
CREATE INDEX dataset_examples_video ON dataset_examples(video_sha256);

CREATE TABLE sweeps (
    id          TEXT PRIMARY KEY,
    dataset_id  TEXT REFERENCES dataset_versions(id),
    grid_json   TEXT NOT NULL,
    max_cost    REAL,
    created_at  TEXT NOT NULL
);

CREATE TABLE tuning_jobs (
    name             TEXT PRIMARY KEY,       -- projects/…/tuningJobs/…
    dataset_id       TEXT REFERENCES dataset_versions(id),
    base_model       TEXT NOT NULL,
    request_hash     TEXT NOT NULL,          -- dataset + base + hyperparameters: the duplicate-submit key
    hyperparams_json TEXT NOT NULL,
    display_name     TEXT,
    state            TEXT NOT NULL,
    sweep_id         TEXT REFERENCES sweeps(id),
    estimate_usd     REAL,
    job_json         TEXT,                   -- the last TuningJob body seen
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX tuning_jobs_request ON tuning_jobs(request_hash);

CREATE TABLE models (
    id               TEXT PRIMARY KEY,       -- tuned model resource name, or a base model name
    endpoint         TEXT,
    job_name         TEXT REFERENCES tuning_jobs(name),
    base_model       TEXT NOT NULL,
    dataset_id       TEXT REFERENCES dataset_versions(id),
    prompt_version   TEXT,
    media_resolution TEXT,
    niche            TEXT,
    checkpoints_json TEXT NOT NULL DEFAULT '[]',
    stats_json       TEXT NOT NULL DEFAULT '{}',
    created_at       TEXT NOT NULL
);

-- Registry aliases ("current", "niche:restaurant", …) and every change to them, with its evidence.
CREATE TABLE aliases (
    name        TEXT PRIMARY KEY,
    model_id    TEXT NOT NULL REFERENCES models(id),
    updated_at  TEXT NOT NULL
);
CREATE TABLE alias_history (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL,
    model_id       TEXT,
    previous_id    TEXT,
    action         TEXT NOT NULL,            -- promote | rollback | propose | refuse
    evidence_json  TEXT NOT NULL DEFAULT '{}',
    created_at     TEXT NOT NULL
);

CREATE TABLE analyses (
    id              TEXT PRIMARY KEY,
    video_sha256    TEXT,
    video_uri       TEXT NOT NULL,
    model           TEXT NOT NULL,
    prompt_version  TEXT NOT NULL,
    mode            TEXT NOT NULL,
    narrative       TEXT NOT NULL,
    record_json     TEXT,
    usage_json      TEXT NOT NULL DEFAULT '{}',
    latency_s       REAL NOT NULL DEFAULT 0,
    cost_usd        REAL,
    warnings_json   TEXT NOT NULL DEFAULT '[]',
    created_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX analyses_cache_key ON analyses(video_sha256, model, prompt_version, mode)
    WHERE video_sha256 IS NOT NULL;

CREATE TABLE evaluations (
    id            TEXT PRIMARY KEY,
    model         TEXT NOT NULL,
    incumbent     TEXT,
    dataset_id    TEXT,
    created_at    TEXT NOT NULL,
    summary_json  TEXT NOT NULL,
    report_path   TEXT
);
CREATE TABLE evaluation_items (
    evaluation_id  TEXT NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
    correction_id  TEXT NOT NULL,
    scores_json    TEXT NOT NULL,
    PRIMARY KEY (evaluation_id, correction_id)
);

-- The owner's own judgements: blind A/B choices and PASS/FAIL marks, used to calibrate judges.
CREATE TABLE owner_labels (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL,            -- pairwise | pass_fail
    correction_id  TEXT,
    video_sha256   TEXT,
    payload_json   TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

-- Every save in the review UI, with the field-level diff against what the model said.
CREATE TABLE reviews (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    correction_id  TEXT REFERENCES corrections(id),
    analysis_id    TEXT REFERENCES analyses(id),
    model          TEXT,
    dataset_id     TEXT,
    action         TEXT NOT NULL,            -- edit | accept | skip | undo
    diff_json      TEXT NOT NULL DEFAULT '{}',
    created_at     TEXT NOT NULL
);
"""

# v2: indexes for the review queue (feedback/queue.py), so its full rebuild reads indexes in clip order instead
# of sorting tables and building automatic indexes. The record key expression (the record's category, quality and
# replicable as one JSON array; NULL without a record or when record_json is not valid JSON, so no writer can
# fail on it) is stored in the indexes: SQLite reads it from there instead of parsing record_json again. The queue
# must spell the expression exactly like this (`humortune.feedback.queue.RECORD_KEY`).
_V2 = """
CREATE INDEX corrections_clip ON corrections(
    video_sha256, updated_at,
    (CASE WHEN json_valid(record_json) THEN json_extract(record_json, '$.category', '$.quality', '$.replicable') END),
    niche, id
) WHERE video_sha256 IS NOT NULL;
CREATE INDEX analyses_clip ON analyses(
    video_sha256, id,
    (CASE WHEN json_valid(record_json) THEN json_extract(record_json, '$.category', '$.quality', '$.replicable') END),
    model, created_at
);
CREATE INDEX analyses_model ON analyses(model);
CREATE INDEX reviews_analysis ON reviews(analysis_id, id, action);
"""

# v3: prompts get their own table keyed by version (``p-`` + hash of text and system instruction), so inference
# reads the training prompt instead of searching dataset_versions' JSON blobs for it (issue 14).
_V3 = """
CREATE TABLE prompts (
    version             TEXT PRIMARY KEY,
    text                TEXT NOT NULL,
    system_instruction  TEXT,
    created_at          TEXT NOT NULL
);
"""

# v4: reference-metric scores (chrF, ROUGE-L) of an answer text against the owner's, keyed by a hash of the metric
# version and both texts, so a warm evaluation reuses them instead of recomputing (issue 13).
_V4 = """
CREATE TABLE text_scores (
    key      TEXT PRIMARY KEY,
    chrf     REAL NOT NULL,
    rouge_l  REAL NOT NULL
);
"""

# v5: nothing on SQLite, whose queue reads JSON with json_extract and notices other processes' writes through
# ``PRAGMA data_version``. PostgreSQL gets the review queue's JSON helpers and its change counter (`_V5_POSTGRES`).
_V5 = """
-- v5 (review queue on PostgreSQL): nothing to do on SQLite
"""


# v6: the offline FakeGemini's persistent state (its tuning and batch jobs), one JSON document per key, so two
# machines sharing the workspace database see the same offline jobs and tuned models (issue 16).
_V6_OFFLINE_STATE = """
CREATE TABLE offline_state (
    key         TEXT PRIMARY KEY,
    value_json  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
"""


# v7: what the last import of each battery file recorded (its bytes' hash and report), and each valid item's
# parse by a hash of its raw JSON, so an unchanged file costs nothing and a changed one re-validates only the
# items that changed (issue 13); and where an evaluation's report is in the workspace's storage, so the review
# app shows it on any machine sharing that storage (issue 16).
_V7_BATTERY_IMPORTS = """
ALTER TABLE evaluations ADD COLUMN report_key TEXT;
CREATE TABLE battery_imports (
    path         TEXT PRIMARY KEY,
    file_hash    TEXT NOT NULL,
    report_json  TEXT NOT NULL,
    imported_at  TEXT NOT NULL
);
CREATE TABLE battery_items (
    path           TEXT NOT NULL,
    item_hash      TEXT NOT NULL,
    correction_id  TEXT NOT NULL,
    key_hash       TEXT NOT NULL,
    said_hash      TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    imported       INTEGER NOT NULL,
    PRIMARY KEY (path, item_hash)
);
"""

# v8: a counter of the changes to what a battery import checks (a correction's id and content hash, or its being
# there at all), bumped by triggers in the writing transaction; each battery import records the value it left, so
# an unchanged re-import skips the per-item check against ``corrections`` while the counter has not moved (issue
# 13: that check was 100k random index lookups at 100k clips). SQLite has only row triggers, and counts rows;
# PostgreSQL counts statements (`_V8_POSTGRES`). Only equality matters: a move, however large, means "check".
_V8_CORRECTION_CHANGES = """
CREATE TABLE correction_changes (n BIGINT NOT NULL);
INSERT INTO correction_changes VALUES (0);
CREATE TRIGGER corrections_counted_insert AFTER INSERT ON corrections BEGIN
    UPDATE correction_changes SET n = n + 1;
END;
CREATE TRIGGER corrections_counted_update AFTER UPDATE OF id, content_hash ON corrections
WHEN OLD.id IS NOT NEW.id OR OLD.content_hash IS NOT NEW.content_hash BEGIN
    UPDATE correction_changes SET n = n + 1;
END;
CREATE TRIGGER corrections_counted_delete AFTER DELETE ON corrections BEGIN
    UPDATE correction_changes SET n = n + 1;
END;
ALTER TABLE battery_imports ADD COLUMN corrections_seen BIGINT;
"""

MIGRATIONS: list[str] = [
    _V1,
    _V2,
    _V3,
    _V4,
    _V5,
    _V6_OFFLINE_STATE,
    _V7_BATTERY_IMPORTS,
    _V8_CORRECTION_CHANGES,
]
SCHEMA_VERSION = len(MIGRATIONS)

REVISIONS: list[str] = [f"{n:04d}" for n in range(1, SCHEMA_VERSION + 1)]
"""Alembic revision id of each script: ``REVISIONS[v - 1]`` is the schema of ``user_version`` v."""

# v2's indexes store SQLite's JSON record key; PostgreSQL gets the same indexes on the plain columns.
_V2_POSTGRES = """
CREATE INDEX corrections_clip ON corrections(video_sha256, updated_at, niche, id) WHERE video_sha256 IS NOT NULL;
CREATE INDEX analyses_clip ON analyses(video_sha256, id, model, created_at);
CREATE INDEX analyses_model ON analyses(model);
CREATE INDEX reviews_analysis ON reviews(analysis_id, id, action);
"""

# v5 on PostgreSQL (issue 16): what the review queue (`humortune.workspace.stores.review_queue`) needs there.
# humortune_json_values is SQLite's ``CASE WHEN json_valid(doc) THEN json_extract(doc, '$.a', '$.b') END`` (a
# compact JSON array of top-level keys; NULL for text that is not JSON, so no row can fail the walk);
# humortune_json_number is ``COALESCE(json_extract(doc, '$.p'), …)`` for numbers and booleans (1/0).
# record_key is that array for the queue's category/quality/replicable, stored when a row is written (SQLite keeps
# the same expression in its v2 indexes), so the queue's walk parses no JSON.
# queue_changes counts the statements that wrote a table the queue reads, in the writing transaction itself, so a
# queue built by another process or machine sees the change once it commits (SQLite: PRAGMA data_version).
_QUEUE_TABLES = ("analyses", "corrections", "evaluations", "evaluation_items", "reviews")
_V5_POSTGRES: tuple[str, ...] = (
    """CREATE FUNCTION humortune_json_values(doc text, keys text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    parsed jsonb;
    parts text[] := '{}';
    k text;
BEGIN
    IF doc IS NULL THEN
        RETURN NULL;
    END IF;
    BEGIN
        parsed := doc::jsonb;
    EXCEPTION WHEN invalid_text_representation OR untranslatable_character THEN
        RETURN NULL;
    END;
    FOREACH k IN ARRAY keys LOOP
        parts := parts || COALESCE((parsed -> k)::text, 'null');
    END LOOP;
    RETURN '[' || array_to_string(parts, ',') || ']';
END $$""",
    """CREATE FUNCTION humortune_json_number(doc text, paths text[]) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    parsed jsonb;
    found jsonb;
    p text;
BEGIN
    IF doc IS NULL THEN
        RETURN NULL;
    END IF;
    parsed := doc::jsonb;
    FOREACH p IN ARRAY paths LOOP
        found := parsed #> string_to_array(p, '.');
        IF found IS NOT NULL AND jsonb_typeof(found) <> 'null' THEN
            RETURN CASE jsonb_typeof(found)
                WHEN 'number' THEN found::numeric::double precision
                WHEN 'boolean' THEN CASE WHEN found = 'true'::jsonb THEN 1 ELSE 0 END
            END;
        END IF;
    END LOOP;
    RETURN NULL;
END $$""",
    *(
        f"ALTER TABLE {table} ADD COLUMN record_key TEXT GENERATED ALWAYS AS"
        " (humortune_json_values(record_json, ARRAY['category', 'quality', 'replicable'])) STORED"
        for table in ("analyses", "corrections")
    ),
    "CREATE TABLE queue_changes (n BIGINT NOT NULL)",
    "INSERT INTO queue_changes VALUES (0)",
    """CREATE FUNCTION humortune_queue_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE queue_changes SET n = n + 1;
    RETURN NULL;
END $$""",
    *(
        f"CREATE TRIGGER {table}_queue_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION humortune_queue_changed()"
        for table in _QUEUE_TABLES
    ),
)

_V8_POSTGRES: tuple[str, ...] = (
    "CREATE TABLE correction_changes (n BIGINT NOT NULL)",
    "INSERT INTO correction_changes VALUES (0)",
    """CREATE FUNCTION humortune_correction_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE correction_changes SET n = n + 1;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER corrections_counted AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF id, content_hash"
    " ON corrections FOR EACH STATEMENT EXECUTE FUNCTION humortune_correction_changed()",
    "ALTER TABLE battery_imports ADD COLUMN corrections_seen BIGINT",
)

# corrections names videos and analyses before they exist: PostgreSQL checks that, SQLite does not.
_FORWARD_KEYS = (
    "ALTER TABLE corrections ADD FOREIGN KEY (video_sha256) REFERENCES videos(sha256)",
    "ALTER TABLE corrections ADD FOREIGN KEY (analysis_id) REFERENCES analyses(id)",
)


def statements(version: int, dialect: str) -> list[str]:
    """The statements of migration ``version`` (0-based) for ``dialect`` (``sqlite`` or ``postgresql``)."""
    script = MIGRATIONS[version]
    if dialect == "postgresql" and version == 4:
        return list(_V5_POSTGRES)  # dollar-quoted bodies: not for sqlite3.complete_statement
    if dialect == "postgresql" and version == 7:
        return list(_V8_POSTGRES)  # statement triggers and a function body, not SQLite's row triggers
    if dialect == "postgresql":
        script = _V2_POSTGRES if version == 1 else _postgres(script)
    found = _split(script)
    if dialect == "postgresql" and version == 0:
        found += _FORWARD_KEYS
    return list(found)


def _postgres(script: str) -> str:
    script = script.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    script = re.sub(r"\bREAL\b", "DOUBLE PRECISION", script)  # SQLite's REAL is 8 bytes, PostgreSQL's 4
    script = script.replace(" REFERENCES videos(sha256)", "").replace(" REFERENCES analyses(id),", ",")
    # evaluation items are read in insertion order: SQLite's rowid, an identity column here (Dialect).
    return script.replace(
        "    scores_json    TEXT NOT NULL,\n",
        "    scores_json    TEXT NOT NULL,\n    seq  BIGINT GENERATED BY DEFAULT AS IDENTITY,\n",
    )


def _split(script: str) -> list[str]:
    # one statement at a time (executescript() would commit the surrounding transaction)
    found, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            found.append(buffer.strip())
            buffer = ""
    return [s for s in found if s]
