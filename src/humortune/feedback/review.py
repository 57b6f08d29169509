"""Saving the owner's reviews: edit, accept as-is, skip, niche tag, undo.

Every save is one SQLite transaction that

1. writes the owner's reading as a `Correction` with ``source="review"`` (through `Corpus.add_correction`),
   linked to the analysis it corrects (``corrections.analysis_id``) and to the stored video;
2. appends a ``reviews`` row with the model, the model's dataset version and the **field-level diff**
   between what the model said and what the owner kept;
3. for "accept as-is" (or an explicit verdict), stores a ``pass_fail`` owner label for judge calibration.

A clip has one review correction, ``rv-<sha256 prefix>``: reviewing the clip again (for example another
model's analysis of it) updates the owner's latest word instead of adding a conflicting example. Battery
corrections of the same clip are left alone.

Undo is a stack: `ReviewStore.undo` reverts the newest review that is still in effect, restoring the
correction rows exactly as they were (or removing a correction the review created) and deleting the labels
it stored. The undo itself is recorded as a ``reviews`` row (``action="undo"``, ``{"undoes": id}``).
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from humortune.errors import FeedbackError, HumortuneError, RecordParseError, StaleReviewError
from humortune.schema import Analysis, Correction, HumorRecord, TokenUsage, VideoAsset, utcnow
from humortune.urls import parse_source
from humortune.workspace import Corpus
from humortune.workspace.corpus import correction_revision

__all__ = [
    "MAX_FIELD_CHARS",
    "MAX_NARRATIVE_CHARS",
    "NO_REVISION",
    "RECORD_FIELDS",
    "Clip",
    "ReviewAction",
    "ReviewResult",
    "ReviewStore",
    "field_diff",
    "load_analysis",
    "normalise_niche",
    "record_from_form",
    "review_correction_id",
]

ReviewAction = Literal["edit", "accept", "skip", "niche", "undo"]
"""What a ``reviews`` row records. ``niche`` is a tag-only change of the clip's niche."""

MAX_NARRATIVE_CHARS = 20_000
"""Longest narrative the review UI accepts (a narrative is a few paragraphs)."""
MAX_FIELD_CHARS = 2_000
"""Longest value of one record field."""
RECORD_FIELDS: tuple[str, ...] = tuple(HumorRecord.model_fields)
"""The record's fields, in display order."""
NO_REVISION = "none"
"""The revision of a clip that has no review correction yet."""
_NICHE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,39}$")
_LIVE_ACTIONS = ("edit", "accept", "skip", "niche")


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")


def normalise_niche(value: str | None) -> str | None:
    """A niche tag folded to lower case (``"Restaurant "`` → ``"restaurant"``); blank → ``None``.

    Raises `FeedbackError` unless it is 1–40 letters, digits, ``-`` or ``_``.
    """
    if value is None or not value.strip():
        return None
    folded = re.sub(r"\s+", "-", value.strip().lower())
    if not _NICHE.match(folded):
        raise FeedbackError(
            f"invalid niche {value[:50]!r}",
            hint="use 1–40 letters, digits, '-' or '_' (e.g. restaurant, service)",
            item="niche",
        )
    return folded


def record_from_form(values: dict[str, str]) -> HumorRecord | None:
    """A `HumorRecord` from form fields (strings); all blank → ``None``; otherwise validated in full.

    Raises `RecordParseError` naming the first bad or missing field.
    """
    cleaned = {k: (values.get(k) or "").strip() for k in RECORD_FIELDS}
    if not any(cleaned.values()):
        return None
    for name, value in cleaned.items():
        if len(value) > MAX_FIELD_CHARS:
            raise RecordParseError(
                f"invalid record: {name}: longer than {MAX_FIELD_CHARS} characters",
                field=name,
                hint="shorten it",
            )
        if not value:
            raise RecordParseError(
                f"invalid record: {name}: missing", field=name, hint="fill in every field, or clear them all"
            )
    return HumorRecord.from_mapping(dict(cleaned))


