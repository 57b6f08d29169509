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

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from humortune.errors import FeedbackError, HumortuneError, RecordParseError, StaleReviewError
from humortune.schema import Analysis, Correction, HumorRecord, VideoAsset, utcnow
from humortune.urls import parse_source
from humortune.workspace import Corpus, Stores
from humortune.workspace.corpus import correction_revision
from humortune.workspace.stores import CorrectionSnapshot, ReviewEvent
from humortune.workspace.stores.analyses import STALE_RECORD

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
    found = Stores.of(corpus.db).analyses.get(analysis_id, lenient=True)
    if found is None or STALE_RECORD not in found.warnings:
        return found
    # An unreadable stored record is shown as missing, never as a crash (and without the store's flag).
    return found.model_copy(update={"warnings": [w for w in found.warnings if w != STALE_RECORD]})


def _revision_of(stored: CorrectionSnapshot | None) -> str:
    return str(stored.row["content_hash"]) if stored is not None else NO_REVISION


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
        self.stores = Stores.of(corpus.db)

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
        stored = self.stores.corrections.snapshot(review_correction_id(analysis))
        return _revision_of(stored)

    def previous_correction(self, analysis: Analysis) -> Correction | None:
        """The owner's most recently changed correction of the analysed clip."""
        if analysis.video_sha256 is None:
            return None
        latest = self.stores.corrections.latest_for_clip(analysis.video_sha256)
        return self.corpus.correction(latest.id) if latest is not None else None

    def state(self, analysis_id: str) -> str | None:
        """The review in effect for an analysis: its latest review's action, unless that was an undo."""
        action = self.stores.reviews.last_action(analysis_id)
        return None if action is None or action == "undo" else str(action)

    def niches(self) -> list[str]:
        """Every niche the corpus knows, for suggestions."""
        return self.stores.corrections.niches()

    def _dataset_of(self, model: str) -> str | None:
        found = self.stores.models.find(model)
        return found.dataset_id if found is not None and found.dataset_id else None

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
        with self.corpus.db.transaction():
            before = self.stores.corrections.snapshot(cid)
            previous = self.corpus.correction(cid) if before is not None else None
            url = previous.video_url if previous is not None else self._clip_url(analysis)
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
            if sha is not None and not self.stores.videos.exists(sha):
                sha = None
            self.stores.corrections.link_analysis(cid, analysis_id, video_sha256=sha)
            labels: list[int] = []
            if verdict is None and action == "accept":
                verdict = "PASS"  # accepting the output as-is is the owner saying it is right
            if verdict is not None:
                labels.append(self._label(cid, analysis, verdict))
            payload = {
                "fields": diff,
                "changed": sorted(diff),
                "previous": [{"id": cid, "row": dict(before.row) if before is not None else None}],
                "labels": labels,
                "outcome": outcome,
            }
            review_id = self._append(action, analysis, cid, payload)
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
        with self.corpus.db.transaction():
            review_id = self._append("skip", analysis, None, {"fields": {}, "previous": []})
        return ReviewResult(review_id, "skip", analysis_id)

    def tag_niche(self, analysis_id: str, niche: str | None) -> ReviewResult:
        """Set the niche on every correction of the analysed clip (battery ones included)."""
        niche = normalise_niche(niche)
        analysis = self._require(analysis_id)
        if analysis.video_sha256 is None:
            raise FeedbackError("this clip has no stored video", hint="ingest it first", item=analysis_id)
        with self.corpus.db.transaction():
            rows = self.stores.corrections.snapshots_for_clip(analysis.video_sha256)
            if not rows:
                raise FeedbackError(
                    "the clip has no correction to tag yet",
                    hint="save or accept a correction; the niche is stored with it",
                    item=analysis_id,
                )
            previous = []
            for row in rows:
                current = self.corpus.correction(row.id)
                if current is None or current.niche == niche:
                    continue
                previous.append({"id": row.id, "row": dict(row.row)})
                self.corpus.add_correction(current.model_copy(update={"niche": niche}))
            payload = {"fields": {"niche": {"owner": niche}}, "previous": previous}
            review_id = self._append("niche", analysis, None, payload)
        return ReviewResult(review_id, "niche", analysis_id)

    def undo(self) -> ReviewResult | None:
        """Revert the newest review still in effect; ``None`` when there is nothing to undo."""
        with self.corpus.db.transaction():
            last = self.stores.reviews.last_undoable()
            if last is None:
                return None
            for entry in reversed(last.diff.get("previous", [])):
                self._restore(entry["id"], entry.get("row"))
            for label_id in last.diff.get("labels", []):
                self.stores.labels.delete(int(label_id))
            correction_id = last.correction_id
            undo = ReviewEvent(
                correction_id=correction_id
                if correction_id and self.stores.corrections.exists(correction_id)
                else None,
                analysis_id=last.analysis_id,
                model=last.model,
                dataset_id=last.dataset_id,
                action="undo",
                diff={"undoes": last.id, "action": last.action},
            )
            undo_id = self.stores.reviews.append(undo)
        return ReviewResult(undo_id, "undo", last.analysis_id, last.correction_id, undone=str(last.action))

    # -- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _check_revision(
        revision: str, before: CorrectionSnapshot | None, saved: Correction | None, mine: Correction
    ) -> None:
        current = _revision_of(before)
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

    def _restore(self, correction_id: str, row: dict[str, Any] | None) -> None:
        if row is None:  # the review created it: remove it (reviews keep the id in their diff_json)
            self.stores.reviews.detach_correction(correction_id)
            self.stores.corrections.delete(correction_id)
            return
        # Only the table's known columns are written back (a diff_json row is data, never column names).
        self.stores.corrections.restore(CorrectionSnapshot(id=correction_id, row=row))

    def _append(
        self, action: ReviewAction, analysis: Analysis, correction_id: str | None, payload: dict[str, Any]
    ) -> int:
        event = ReviewEvent(
            correction_id=correction_id,
            analysis_id=analysis.id,
            model=analysis.model,
            dataset_id=self._dataset_of(analysis.model),
            action=action,
            diff=payload,
        )
        return self.stores.reviews.append(event)

    def _label(self, correction_id: str, analysis: Analysis, verdict: str) -> int:
        payload = {"verdict": verdict, "analysis_id": analysis.id, "model": analysis.model, "source": "review"}
        return self.stores.labels.add(
            "pass_fail", payload, correction_id=correction_id, video_sha256=analysis.video_sha256
        )

    def _clip_url(self, analysis: Analysis) -> str:
        """The URL a new review correction names its clip by: the same as the owner's other corrections
        of the clip when there are any (so it shares their canonical key and split), else one derived
        from the stored video."""
        candidates: list[str] = []
        if analysis.video_sha256 is not None:
            latest = self.stores.corrections.latest_for_clip(analysis.video_sha256)
            if latest is not None:
                candidates.append(latest.video_url)
            video = self.stores.videos.get(analysis.video_sha256)
            if video is not None and str(video.source_id).isdigit():
                candidates.append(f"https://www.tiktok.com/@_/video/{video.source_id}")
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
