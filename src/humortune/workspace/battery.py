"""Reading a question battery: the shapes it comes in, and every bad item reported at once.

Accepted shapes: a JSON list of items; a JSON object holding the list under ``examples`` (or ``items``,
``questions``, ``battery``, ``corrections``, ``data``, or its only list-valued key); or JSONL, one item per
line. Fields humortune does not know are kept.

A re-import can hand `parse_battery` the items it parsed before (`KnownItem`, by a hash of each item's raw
JSON): those are taken as they were instead of being validated again, and only new or changed items are.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from humortune._util import content_hash, short_hash
from humortune.errors import CorpusError, HumortuneError
from humortune.schema import Correction, HumorRecord
from humortune.urls import is_url_like, parse_source, redact, resolving_in_bulk
from humortune.workspace.stores._base import nul_path
from humortune.workspace.stores.battery_imports import KnownItem

__all__ = [
    "PARSER_REVISION",
    "BatteryItem",
    "ParsedBattery",
    "battery_hash",
    "correction_revision",
    "item_hash",
    "parse_battery",
    "read_battery",
]

PARSER_REVISION = "1"
"""Bump when what an item parses to changes: parses recorded by an older revision are then not reused."""

_LIST_KEYS = ("examples", "items", "questions", "battery", "corrections", "data")
# Other spellings seen in real exports, folded to our field names.
_ALIASES = {
    "url": "video_url",
    "videourl": "video_url",
    "video": "video_url",
    "tiktok_url": "video_url",
    "gemini": "gemini_said",
    "model_said": "gemini_said",
    "human": "human_said",
    "owner_said": "human_said",
    "correction": "human_said",
}
_KNOWN = {"id", "video_url", "gemini_said", "human_said", "record", "niche", "created_at", "source"}


@dataclass(frozen=True, slots=True)
class BatteryItem:
    """One valid item: its position in the file, the correction, and its canonical video key.

    ``item_hash`` names the item's raw JSON (`item_hash`), ``content_hash`` the correction (`correction_revision`).
    """

    index: int
    correction: Correction
    video_key: str
    item_hash: str | None = None
    content_hash: str = ""


@dataclass(slots=True)
class ParsedBattery:
    """The valid items, every problem (with index and field), and what was dropped as an exact duplicate.

    ``items`` were validated now; ``known`` are valid items taken from the parses handed in (not validated
    again). ``parses`` holds every item that is valid by itself, marked ``imported`` when it is in either list.
    """

    shape: str
    items: list[BatteryItem] = field(default_factory=list)
    known: list[KnownItem] = field(default_factory=list)
    parses: list[KnownItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    duplicates: int = 0
    skipped: int = 0
    """Items not imported because of a problem (one item may have several problems)."""


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


@dataclass(frozen=True, slots=True)
class _BadLine:
    """A JSONL line that is not JSON: reported as a problem, the other lines still import."""

    lineno: int
    message: str


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16/32 with a BOM, or BOM-less UTF-16; anything else is refused."""
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    if encoding is None:
        # BOM-less UTF-16 (some Windows exports): JSON text starts with an ASCII character, so one of
        # the first two bytes is NUL.
        encoding = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be" if data[:1] == b"\x00" else "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CorpusError(
            f"the battery is not valid {encoding.upper().removesuffix('-SIG')} text "
            f"(byte 0x{data[exc.start]:02x} on line {line}); the text was probably saved as Latin-1 or mixed",
            hint="save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 in.json > out.json`) and import again",
            item=str(path),
        ) from None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:  # hostile nesting: json raises this, not JSONDecodeError
        raise json.JSONDecodeError("nested too deeply", text, 0) from None


def read_battery(path: str | Path) -> bytes:
    """The battery file's bytes. Raises `CorpusError` when it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read the battery: {exc.strerror}", item=str(path)) from exc


def battery_hash(data: bytes, source: str) -> str:
    """What names one import's input: the file's bytes, the ``source`` tag and the parser revision."""
    return content_hash([PARSER_REVISION, source, hashlib.sha256(data).hexdigest()])


_ITEM_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))  # built once; ASCII: lone surrogates stay escaped


def item_hash(raw: Any, source: str) -> str | None:
    """A hash of one item's raw JSON (key order ignored), or ``None`` for an item that cannot be re-encoded."""
    try:
        text = _ITEM_JSON.encode(raw)
    except (RecursionError, ValueError, TypeError):
        return None
    return hashlib.sha256(f"{PARSER_REVISION}\x1f{source}\x1f{text}".encode("ascii")).hexdigest()


def correction_revision(correction: Correction) -> str:
    """The content hash stored with a correction (its revision): what training sees of it, nothing else."""
    return content_hash(
        {
            "video_url": correction.video_url,
            "gemini_said": correction.gemini_said,
            "human_said": correction.human_said,
            "record": correction.record.model_dump(mode="json") if correction.record else None,
            "niche": correction.niche,
            "extra": correction.extra,
        }
    )


def _said_hash(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).hexdigest()


