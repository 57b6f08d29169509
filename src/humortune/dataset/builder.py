"""`DatasetBuilder`: corpus → split → Vertex JSONL rows → validate → estimate → a recorded `DatasetVersion`.

```python
builder = DatasetBuilder(corpus, storage, settings=settings)
version = builder.build(split=(0.8, 0.2), seed="humortune")
version.train_uri, version.estimate.usd_high
```

A version's id is the hash of its rows (per split), the videos' content hashes, the prompt version, the
target format and the build settings. Building again from the same corpus gives the same id and writes
nothing. Files are put-if-absent under ``training/datasets/<id>/`` (``train.jsonl``, ``validation.jsonl``,
``test.jsonl`` when there is a held-out set, and ``manifest.json`` with the lineage, written last), then
the version is recorded in the corpus in one transaction, so a crash at any point leaves nothing
half-recorded and a rerun completes the job.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Unpack

from humortune._util import cyclic_gc_paused, short_hash
from humortune.dataset.estimate import estimate_cost
from humortune.dataset.issues import Issue, ValidationReport, VideoFacts
from humortune.dataset.limits import LIMITS, MEDIA_RESOLUTIONS
from humortune.dataset.options import BuildOptions, BuildOverrides
from humortune.dataset.registry import (
    ExampleRef,
    SourceRow,
    latest_per_clip,
    load_sources,
    load_version,
    recorded_splits,
    save_version,
    storage_keys,
    tuned_video_keys,
    verify_files,
)
from humortune.dataset.rows import TARGET_FORMATS, example_line, example_row, render_target
from humortune.dataset.split import SPLITS, SplitItem, SplitPlan, assign_splits, normalise_fractions
from humortune.dataset.validator import Validator
from humortune.errors import DatasetError, DatasetValidationError
from humortune.prompts import DEFAULT_PROMPT, Prompt
from humortune.schema import CostEstimate, DatasetVersion, HumorRecord, TargetFormat, utcnow
from humortune.settings import Settings
from humortune.storage import VIDEO_PREFIX, LocalStorage, Storage, dataset_key, open_storage
from humortune.workspace import Corpus
from humortune.workspace.stores import Stores
from humortune.workspace.stores.prompts import StoredPrompt

if TYPE_CHECKING:  # pragma: no cover
    from humortune.app import App

__all__ = ["BuildResult", "DatasetBuilder", "Skipped"]

_LIST_THRESHOLD = 64  # above this many videos, one storage listing beats one lookup per video


@dataclass(frozen=True, slots=True)
class Skipped:
    """A correction that did not become a row, why, and what to do."""

    correction_id: str
    reason: str
    hint: str


@dataclass(slots=True)
class BuildResult:
    """Everything a build did: the version, whether it is new, what was skipped, the split and validation."""

    version: DatasetVersion
    created: bool
    """``False`` when the same version already existed (nothing was written)."""
    skipped: list[Skipped] = field(default_factory=list)
    split: SplitPlan | None = None
    report: ValidationReport | None = None
    """The validation report (``None`` when the version already existed and was not re-validated)."""
    restored: list[str] = field(default_factory=list)
    """Splits whose file of an existing version was missing from storage and was written again."""


@dataclass(slots=True)
class _Example:
    source: SourceRow
    split: str
    target: str
    line: str
    row_hash: str
    size: int
    """The line's length in UTF-8 bytes, its newline included."""