def field_diff(
    model_narrative: str | None,
    model_record: HumorRecord | None,
    owner_narrative: str,
    owner_record: HumorRecord | None,
) -> dict[str, dict[str, Any]]:
    """Field-level difference between the model's output and the owner's: ``{field: {model, owner}}``.

    Fields are ``narrative`` and ``record.<name>``; unchanged fields are left out, so an accepted output
    has an empty diff.
    """
    out: dict[str, dict[str, Any]] = {}
    if (model_narrative or "").strip() != owner_narrative.strip():
        out["narrative"] = {"model": model_narrative, "owner": owner_narrative}
    before = model_record.model_dump(mode="json") if model_record else {}
    after = owner_record.model_dump(mode="json") if owner_record else {}
    for name in RECORD_FIELDS:
        if before.get(name) != after.get(name):
            out[f"record.{name}"] = {"model": before.get(name), "owner": after.get(name)}
    return out


def load_analysis(corpus: Corpus, analysis_id: str) -> Analysis | None:
    """One row of the ``analyses`` table as an `Analysis`, or ``None``."""
    row = corpus.db.query_one("SELECT * FROM analyses WHERE id = ?", (analysis_id,))
    return _row_to_analysis(row) if row is not None else None


def _row_to_analysis(row: sqlite3.Row) -> Analysis:
    usage: dict[str, Any] = json.loads(row["usage_json"] or "{}")
    record = None
    if row["record_json"]:
        try:
            record = HumorRecord.model_validate_json(row["record_json"])
        except ValueError:
            record = None  # an unreadable stored record is shown as missing, never as a crash
    return Analysis(
        id=row["id"],
        video_sha256=row["video_sha256"],
        video_uri=row["video_uri"],
        narrative=row["narrative"],
        record=record,
        model=row["model"],
        record_model=usage.get("record_model"),
        prompt_version=row["prompt_version"],
        mode=row["mode"],
        usage=TokenUsage(**{k: v for k, v in usage.items() if k in TokenUsage.model_fields}),
        latency_s=row["latency_s"] or 0.0,
        cost_usd=row["cost_usd"],
        warnings=json.loads(row["warnings_json"] or "[]"),
        created_at=datetime.fromisoformat(row["created_at"]),
    )


def review_correction_id(analysis: Analysis) -> str:
    """The id of a clip's review correction: ``rv-`` + the first 20 hex digits of the video's sha256."""
    from humortune._util import short_hash

    key = analysis.video_sha256 or short_hash(analysis.video_uri, 64)
    return f"rv-{key[:20]}"


@dataclass(frozen=True, slots=True)
class Clip:
    """Everything the clip page shows for one analysis."""

    analysis: Analysis
    video: VideoAsset | None
    previous: Correction | None
    """The owner's latest correction of this clip (any source), if there is one."""
    dataset_id: str | None
    """The dataset version the analysing model was tuned on, when it is a registered tuned model."""
    state: str | None
    """The review in effect for this analysis (``edit``, ``accept``, ``skip``, ``niche``) or ``None``."""
    revision: str = NO_REVISION
    """The revision of the clip's review correction the page shows; a save carries it back (see `save`)."""

    @property
    def niche(self) -> str | None:
        """The clip's niche, from the owner's latest correction."""
        return self.previous.niche if self.previous else None


@dataclass(frozen=True, slots=True)
class ReviewResult:
    """What a save, skip, tag or undo did."""

    review_id: int
    action: ReviewAction
    analysis_id: str | None
    correction_id: str | None = None
    outcome: str = ""
    """``added``, ``updated`` or ``unchanged`` for saves; empty otherwise."""
    diff: dict[str, dict[str, Any]] = field(default_factory=dict)
    undone: str | None = None
    """For an undo: the action it reverted (``edit``, ``accept``, ``skip`` or ``niche``)."""


