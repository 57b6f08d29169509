"""Dataset versions in the corpus: load, list, show and diff them, through the workspace stores (no SQL here).

Tables (workspace/migrations.py): ``dataset_versions`` (one row per version, with its manifest, validation
and estimate as JSON), ``dataset_examples`` (which correction went into which split, and the hash of its
row) and ``split_assignments`` (the recorded split of every clip, never moved once set).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from humortune.dataset.issues import Issue, VideoFacts
from humortune.errors import DatasetError
from humortune.schema import DatasetVersion
from humortune.storage import Storage
from humortune.workspace import Corpus
from humortune.workspace.stores import Stores
from humortune.workspace.stores.corrections import CorrectionSource
from humortune.workspace.stores.datasets import DatasetExample, DatasetRecord

__all__ = [
    "DatasetDiff",
    "ExampleRef",
    "SourceRow",
    "diff_versions",
    "list_versions",
    "load_examples",
    "load_sources",
    "load_version",
    "recorded_splits",
    "resolve_version",
    "save_version",
    "storage_key",
    "tuned_video_keys",
    "verify_files",
    "version_manifest",
    "video_facts",
]


SourceRow = CorrectionSource
"""One correction joined with its stored video (if ingested): what the builder needs, nothing more."""

ExampleRef = DatasetExample
"""One example of a version: the correction, its video, its split and the hash of its JSONL row."""


def _stores(corpus: Corpus) -> Stores:
    return Stores.of(corpus.db)


@dataclass(slots=True)
class DatasetDiff:
    """What changed between two versions, by correction id."""

    old: str
    new: str
    added: list[ExampleRef] = field(default_factory=list)
    removed: list[ExampleRef] = field(default_factory=list)
    changed: list[tuple[ExampleRef, ExampleRef]] = field(default_factory=list)
    """(old, new) pairs whose row differs (the correction's text, record, video or prompt changed)."""
    moved: list[tuple[ExampleRef, ExampleRef]] = field(default_factory=list)
    """(old, new) pairs whose split differs (only possible via the leakage guard)."""
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        """Whether the two versions hold exactly the same examples."""
        return not (self.added or self.removed or self.changed or self.moved)


def load_sources(corpus: Corpus, *, niche: str | None = None) -> list[SourceRow]:
    """Every correction (optionally of one niche) with its stored video, ordered by correction id."""
    return _stores(corpus).corrections.sources(niche=niche)


def latest_per_clip(sources: list[SourceRow]) -> tuple[list[SourceRow], dict[str, str]]:
    """One correction per clip: the owner's latest word wins (a review after the battery, or the reverse).

    Returns the kept rows (in their original order) and ``{superseded correction id: id that replaced it}``.
    Clips are the same when they share a content hash or, before ingest, a canonical video key.
    """
    winner: dict[str, SourceRow] = {}
    for source in sources:
        clip = source.video_sha256 or source.video_key
        best = winner.get(clip)
        if best is None or (source.updated_at, source.correction_id) > (best.updated_at, best.correction_id):
            winner[clip] = source
    kept_ids = {s.correction_id for s in winner.values()}
    superseded = {
        s.correction_id: winner[s.video_sha256 or s.video_key].correction_id
        for s in sources
        if s.correction_id not in kept_ids
    }
    return [s for s in sources if s.correction_id in kept_ids], superseded


def recorded_splits(corpus: Corpus) -> dict[str, str]:
    """The recorded split of every clip: canonical video key → train | validation | test."""
    return _stores(corpus).datasets.splits()


def tuned_video_keys(corpus: Corpus) -> set[str]:
    """Canonical keys of clips in the train or validation split of a dataset a tuning job or model used."""
    return _stores(corpus).datasets.tuned_video_keys()


def save_version(
    corpus: Corpus,
    version: DatasetVersion,
    *,
    settings: Mapping[str, Any],
    manifest: Mapping[str, Any],
    validation: Mapping[str, Any],
    examples: Iterable[ExampleRef],
    new_splits: Mapping[str, str],
    moved_splits: Mapping[str, str],
    seed: str,
) -> bool:
    """Record a built version, its examples and its new split assignments, in one transaction.

    Returns ``False`` (and records nothing) if another process recorded the same version first.
    """
    record = DatasetRecord(
        id=version.id,
        created_at=version.created_at,
        prompt_version=version.prompt_version,
        target_format=version.target_format,
        media_resolution=version.media_resolution,
        niche=version.niche,
        settings=dict(settings),
        manifest=dict(manifest),
        estimate=version.estimate,
        validation=dict(validation),
        valid=version.valid,
        storage_prefix=version.storage_prefix,
        train_uri=version.train_uri,
        validation_uri=version.validation_uri,
        test_uri=version.test_uri,
    )
    return _stores(corpus).datasets.save(record, examples, new_splits=new_splits, moved_splits=moved_splits, seed=seed)


def _to_version(record: DatasetRecord) -> DatasetVersion:
    manifest, issues = record.manifest, record.validation.get("issues", [])
    return DatasetVersion(
        id=record.id,
        created_at=record.created_at,
        prompt_version=record.prompt_version,
        target_format=record.target_format,
        media_resolution=record.media_resolution,
        niche=record.niche,
        storage_prefix=record.storage_prefix,
        train_uri=record.train_uri,
        validation_uri=record.validation_uri,
        test_uri=record.test_uri,
        counts=manifest.get("counts", {}),
        valid=record.valid,
        errors=[_issue_text(i) for i in issues if i.get("severity") == "error"],
        warnings=[_issue_text(i) for i in issues if i.get("severity") == "warning"] + manifest.get("notes", []),
        estimate=record.estimate,
    )


def _issue_text(issue: Mapping[str, Any]) -> str:
    return str(
        Issue(
            str(issue.get("rule")),
            "error" if issue.get("severity") == "error" else "warning",
            str(issue.get("message")),
            issue.get("split"),
            issue.get("line"),
            issue.get("hint"),
        )
    )


def load_version(corpus: Corpus, version_id: str) -> DatasetVersion | None:
    """One version by exact id, or ``None``."""
    record = _stores(corpus).datasets.get(version_id)
    return _to_version(record) if record else None


def resolve_version(corpus: Corpus, ref: str | None = None) -> DatasetVersion:
    """A version by id, unique id prefix, or ``None``/``"latest"`` for the newest. Raises `DatasetError`."""
    datasets = _stores(corpus).datasets
    if ref in (None, "", "latest"):
        latest = datasets.latest()
        if latest is None:
            raise DatasetError("no dataset version yet", hint="run `humortune build` (or `humortune prepare`)")
        return _to_version(latest)
    assert ref is not None
    records = datasets.matching(ref)
    exact = [r for r in records if r.id == ref]
    if exact or len(records) == 1:
        return _to_version((exact or records)[0])
    if not records:
        raise DatasetError(f"no dataset version {ref!r}", hint="see `humortune datasets list`", item=ref)
    raise DatasetError(f"{ref!r} matches {len(records)} versions", hint="give more characters of the id", item=ref)


def list_versions(corpus: Corpus) -> list[DatasetVersion]:
    """Every version, newest first."""
    return [_to_version(r) for r in _stores(corpus).datasets.all()]


def load_examples(corpus: Corpus, version_id: str) -> list[ExampleRef]:
    """The examples of one version, by correction id."""
    return _stores(corpus).datasets.examples(version_id)


def version_manifest(corpus: Corpus, version_id: str) -> dict[str, Any]:
    """The manifest and build settings recorded with a version."""
    record = _stores(corpus).datasets.get(version_id)
    if record is None:
        raise DatasetError(f"no dataset version {version_id!r}", item=version_id)
    return {"manifest": record.manifest, "settings": record.settings, "validation": record.validation}


def diff_versions(corpus: Corpus, old: str, new: str) -> DatasetDiff:
    """Added, removed, changed and moved examples from version ``old`` to version ``new``."""
    a = resolve_version(corpus, old).id
    b = resolve_version(corpus, new).id
    before = {e.correction_id: e for e in load_examples(corpus, a)}
    after = {e.correction_id: e for e in load_examples(corpus, b)}
    result = DatasetDiff(old=a, new=b)
    for cid in sorted(before.keys() | after.keys()):
        x, y = before.get(cid), after.get(cid)
        if x is None and y is not None:
            result.added.append(y)
        elif y is None and x is not None:
            result.removed.append(x)
        elif x is not None and y is not None:
            if x.split != y.split:
                result.moved.append((x, y))
            if x.row_hash != y.row_hash:
                result.changed.append((x, y))
            elif x.split == y.split:
                result.unchanged += 1
    return result


def verify_files(corpus: Corpus, storage: Storage, version_id: str) -> dict[str, str]:
    """What is wrong with a version's JSONL files in ``storage``, by split: missing, or not the bytes that
    were built. Files outside ``storage`` (the storage moved since) are not checked."""
    files: dict[str, Any] = version_manifest(corpus, version_id)["manifest"].get("files", {})
    problems: dict[str, str] = {}
    for split, meta in files.items():
        key = storage_key(storage, meta["uri"])
        if key is None:
            continue
        info = storage.stat(key)
        if info is None:
            problems[split] = f"{meta['uri']} is missing"
        elif info.size != meta["bytes"] or (info.sha256 is not None and info.sha256 != meta["sha256"]):
            problems[split] = f"{meta['uri']} is not the file that was built (size or sha256 differ)"
    return problems


def storage_key(storage: Storage, uri: str) -> str | None:
    """The object key of ``uri`` in ``storage``, or ``None`` if the URI is not under its root."""
    return storage_keys(storage, (uri,)).get(uri)


def storage_keys(storage: Storage, uris: Iterable[str]) -> dict[str, str]:
    """uri → object key for the URIs under ``storage``'s root (the root is worked out once, not per URI)."""
    root = storage.root_uri.rstrip("/") + "/"
    cut, local = len(root), root.startswith("file:")
    return {uri: unquote(uri[cut:]) if local else uri[cut:] for uri in uris if uri.startswith(root)}


def video_facts(corpus: Corpus, storage: Storage) -> Callable[[str], VideoFacts]:
    """What the corpus and storage know about a video URI, for validating JSONL that refers to it.

    Probe facts (size, duration, audio) come from the corpus' videos table; existence from ``storage`` for
    URIs under its root, from the file system for other ``file://`` URIs; anything else is unknown.
    """
    known = _stores(corpus).videos.facts()
    cache: dict[str, VideoFacts] = {}

    def facts(uri: str) -> VideoFacts:
        if uri in cache:
            return cache[uri]
        row = known.get(uri)
        exists: bool | None = None
        size = int(row.size_bytes) if row else None
        key = storage_key(storage, uri)
        if key is not None:
            exists = storage.exists(key)
        elif uri.startswith("file:"):
            path = Path(unquote(urlsplit(uri).path))
            exists = path.is_file()
            size = path.stat().st_size if exists and size is None else size
        result = VideoFacts(
            exists=exists,
            size_bytes=size,
            duration_s=float(row.duration_s) if row else None,
            has_audio=bool(row.has_audio) if row else True,
        )
        cache[uri] = result
        return result

    return facts