def _load_raw(path: Path, data: bytes) -> tuple[str, list[Any]]:
    text = _decode(path, data)
    stripped = text.lstrip()
    if not stripped:
        raise CorpusError("the battery file is empty", hint="export the battery again", item=str(path))
    if stripped[0] == "[" or stripped[0] == "{":
        try:
            data = _json(text)
        except json.JSONDecodeError as exc:
            if stripped[0] == "{" and "\n" in stripped.strip():
                return _load_jsonl(path, text)
            raise CorpusError(
                f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}",
                hint="fix the JSON syntax, or save it as JSONL with one item per line",
                item=str(path),
            ) from None
        if isinstance(data, list):
            return "json-list", data
        if isinstance(data, dict):
            for key in _LIST_KEYS:
                if isinstance(data.get(key), list):
                    return f"json-object[{key}]", data[key]
            lists = [k for k, v in data.items() if isinstance(v, list)]
            if len(lists) == 1:
                return f"json-object[{lists[0]}]", data[lists[0]]
            if "video_url" in data or "url" in data:
                return "json-object[single]", [data]
        raise CorpusError(
            "found no list of items in the JSON",
            hint=f"put the items in a list, or under one of the keys {', '.join(_LIST_KEYS)}",
            item=str(path),
        )
    return _load_jsonl(path, text)


def _load_jsonl(path: Path, text: str) -> tuple[str, list[Any]]:
    items: list[Any] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(_json(line))
        except json.JSONDecodeError as exc:
            items.append(_BadLine(lineno, exc.msg))
    if items and all(isinstance(i, _BadLine) for i in items):
        first = items[0]
        raise CorpusError(
            f"line {first.lineno} is not valid JSON: {first.message} (and no line is)",
            hint="a battery is a JSON list, or JSONL with one JSON object per line",
            item=str(path),
        )
    return "jsonl", items