class ReviewStore:
    """Reads clips for review and writes the owner's reviews, atomically.

    ```python
    store = ReviewStore(corpus)
    clip = store.clip("an-0123456789abcdef")
    store.save(clip.analysis.id, narrative="…", record=record, niche="restaurant")
    store.undo()
    ```
    """

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus

    # -- reading ----------------------------------------------------------------------------------

    def clip(self, analysis_id: str) -> Clip | None:
        """The analysis with its video, the owner's previous correction and the review state."""
        analysis = load_analysis(self.corpus, analysis_id)
        if analysis is None:
            return None
        video = self.corpus.video(analysis.video_sha256) if analysis.video_sha256 else None
        return Clip(
            analysis=analysis,
            video=video,
            previous=self.previous_correction(analysis),
            dataset_id=self._dataset_of(analysis.model),
            state=self.state(analysis_id),
            revision=self.revision(analysis),
        )

    def revision(self, analysis: Analysis) -> str:
        """The revision of the clip's review correction: its content hash, or `NO_REVISION`."""
        row = self.corpus.db.query_one(
            "SELECT content_hash FROM corrections WHERE id = ?", (review_correction_id(analysis),)
        )
        return str(row["content_hash"]) if row is not None else NO_REVISION

    def previous_correction(self, analysis: Analysis) -> Correction | None:
        """The owner's most recently changed correction of the analysed clip."""
        if analysis.video_sha256 is None:
            return None
        row = self.corpus.db.query_one(
            "SELECT id FROM corrections WHERE video_sha256 = ? ORDER BY updated_at DESC, id LIMIT 1",
            (analysis.video_sha256,),
        )
        return self.corpus.correction(row["id"]) if row is not None else None

    def state(self, analysis_id: str) -> str | None:
        """The review in effect for an analysis: its latest review's action, unless that was an undo."""
        row = self.corpus.db.query_one(
            "SELECT action FROM reviews WHERE analysis_id = ? ORDER BY id DESC LIMIT 1", (analysis_id,)
        )
        if row is None or row["action"] == "undo":
            return None
        return str(row["action"])

    def niches(self) -> list[str]:
        """Every niche the corpus knows, for suggestions."""
        rows = self.corpus.db.query("SELECT DISTINCT niche FROM corrections WHERE niche IS NOT NULL ORDER BY niche")
        return [str(r["niche"]) for r in rows]

    def _dataset_of(self, model: str) -> str | None:
        row = self.corpus.db.query_one(
            "SELECT dataset_id FROM models WHERE id = ? OR endpoint = ? LIMIT 1", (model, model)
        )
        return str(row["dataset_id"]) if row is not None and row["dataset_id"] else None

    def _require(self, analysis_id: str) -> Analysis:
        analysis = load_analysis(self.corpus, analysis_id)
        if analysis is None:
            raise FeedbackError("no such analysis", hint="reload the queue", item=analysis_id)
        return analysis

    # -- writing ----------------------------------------------------------------------------------

    def save(
        self,
        analysis_id: str,
        *,
        narrative: str,
        record: HumorRecord | None,
        niche: str | None = None,
        verdict: Literal["PASS", "FAIL"] | None = None,
        action: Literal["edit", "accept"] = "edit",
        revision: str | None = None,
    ) -> ReviewResult:
        """Store the owner's reading of the analysed clip as a review correction, in one transaction.

        ``verdict`` is the owner's PASS/FAIL on the model's explanation (a ``pass_fail`` owner label).
        ``revision`` is the `Clip.revision` the edit started from: when another save has changed the clip's
        correction since (another tab), nothing is written and `StaleReviewError` carries the saved version
        (a save identical to the stored correction is not a conflict). ``None`` skips the check.
        """
        narrative = narrative.strip()
        if not narrative:
            raise FeedbackError("the narrative is empty", hint="write what the clip does, or skip it", item="narrative")
        if len(narrative) > MAX_NARRATIVE_CHARS:
            raise FeedbackError(
                f"the narrative is longer than {MAX_NARRATIVE_CHARS} characters", hint="shorten it", item="narrative"
            )
        niche = normalise_niche(niche)
        analysis = self._require(analysis_id)
        diff = field_diff(analysis.narrative, analysis.record, narrative, record)
        cid = review_correction_id(analysis)
        now = utcnow()
        db = self.corpus.db
        with db.transaction() as conn:
            before = conn.execute("SELECT * FROM corrections WHERE id = ?", (cid,)).fetchone()
            previous = self.corpus.correction(cid) if before is not None else None
            url = previous.video_url if previous is not None else self._clip_url(conn, analysis)
            correction = Correction(
                id=cid,
                video_url=url,
                gemini_said=analysis.narrative,
                human_said=narrative,
                record=record,
                niche=niche,
                source="review",
                created_at=previous.created_at if previous is not None else now,
                **(previous.extra if previous is not None else {}),
            )
            if revision is not None:
                self._check_revision(revision, before, previous, correction)
            try:
                outcome = self.corpus.add_correction(correction)
            except HumortuneError as exc:
                raise FeedbackError(f"cannot store the correction: {exc.message}", hint=exc.hint, item=cid) from exc
            sha = analysis.video_sha256
            if sha is not None and conn.execute("SELECT 1 FROM videos WHERE sha256 = ?", (sha,)).fetchone() is None:
                sha = None
            conn.execute(
                "UPDATE corrections SET analysis_id = ?, video_sha256 = COALESCE(?, video_sha256) WHERE id = ?",
                (analysis_id, sha, cid),
            )
            labels: list[int] = []
            if verdict is None and action == "accept":
                verdict = "PASS"  # accepting the output as-is is the owner saying it is right
            if verdict is not None:
                labels.append(self._label(conn, cid, analysis, verdict, now))
            payload = {
                "fields": diff,
                "changed": sorted(diff),
                "previous": [{"id": cid, "row": dict(before) if before is not None else None}],
                "labels": labels,
                "outcome": outcome,
            }
            review_id = self._append(conn, action, analysis, cid, payload, now)
        return ReviewResult(review_id, action, analysis_id, cid, outcome, diff)

    def accept(self, analysis_id: str, *, niche: str | None = None, revision: str | None = None) -> ReviewResult:
        """The model got it right: store its output as the owner's correction (and a PASS label)."""
        analysis = self._require(analysis_id)
        return self.save(
            analysis_id,
            narrative=analysis.narrative,
            record=analysis.record,
            niche=niche,
            action="accept",
            revision=revision,
        )

    def skip(self, analysis_id: str) -> ReviewResult:
        """Take the analysis out of the queue without writing a correction."""
        analysis = self._require(analysis_id)
        with self.corpus.db.transaction() as conn:
            review_id = self._append(conn, "skip", analysis, None, {"fields": {}, "previous": []}, utcnow())
        return ReviewResult(review_id, "skip", analysis_id)

    def tag_niche(self, analysis_id: str, niche: str | None) -> ReviewResult:
        """Set the niche on every correction of the analysed clip (battery ones included)."""
        niche = normalise_niche(niche)
        analysis = self._require(analysis_id)
        if analysis.video_sha256 is None:
            raise FeedbackError("this clip has no stored video", hint="ingest it first", item=analysis_id)
        with self.corpus.db.transaction() as conn:
            rows = conn.execute("SELECT * FROM corrections WHERE video_sha256 = ?", (analysis.video_sha256,)).fetchall()
            if not rows:
                raise FeedbackError(
                    "the clip has no correction to tag yet",
                    hint="save or accept a correction; the niche is stored with it",
                    item=analysis_id,
                )
            previous = []
            for row in rows:
                current = self.corpus.correction(row["id"])
                if current is None or current.niche == niche:
                    continue
                previous.append({"id": row["id"], "row": dict(row)})
                self.corpus.add_correction(current.model_copy(update={"niche": niche}))
            payload = {"fields": {"niche": {"owner": niche}}, "previous": previous}
            review_id = self._append(conn, "niche", analysis, None, payload, utcnow())
        return ReviewResult(review_id, "niche", analysis_id)

    def undo(self) -> ReviewResult | None:
        """Revert the newest review still in effect; ``None`` when there is nothing to undo."""
        db = self.corpus.db
        with db.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM reviews WHERE action IN ('edit', 'accept', 'skip', 'niche') AND id NOT IN"
                " (SELECT CAST(json_extract(diff_json, '$.undoes') AS INTEGER) FROM reviews WHERE action = 'undo')"
                " ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            payload: dict[str, Any] = json.loads(row["diff_json"] or "{}")
            for entry in reversed(payload.get("previous", [])):
                self._restore(conn, entry["id"], entry.get("row"))
            for label_id in payload.get("labels", []):
                conn.execute("DELETE FROM owner_labels WHERE id = ?", (int(label_id),))
            now = _iso(utcnow())
            cursor = conn.execute(
                "INSERT INTO reviews (correction_id, analysis_id, model, dataset_id, action, diff_json, created_at)"
                " VALUES (?, ?, ?, ?, 'undo', ?, ?)",
                (
                    self._existing(conn, row["correction_id"]),
                    row["analysis_id"],
                    row["model"],
                    row["dataset_id"],
                    json.dumps({"undoes": int(row["id"]), "action": row["action"]}),
                    now,
                ),
            )
            undo_id = int(cursor.lastrowid or 0)
        return ReviewResult(undo_id, "undo", row["analysis_id"], row["correction_id"], undone=str(row["action"]))

    # -- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _check_revision(revision: str, before: sqlite3.Row | None, saved: Correction | None, mine: Correction) -> None:
        current = str(before["content_hash"]) if before is not None else NO_REVISION
        if revision == current:
            return
        if current == correction_revision(mine):
            return  # the other tab saved exactly this: nothing to lose
        raise StaleReviewError(
            "this clip's correction was saved from another tab or window after you opened it",
            saved=saved,
            revision=current,
            item=mine.id,
        )

    @staticmethod
    def _existing(conn: sqlite3.Connection, correction_id: str | None) -> str | None:
        if correction_id is None:
            return None
        found = conn.execute("SELECT 1 FROM corrections WHERE id = ?", (correction_id,)).fetchone()
        return correction_id if found is not None else None

    @staticmethod
    def _restore(conn: sqlite3.Connection, correction_id: str, row: dict[str, Any] | None) -> None:
        if row is None:  # the review created it: remove it (reviews keep the id in their diff_json)
            conn.execute("UPDATE reviews SET correction_id = NULL WHERE correction_id = ?", (correction_id,))
            conn.execute("DELETE FROM corrections WHERE id = ?", (correction_id,))
            return
        columns = [c for c in row if c != "id"]
        assignments = ", ".join(f"{c} = ?" for c in columns)
        conn.execute(f"UPDATE corrections SET {assignments} WHERE id = ?", (*(row[c] for c in columns), correction_id))

    def _append(
        self,
        conn: sqlite3.Connection,
        action: ReviewAction,
        analysis: Analysis,
        correction_id: str | None,
        payload: dict[str, Any],
        now: datetime,
    ) -> int:
        cursor = conn.execute(
            "INSERT INTO reviews (correction_id, analysis_id, model, dataset_id, action, diff_json, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                correction_id,
                analysis.id,
                analysis.model,
                self._dataset_of(analysis.model),
                action,
                json.dumps(payload, ensure_ascii=False, default=str),
                _iso(now),
            ),
        )
        return int(cursor.lastrowid or 0)

    @staticmethod
    def _label(conn: sqlite3.Connection, correction_id: str, analysis: Analysis, verdict: str, now: datetime) -> int:
        payload = {"verdict": verdict, "analysis_id": analysis.id, "model": analysis.model, "source": "review"}
        cursor = conn.execute(
            "INSERT INTO owner_labels (kind, correction_id, video_sha256, payload_json, created_at)"
            " VALUES ('pass_fail', ?, ?, ?, ?)",
            (correction_id, analysis.video_sha256, json.dumps(payload), _iso(now)),
        )
        return int(cursor.lastrowid or 0)

    def _clip_url(self, conn: sqlite3.Connection, analysis: Analysis) -> str:
        """The URL a new review correction names its clip by: the same as the owner's other corrections
        of the clip when there are any (so it shares their canonical key and split), else one derived
        from the stored video."""
        candidates: list[str] = []
        if analysis.video_sha256 is not None:
            row = conn.execute(
                "SELECT video_url FROM corrections WHERE video_sha256 = ? ORDER BY updated_at DESC LIMIT 1",
                (analysis.video_sha256,),
            ).fetchone()
            if row is not None:
                candidates.append(str(row["video_url"]))
            video = conn.execute(
                "SELECT source_id, uri FROM videos WHERE sha256 = ?", (analysis.video_sha256,)
            ).fetchone()
            if video is not None and str(video["source_id"]).isdigit():
                candidates.append(f"https://www.tiktok.com/@_/video/{video['source_id']}")
        uri = analysis.video_uri
        if uri.startswith("gs://"):
            candidates.append("https://storage.googleapis.com/" + uri[5:])
        candidates.append(uri)
        for url in candidates:
            try:
                parse_source(url)
            except HumortuneError:
                continue
            return url
        raise FeedbackError(
            "cannot name this clip by a URL", hint="ingest the clip from its URL first", item=analysis.video_uri
        )