class DatasetBuilder:
    """Builds validated, versioned, priced tuning datasets from a corpus into a storage.

    ``storage`` defaults to the settings' storage (``settings.storage_uri``); ``prompt`` to the seed prompt
    (the analyzer uses the same one, recorded by its version).
    """

    def __init__(
        self,
        corpus: Corpus,
        storage: Storage | None = None,
        *,
        settings: Settings | None = None,
        prompt: Prompt = DEFAULT_PROMPT,
    ) -> None:
        self.corpus = corpus
        self.settings = settings or Settings()
        self.storage = storage if storage is not None else open_storage(settings=self.settings)
        self.prompt = prompt

    @classmethod
    def from_app(cls, app: App, **options: Any) -> DatasetBuilder:
        """A builder on the App's corpus, storage and settings (``options``: ``prompt``)."""
        return cls(app.corpus, app.storage, settings=app.settings, **options)

    def build(self, options: BuildOptions | None = None, **overrides: Unpack[BuildOverrides]) -> DatasetVersion:
        """Build (or find) the dataset version for the corpus as it is now; see `run` for the details."""
        return self.run(options, **overrides).version

    @cyclic_gc_paused()  # rows and dicts by the 100k, no cycles: full collections only walked the heap
    def run(self, options: BuildOptions | None = None, **overrides: Unpack[BuildOverrides]) -> BuildResult:
        """Build a version and report everything: skipped corrections, split, validation, estimate.

        ``options`` (a `BuildOptions`; keywords of the same names override its fields): ``split`` is
        ``(train, validation)`` or ``(train, validation, test)``; clips already assigned keep their split.
        ``media_resolution`` defaults to the settings'; ``base_model`` (for the token limits and the price)
        too. Raises `DatasetValidationError` if any row breaks a rule, unless ``drop_invalid``, which leaves
        those examples out (reported in `BuildResult.skipped`).
        """
        o = BuildOptions.of(options, **overrides)
        split, target_format, niche, stratify = o.split, o.target_format, o.niche, o.stratify
        media_resolution, base_model, epochs, drop_invalid = o.media_resolution, o.base_model, o.epochs, o.drop_invalid
        if target_format not in TARGET_FORMATS:
            raise DatasetError(
                f"unknown target format {target_format!r}", hint=f"use one of {', '.join(TARGET_FORMATS)}"
            )
        resolution = media_resolution or self.settings.media_resolution
        if resolution not in MEDIA_RESOLUTIONS:
            raise DatasetError(
                f"unknown media resolution {resolution!r}", hint=f"use one of {', '.join(MEDIA_RESOLUTIONS)}"
            )
        model = base_model or self.settings.base_model
        seed = str(o.seed)
        fractions = normalise_fractions(split)
        build_settings = {
            "split": [round(fractions[s], 6) for s in SPLITS],
            "seed": seed,
            "niche": niche,
            "stratify": stratify,
            "media_resolution": resolution,
        }

        skipped: list[Skipped] = []
        usable = self._usable(load_sources(self.corpus, niche=niche), target_format, stratify, skipped)
        plan = assign_splits(
            _split_items(usable),
            recorded_splits(self.corpus),
            fractions=split,
            seed=seed,
            tuned=tuned_video_keys(self.corpus) if fractions["test"] > 0 else (),
        )

        examples = self._examples(usable, plan, resolution, skipped)
        version_id = self._version_id(examples, target_format, build_settings)
        existing = load_version(self.corpus, version_id)
        if existing is not None:
            restored = self._restore_files(existing, examples)
            return BuildResult(existing, created=False, skipped=skipped, split=plan, restored=restored)

        report = self._validate(examples, model, resolution)
        if not report.ok and drop_invalid:
            bad: dict[tuple[str | None, int], Issue] = {}
            for issue in report.errors:
                if issue.line is not None:
                    bad.setdefault((issue.split, issue.line), issue)  # the first problem names the reason
            kept: list[_Example] = []
            for split_name in SPLITS:
                rows = [e for e in examples if e.split == split_name]
                for line, ex in enumerate(rows, start=1):
                    found = bad.get((split_name, line))
                    if found is None:
                        kept.append(ex)
                    else:
                        skipped.append(
                            Skipped(
                                ex.source.correction_id,
                                f"[{found.rule}] {found.message}",
                                _hint_for(found, ex) or "fix the clip or the correction",
                            )
                        )
            examples = kept
            version_id = self._version_id(examples, target_format, build_settings)
            existing = load_version(self.corpus, version_id)
            if existing is not None:
                restored = self._restore_files(existing, examples)
                return BuildResult(existing, created=False, skipped=skipped, split=plan, restored=restored)
            report = self._validate(examples, model, resolution)
        if not report.ok:
            problems = _name_rows(report.errors, examples)
            if not drop_invalid and any(i.line is not None for i in report.errors):
                problems.append("(or rebuild with --drop-invalid to leave the invalid examples out)")
            raise DatasetValidationError(problems, item=f"dataset {version_id}")

        estimate, price_note = self._estimate(report, model, resolution, epochs)
        notes = _notes(skipped, plan) + ([price_note] if price_note else [])
        version = self._write(
            version_id, examples, plan, report, estimate, notes, skipped,
            target_format=target_format, resolution=resolution, niche=niche, model=model,
            build_settings=build_settings, seed=seed,
        )  # fmt: skip
        return BuildResult(version, created=True, skipped=skipped, split=plan, report=report)

    # -- steps --------------------------------------------------------------------------------------

    def _usable(
        self, sources: list[SourceRow], target_format: TargetFormat, stratify: bool, skipped: list[Skipped]
    ) -> list[tuple[SourceRow, str, str]]:
        out = []
        sources, superseded = latest_per_clip(sources)
        for old, new in superseded.items():
            skipped.append(
                Skipped(old, f"superseded by {new}, the owner's later correction of the same clip", "nothing to do")
            )
        for s in sources:
            if s.video_sha256 is None or s.video_uri is None:
                skipped.append(
                    Skipped(s.correction_id, f"video not ingested ({s.video_key})", "run `humortune ingest`")
                )
                continue
            record = None
            category = ""
            if s.record_json and (target_format != "narrative" or stratify):
                if target_format != "narrative":
                    record = HumorRecord.model_validate_json(s.record_json)
                    category = record.category.value
                else:
                    category = str(json.loads(s.record_json).get("category") or "")
            target = render_target(s.human_said, record, target_format)
            if target is None:
                skipped.append(
                    Skipped(
                        s.correction_id,
                        "no structured record for the narrative+record format",
                        "add the owner's record to the correction, or build with --target narrative",
                    )
                )
                continue
            stratum = f"{s.niche or ''}/{category}" if stratify else ""
            out.append((s, target, stratum))
        return out

    def _examples(
        self, usable: list[tuple[SourceRow, str, str]], plan: SplitPlan, resolution: str, skipped: list[Skipped]
    ) -> list[_Example]:
        examples: list[_Example] = []
        seen: dict[str, str] = {}
        prompt = self.prompt
        for source, target, _ in usable:
            uri, mime = source.video_uri or "", source.mime or "video/mp4"
            # What is written: byte-identical to dumps_row(example_row(...)), which `_validate` checks.
            line = example_line(file_uri=uri, mime_type=mime, prompt=prompt, target=target, media_resolution=resolution)
            first = seen.setdefault(line, source.correction_id)
            if first != source.correction_id:
                skipped.append(
                    Skipped(
                        source.correction_id,
                        f"duplicate of {first} (same video and text)",
                        "nothing to do; one copy is enough",
                    )
                )
                continue
            data = line.encode("utf-8")
            split = plan.assignments[source.video_key]
            examples.append(_Example(source, split, target, line, hashlib.sha256(data).hexdigest(), len(data) + 1))
        order: dict[str, int] = {name: i for i, name in enumerate(SPLITS)}
        examples.sort(key=lambda e: order[e.split])  # stable: correction id order within a split
        return examples

    def _version_id(self, examples: list[_Example], target_format: str, build_settings: dict[str, Any]) -> str:
        digests: dict[str, Any] = {name: hashlib.sha256() for name in SPLITS}
        shas: dict[str, list[str]] = {name: [] for name in SPLITS}
        for e in examples:
            digests[e.split].update(e.row_hash.encode("ascii"))  # hash of the row hashes, in file order
            shas[e.split].append(e.source.video_sha256 or "")
        rows = {name: digest.hexdigest() for name, digest in digests.items()}
        videos = {name: sorted(found) for name, found in shas.items()}
        return "ds-" + short_hash(
            {
                "rows": rows,
                "videos": videos,
                "prompt_version": self.prompt.version,
                "target_format": target_format,
                "build": build_settings,
            }
        )

    def _validate(self, examples: list[_Example], model: str, resolution: str) -> ValidationReport:
        existing = self._existing({e.source.video_uri or "" for e in examples})
        facts: dict[str, VideoFacts] = {}
        for e in examples:
            s = e.source
            uri = s.video_uri or ""
            if uri not in facts:
                facts[uri] = VideoFacts(existing.get(uri), s.size_bytes, s.duration_s, s.has_audio)
        validator = Validator(base_model=model, for_vertex=self.storage.root_uri.startswith("gs://"), facts=facts)
        lines: dict[str, int] = {}
        sizes: dict[str, int] = {}
        prompt = self.prompt
        for e in examples:
            line = lines[e.split] = lines.get(e.split, 0) + 1
            sizes[e.split] = sizes.get(e.split, 0) + e.size
            # The row is rebuilt here and dropped right after its check: holding 10,000s of nested dicts
            # alive costs more in garbage-collector passes than building them twice.
            row = example_row(
                file_uri=e.source.video_uri or "",
                mime_type=e.source.mime or "video/mp4",
                prompt=prompt,
                target=e.target,
                media_resolution=resolution,
            )
            validator.check_row(row, split=e.split, line=line, text=e.line)
        for name, size in sizes.items():
            validator.check_file_size(name, size)
        return validator.finish()

    def _existing(self, uris: set[str]) -> dict[str, bool | None]:
        """uri → whether the object exists in storage (``None``: not in this storage, not checked)."""
        keys = storage_keys(self.storage, uris)
        out: dict[str, bool | None] = dict.fromkeys(uris)
        if len(keys) > _LIST_THRESHOLD and all(k.startswith(VIDEO_PREFIX) for k in keys.values()):
            present = _present_keys(self.storage, VIDEO_PREFIX)
            out.update({uri: key in present for uri, key in keys.items()})
        else:
            out.update({uri: self.storage.exists(key) for uri, key in keys.items()})
        return out

    def _estimate(
        self, report: ValidationReport, model: str, resolution: str, epochs: int | None
    ) -> tuple[CostEstimate | None, str | None]:
        try:
            estimate = estimate_cost(
                report.tokens,
                base_model=model,
                media_resolution=resolution,
                epochs=epochs,
                settings=self.settings,
                unknown_durations=report.unknown_durations,
            )
        except DatasetError as exc:  # unknown price: the dataset is still fine, the estimate is not
            return None, f"no cost estimate: {exc}"
        return estimate, None

    def _restore_files(self, version: DatasetVersion, examples: list[_Example]) -> list[str]:
        """An existing version is only "already built" if its files are there: missing ones are written
        again (same rows, same bytes); a file changed in place is refused."""
        problems = verify_files(self.corpus, self.storage, version.id)
        restored: list[str] = []
        for name in SPLITS:
            items = [e for e in examples if e.split == name]
            key = dataset_key(version.id, f"{name}.jsonl")
            if name in problems and items and self.storage.stat(key) is None:
                self.storage.put_bytes(key, _jsonl(items), content_type="application/jsonl")
                restored.append(name)
        left = verify_files(self.corpus, self.storage, version.id)
        if left:
            raise DatasetError(
                f"dataset {version.id} was built, but {'; '.join(f'{k}: {v}' for k, v in left.items())}",
                hint="delete the named file(s) and build again: the same rows are written back",
                item=f"dataset {version.id}",
            )
        return restored

    def _write(
        self,
        version_id: str,
        examples: list[_Example],
        plan: SplitPlan,
        report: ValidationReport,
        estimate: CostEstimate | None,
        notes: list[str],
        skipped: list[Skipped],
        *,
        target_format: TargetFormat,
        resolution: str,
        niche: str | None,
        model: str,
        build_settings: dict[str, Any],
        seed: str,
    ) -> DatasetVersion:
        from humortune._version import __version__

        storage = self.storage
        created_at = utcnow()
        by_split: dict[str, list[_Example]] = {name: [] for name in SPLITS}
        for e in examples:
            by_split[e.split].append(e)
        files: dict[str, dict[str, Any]] = {}
        uris: dict[str, str | None] = dict.fromkeys(SPLITS)
        for name, items in by_split.items():
            if not items:
                continue
            data = _jsonl(items)
            key = dataset_key(version_id, f"{name}.jsonl")
            storage.put_bytes(key, data, content_type="application/jsonl")
            uris[name] = storage.uri(key)
            files[name] = {
                "uri": uris[name],
                "rows": len(items),
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        refs = [
            ExampleRef(e.source.correction_id, e.source.video_sha256 or "", e.split, e.row_hash[:16]) for e in examples
        ]
        counts = {name: len(items) for name, items in by_split.items()}
        manifest: dict[str, Any] = {
            "id": version_id,
            "created_at": created_at.isoformat(),
            "humortune_version": __version__,
            "prompt": {
                "version": self.prompt.version,
                "text": self.prompt.text,
                "system_instruction": self.prompt.system_instruction,
            },
            "target_format": target_format,
            "media_resolution": resolution,
            "base_model": model,
            "build": build_settings,
            "counts": counts,
            "files": files,
            "videos": len({e.source.video_sha256 for e in examples}),
            "video_seconds": round(report.video_seconds, 3),
            "split": {
                "strata": plan.strata,
                "newly_assigned": len(plan.new),
                "moved_by_leakage_guard": {k: list(v) for k, v in plan.moved.items()},
            },
            "skipped": [{"correction_id": s.correction_id, "reason": s.reason} for s in skipped],
            "notes": notes,
            "estimate": estimate.model_dump(mode="json") if estimate else None,
        }
        full = dict(manifest, examples={  # columns + rows: half the size of a list of objects
            "columns": ["correction_id", "video_key", "video_sha256", "split", "row_hash"],
            "rows": [[r.correction_id, e.source.video_key, r.video_sha256, r.split, r.row_hash]
                     for r, e in zip(refs, examples, strict=True)],
        })  # fmt: skip
        manifest_key = dataset_key(version_id, "manifest.json")
        storage.put_bytes(
            manifest_key,
            json.dumps(full, ensure_ascii=False).encode("utf-8"),  # no indent: C encoder, 10x faster
            content_type="application/json",
        )
        version = DatasetVersion(
            id=version_id,
            created_at=created_at,
            prompt_version=self.prompt.version,
            target_format=target_format,
            media_resolution=resolution,
            niche=niche,
            storage_prefix=storage.uri(manifest_key).rsplit("/", 1)[0] + "/",
            train_uri=uris["train"] or storage.uri(dataset_key(version_id, "train.jsonl")),
            validation_uri=uris["validation"],
            test_uri=uris["test"],
            counts=counts,
            valid=report.ok,
            errors=[],
            warnings=[str(i) for i in report.warnings] + notes,
            estimate=estimate,
        )
        prompt = StoredPrompt(
            version=self.prompt.version, text=self.prompt.text, system_instruction=self.prompt.system_instruction
        )
        with self.corpus.db.transaction():  # the prompt is recorded with the version: inference reads it there
            recorded = save_version(
                self.corpus,
                version,
                settings=build_settings,
                manifest=manifest,
                validation=report.to_dict(),
                examples=refs,
                new_splits=plan.new,
                moved_splits={k: v[1] for k, v in plan.moved.items()},
                seed=seed,
            )
            Stores.of(self.corpus.db).prompts.put(prompt)
        if not recorded:  # another process recorded the same version first: theirs is the record
            return load_version(self.corpus, version_id) or version
        return version


def _present_keys(storage: Storage, prefix: str) -> set[str]:
    """Keys stored under ``prefix``: one listing instead of one lookup per video."""
    if isinstance(storage, LocalStorage):
        # Objects are plain files under the root; a directory scan avoids LocalStorage.list's per-file
        # stat + checksum-sidecar read (10k videos: ~10 ms instead of ~400 ms).
        root = str(storage.root) + os.sep
        found: set[str] = set()
        stack = [str(storage.path(prefix.rstrip("/")))]
        while stack:
            try:
                entries = list(os.scandir(stack.pop()))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                if entry.name.startswith(".") or entry.name.endswith(".sha256"):
                    continue
                if entry.is_dir():
                    stack.append(entry.path)
                elif entry.is_file():
                    found.add(entry.path[len(root) :].replace(os.sep, "/"))
        return found
    return {o.key for o in storage.list(prefix)}


def _split_items(usable: list[tuple[SourceRow, str, str]]) -> list[SplitItem]:
    items: dict[str, SplitItem] = {}
    for source, _, stratum in usable:
        items.setdefault(source.video_key, SplitItem(source.video_key, source.video_sha256 or "", stratum))
    return list(items.values())


def _notes(skipped: list[Skipped], plan: SplitPlan) -> list[str]:
    notes = list(plan.warnings)
    by_reason: dict[str, int] = {}
    hints: dict[str, str] = {}
    for s in skipped:
        reason = s.reason.split(" (", 1)[0]
        by_reason[reason] = by_reason.get(reason, 0) + 1
        hints[reason] = s.hint
    notes += [f"{n} correction(s) skipped: {reason} — {hints[reason]}" for reason, n in sorted(by_reason.items())]
    return notes


def _jsonl(items: list[_Example]) -> bytes:
    """A split's file: one row per line, byte-identical on every build of the same version."""
    return ("\n".join(e.line for e in items) + "\n").encode("utf-8")


def _name_rows(issues: list[Issue], examples: list[_Example]) -> list[str]:
    """Validation errors as lines that name the owner's correction, not only the JSONL line."""
    by_split: dict[str, list[_Example]] = {}
    for e in examples:
        by_split.setdefault(e.split, []).append(e)
    out = []
    for issue in issues:
        rows = by_split.get(issue.split or "", [])
        if issue.line is None or not 0 < issue.line <= len(rows):
            out.append(str(issue))
            continue
        example = rows[issue.line - 1]
        where = f"correction {example.source.correction_id} ({issue.split}.jsonl:{issue.line})"
        hint = _hint_for(issue, example)
        out.append(f"{where}: {issue.severity} [{issue.rule}] {issue.message}" + (f" — {hint}" if hint else ""))
    return out


def _hint_for(issue: Issue, example: _Example) -> str | None:
    """The validator's hint, unless the owner's text (not the video) is what breaks the token limit."""
    cap = LIMITS["max_tokens_per_example"].value
    text_tokens = len(example.target) // 4  # ~4 characters per token: a floor for Swedish prose
    if issue.rule == "tokens-per-example" and text_tokens > cap // 2:
        return (
            f"the owner's text (human_said) is {len(example.target):,} characters, about {text_tokens:,} tokens "
            f"on its own: shorten correction {example.source.correction_id} and import it again"
        )
    return issue.hint