def _resolve_local(url: str, base: Path) -> str:
    """Relative file paths in a battery are relative to the battery file."""
    if "://" in url or Path(url).is_absolute():
        return url
    return (base / url).resolve().as_uri()


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A valid item as the cross-item checks see it: parsed now (``item``) or known from before."""

    index: int
    correction_id: str
    key_hash: str
    said_hash: str
    item_hash: str | None
    content_hash: str
    item: BatteryItem | None = None

    def known(self, *, imported: bool) -> KnownItem:
        return KnownItem(
            self.item_hash or "", self.correction_id, self.key_hash, self.said_hash, self.content_hash, imported
        )


def parse_battery(
    path: str | Path,
    *,
    source: str = "battery",
    data: bytes | None = None,
    known: Mapping[str, KnownItem] | None = None,
) -> ParsedBattery:
    """Read and validate a battery file. Raises only when the file itself is unreadable.

    ``data`` is the file's bytes when the caller has read them already; ``known`` maps `item_hash` to what an
    earlier parse found, for the items that need not be validated again.
    """
    path = Path(path)
    shape, raw_items = _load_raw(path, read_battery(path) if data is None else data)
    parsed = ParsedBattery(shape=shape)
    seen: dict[str, tuple[int, str]] = {}  # hash of the video key → (index, hash of human_said)
    conflicted: set[str] = set()
    candidates: list[_Candidate] = []
    duplicates: list[_Candidate] = []
    base = path.parent
    with resolving_in_bulk():  # 100k clips in a few folders: each folder is resolved once
        for index, raw in enumerate(raw_items):
            if isinstance(raw, _BadLine):
                parsed.problems.append(f"item {index} (line {raw.lineno}): not valid JSON: {raw.message}")
                continue
            candidate = _candidate(index, raw, base, parsed.problems, source, known or {})
            if candidate is None:
                continue
            key = candidate.key_hash
            if key in seen:
                first_index, first_said = seen[key]
                if first_said == candidate.said_hash:
                    parsed.duplicates += 1
                    duplicates.append(candidate)
                    continue
                parsed.problems.append(
                    f"item {index}: video_url: same video as item {first_index} with a different human_said; "
                    "keep one correction per video"
                )
                conflicted.add(key)
                continue
            seen[key] = (index, candidate.said_hash)
            candidates.append(candidate)
    clashing_ids = _clashing_ids(candidates, parsed.problems)
    kept = [c for c in candidates if c.key_hash not in conflicted and c.correction_id not in clashing_ids]
    for c in candidates:
        if c.key_hash in conflicted:
            parsed.problems.append(f"item {c.index}: video_url: conflicts with a later item (see above)")
    parsed.items = [c.item for c in kept if c.item is not None]
    parsed.known = [c.known(imported=True) for c in kept if c.item is None]
    kept_ids = {id(c) for c in kept}
    parsed.parses = [c.known(imported=id(c) in kept_ids) for c in [*candidates, *duplicates] if c.item_hash is not None]
    parsed.skipped = len(raw_items) - len(kept) - parsed.duplicates
    parsed.problems = [redact(p) for p in parsed.problems]  # they quote URLs: no credentials or signatures
    return parsed


def _candidate(
    index: int, raw: Any, base: Path, problems: list[str], source: str, known: Mapping[str, KnownItem]
) -> _Candidate | None:
    """The item as the cross-item checks need it: from ``known`` when its raw JSON was parsed before."""
    digest = item_hash(raw, source) if isinstance(raw, dict) else None
    hit = known.get(digest) if digest is not None else None
    if hit is not None:
        return _Candidate(index, hit.correction_id, hit.key_hash, hit.said_hash, digest, hit.content_hash)
    before = len(problems)
    item = _check_item(index, raw, base, problems, source)
    if item is None or len(problems) > before:
        return None
    revision = correction_revision(item.correction)
    item = BatteryItem(item.index, item.correction, item.video_key, item_hash=digest, content_hash=revision)
    key_hash = hashlib.sha256(item.video_key.encode("utf-8", "surrogatepass")).hexdigest()
    said_hash = _said_hash(item.correction.human_said)
    return _Candidate(index, item.correction.id, key_hash, said_hash, digest, revision, item)


def _clashing_ids(candidates: list[_Candidate], problems: list[str]) -> set[str]:
    """Explicit ids used by more than one clip: none of those items imports (either would overwrite the other)."""
    first: dict[str, int] = {}
    clashing: set[str] = set()
    for c in candidates:
        cid = c.correction_id
        if cid in first:
            problems.append(
                f"item {c.index} (id={_one_line(cid)}): id: already used by item {first[cid]} for another video; "
                "give each correction its own id"
            )
            clashing.add(cid)
        else:
            first[cid] = c.index
    return clashing


def _one_line(text: str) -> str:
    # an id or field name echoed in a problem must not break the one-problem-per-line report
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _check_item(index: int, raw: Any, base: Path, problems: list[str], source: str) -> BatteryItem | None:
    if not isinstance(raw, dict):
        problems.append(f"item {index}: expected an object, got {type(raw).__name__}")
        return None
    data: dict[str, Any] = {}
    for key, value in raw.items():
        folded = str(key).strip().lower()
        name = folded if folded in _KNOWN else _ALIASES.get(folded.replace("-", "_"), str(key))
        data.setdefault(name, value)
    label = f"item {index}" + (f" (id={_one_line(str(data['id']))})" if isinstance(data.get("id"), str | int) else "")
    if not _plain_fields(label, data, problems, source):
        return None
    for required in ("video_url", "human_said"):
        value = data.get(required)
        if value is None:
            problems.append(f"{label}: {required}: missing")
        elif not isinstance(value, str):
            problems.append(f"{label}: {required}: expected text, got {type(value).__name__}")
        elif not value.strip():
            problems.append(f"{label}: {required}: empty")
    gemini = data.get("gemini_said")
    if gemini is not None and not isinstance(gemini, str):
        problems.append(f"{label}: gemini_said: expected text, got {type(gemini).__name__}")
    url = data.get("video_url")
    if not isinstance(url, str) or not url.strip() or not isinstance(data.get("human_said"), str):
        return None
    url = url.strip()
    if not is_url_like(url):
        problems.append(f"{label}: video_url: {url!r} is not a URL or a video file path")
        return None
    url = _resolve_local(url, base)
    try:
        key = parse_source(url).key
    except HumortuneError as exc:
        problems.append(f"{label}: video_url: {exc.message} ({exc.hint})")
        return None
    record = None
    if data.get("record") is not None:
        if not isinstance(data["record"], dict):
            problems.append(f"{label}: record: expected an object with the HumorRecord fields")
            return None
        try:
            record = HumorRecord.from_mapping(data["record"])
        except HumortuneError as exc:
            problems.append(f"{label}: record: {exc.message}")
            return None
    cid = str(data["id"]).strip() if data.get("id") not in (None, "") else f"b-{short_hash(key, 16)}"
    fields = {k: v for k, v in data.items() if k not in {"id", "video_url", "record"}}
    fields.setdefault("source", source)
    fields["human_said"] = fields["human_said"].strip()
    try:
        correction = Correction(id=cid, video_url=url, record=record, **fields)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            problems.append(f"{label}: {loc}: {err['msg']}")
        return None
    return BatteryItem(index=index, correction=correction, video_key=key)


def _plain_fields(label: str, data: dict[str, Any], problems: list[str], source: str) -> bool:
    """Ids are text or numbers, no text holds a NUL, and only the review UI writes review corrections."""
    before = len(problems)
    cid = data.get("id")
    if cid is not None and (isinstance(cid, bool) or not isinstance(cid, str | int)):
        problems.append(f"{label}: id: expected text or a number, got {type(cid).__name__}")
    for name, value in data.items():
        where = nul_path(value, name) or (name if "\x00" in name else None)  # nested texts and keys too
        if where is not None:
            shown = _one_line(where.replace("\x00", "\\x00"))
            problems.append(f"{label}: {shown}: contains a NUL character; remove it")
    claimed = data.get("source")
    if claimed == "review" and source != "review":
        problems.append(f"{label}: source: 'review' is reserved for corrections made in the review UI")
    return len(problems) == before
