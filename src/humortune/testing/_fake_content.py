"""What FakeGemini says: deterministic Swedish narratives and records derived from the clip's content (`clip_seed`).

Base models answer in the owner's form with generic wording. A tuned endpoint "remembers" the model turns of
its training rows: for a training video it answers with the owner's own text, and for other videos it
borrows the owner's phrasing from the training set, so tuned answers sit measurably closer to the owner
than base answers (useful for evaluator demos). Nothing here is meant to be funny; it is meant to be stable.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from humortune._util import SHA256_HEX

__all__ = [
    "clip_seed",
    "fill_schema",
    "is_known_model",
    "mp4_duration",
    "narrative_for",
    "parse_narrative",
    "pick",
    "seed_int",
    "token_count",
    "training_memory",
    "video_seconds",
]

_MECHANISMS = [
    "en oväntad vändning i sista sekunden",
    "kontrasten mellan allvar och absurditet",
    "överdriven reaktion på en vardaglig sak",
    "igenkänning av en pinsam social situation",
    "djuret som beter sig som en människa",
    "tajming där ljudet kommer precis fel",
    "en regel som följs alldeles för bokstavligt",
    "det torra understatementet mitt i kaoset",
]
_SUMMARIES = [
    "En person förbereder något noggrant och allt går fel på slutet.",
    "Två vänner tävlar om något helt meningslöst med stort allvar.",
    "En hund tittar in i kameran precis när ägaren ropar.",
    "Någon försöker smyga ut tyst men allt i köket låter.",
    "En kollega svarar på ett mejl med en dramatisk monolog.",
    "Ett barn förklarar vuxenvärlden med total självsäkerhet.",
]
_WHYS = [
    "förväntningen byggs upp långsamt och bryts på en gång",
    "alla har varit med om samma sak men ingen säger det högt",
    "kontrasten mellan det lilla problemet och den stora reaktionen",
    "tittaren ser slutet komma en halv sekund före personen i klippet",
    "det är så konkret att man känner igen sig direkt",
]
_AUDIENCES = ["unga vuxna på TikTok", "småbarnsföräldrar", "kontorsarbetare", "djurägare", "studenter"]
_CATEGORIES = ["comedy", "wholesome", "relatable", "clever", "chaotic"]
_QUALITIES = ["weak", "average", "good", "exceptional"]
_KNOWN_MODEL = re.compile(r"^gemini-(2\.0|2\.5|3|3\.1|3\.5)-(flash|flash-lite|pro)(-preview)?(-\d{3})?$")
_NARRATIVE = re.compile(
    r"Det roliga i detta klipp är (?P<mechanism>.+?)\.\s+(?P<summary>.*?)\s*Det fungerar för att (?P<why>.+?)\.?$",
    re.DOTALL,
)


_MECHANISM_MAX_WORDS = 10  # humortune.schema.MECHANISM_WORDS[1]


def clip_seed(uri: str | None, data: bytes | None = None) -> str:
    """What the fake's answers about a clip derive from: its content, never where it is stored.

    A content-addressed name (``…/<sha256>.mp4``, how storage names ingested clips) is the content hash; else
    the sha256 of the bytes when the fake could read them; else the file name (a TikTok video id in storage).
    So the same clip reads the same on every machine, in every temp dir, locally and from storage.
    """
    if not uri:
        return "no-video"
    name = _basename(uri)
    stem = name.rsplit(".", 1)[0].lower()
    if SHA256_HEX.match(stem):
        return stem
    if data is not None:
        return hashlib.sha256(data).hexdigest()
    return name


def is_known_model(name: str) -> bool:
    """Whether the fake serves this publisher model id (``gemini-2.5-flash``, ``gemini-3.5-flash-001`` …)."""
    return bool(_KNOWN_MODEL.match(name))


def seed_int(*parts: str) -> int:
    """A stable integer from strings (sha256)."""
    return int(hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:15], 16)


def pick(options: list[str], *parts: str) -> str:
    """A stable choice from ``options`` for ``parts``."""
    return options[seed_int(*parts) % len(options)]


def video_seconds(seed: str, data: bytes | None = None) -> float:
    """The clip's duration from its MP4 ``mvhd`` box when the bytes are at hand, else a stable 8–60 s from its
    `clip_seed`."""
    if data:
        found = mp4_duration(data)
        if found is not None:
            return found
    return 8.0 + seed_int("duration", seed) % 53


def mp4_duration(data: bytes) -> float | None:
    """Duration in seconds from an MP4/MOV movie header (``mvhd``), or ``None``."""
    at = data.find(b"mvhd")
    if at < 0 or len(data) < at + 36:
        return None
    version = data[at + 4]
    if version == 1:
        timescale = int.from_bytes(data[at + 24 : at + 28], "big")
        duration = int.from_bytes(data[at + 28 : at + 36], "big")
    else:
        timescale = int.from_bytes(data[at + 16 : at + 20], "big")
        duration = int.from_bytes(data[at + 20 : at + 24], "big")
    return duration / timescale if timescale else None


def token_count(text: str) -> int:
    """Roughly four characters per token, as Gemini's tokenizer averages on Swedish prose."""
    return max(1, (len(text) + 3) // 4)


def training_memory(jsonl: str) -> dict[str, str]:
    """``video fileUri → model turn text`` from Vertex tuning JSONL (unparseable lines are skipped)."""
    memory: dict[str, str] = {}
    for line in jsonl.splitlines():
        try:
            row = json.loads(line)
            contents = row["contents"]
            uri = next(
                (p.get("fileData") or p.get("file_data") or {}).get("fileUri")
                or (p.get("fileData") or p.get("file_data") or {}).get("file_uri")
                for c in contents
                if c.get("role") == "user"
                for p in c.get("parts", [])
                if "fileData" in p or "file_data" in p
            )
            answer = (
                "".join(p.get("text", "") for p in contents[-1]["parts"]) if contents[-1]["role"] == "model" else ""
            )
        except (ValueError, KeyError, TypeError, IndexError, StopIteration, AttributeError):
            continue
        if uri and answer:
            memory[uri] = answer
    return memory


def _basename(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def narrative_for(video_uri: str | None, *, memory: dict[str, str] | None = None, seed: str | None = None) -> str:
    """The fake's narrative for a clip: remembered (by URI or file name), owner-flavoured (tuned) or generic
    (base); the choices derive from ``seed`` (the clip's `clip_seed`; default: computed from the URI)."""
    uri = video_uri or "no-video"
    choice = seed or clip_seed(video_uri)
    if memory:
        if uri in memory:
            return memory[uri]
        by_name = {_basename(k): v for k, v in memory.items()}
        if _basename(uri) in by_name:
            return by_name[_basename(uri)]
        # Unseen clip: borrow the owner's phrasing from the training rows.
        parsed = [p for p in (parse_narrative(t) for t in sorted(memory.values())) if p]
        if parsed:
            mech = pick([p["mechanism"] for p in parsed], "mech", choice)
            summary = pick([p["summary"] for p in parsed], "summary", choice)
            why = pick([p["why_it_works"] for p in parsed], "why", choice)
            return f"Det roliga i detta klipp är {mech}. {summary} Det fungerar för att {why}."
        return pick(sorted(memory.values()), "answer", choice)
    return (
        f"Det roliga i detta klipp är {pick(_MECHANISMS, 'mech', choice)}. {pick(_SUMMARIES, 'summary', choice)} "
        f"Det fungerar för att {pick(_WHYS, 'why', choice)}."
    )


def parse_narrative(text: str) -> dict[str, str] | None:
    """Split a narrative in the owner's form into mechanism, summary and why_it_works."""
    match = _NARRATIVE.search(text.strip())
    if not match:
        return None
    return {
        "mechanism": match.group("mechanism").strip(),
        "summary": match.group("summary").strip() or "Klippet visar en vardaglig situation.",
        "why_it_works": match.group("why").strip().rstrip("."),
    }


def _record(narrative: str, seed: str) -> dict[str, Any]:
    parts = parse_narrative(narrative) or {
        "mechanism": pick(_MECHANISMS, "mech", seed),
        "summary": pick(_SUMMARIES, "summary", seed),
        "why_it_works": pick(_WHYS, "why", seed),
    }
    # An owner narrative opens with a whole clause; the record's mechanism is a short phrase (≤ 10 words).
    mechanism = " ".join(parts["mechanism"].split()[:_MECHANISM_MAX_WORDS])
    return {
        "summary": parts["summary"],
        "mechanism": mechanism,
        "why_it_works": parts["why_it_works"],
        "audience": pick(_AUDIENCES, "audience", seed),
        "category": pick(_CATEGORIES, "category", seed),
        "quality": pick(_QUALITIES, "quality", seed),
        "replicable": seed_int("replicable", seed) % 3 != 0,
    }


def fill_schema(schema: dict[str, Any], *, seed: str, narrative: str) -> Any:
    """A value matching a Vertex ``responseSchema`` (OpenAPI subset), consistent with ``narrative``.

    Property names of `humortune.schema.HumorRecord` get meaningful values; anything else gets a stable
    value of the right type (enums pick one of their values).
    """
    record = _record(narrative, seed)
    return _fill(schema, seed=seed, record=record, name="")


def _fill(schema: dict[str, Any], *, seed: str, record: dict[str, Any], name: str) -> Any:
    kind = str(schema.get("type", "OBJECT" if "properties" in schema else "STRING")).upper()
    if schema.get("enum"):
        wanted = record.get(name)
        values = [str(v) for v in schema["enum"]]
        return wanted if wanted in values else pick(values, "enum", name, seed)
    if kind == "OBJECT":
        props: dict[str, Any] = schema.get("properties", {})
        return {key: _fill(sub, seed=seed, record=record, name=key) for key, sub in props.items()}
    if kind == "ARRAY":
        item = schema.get("items", {"type": "STRING"})
        return [_fill(item, seed=f"{seed}:{i}", record=record, name=name) for i in range(2)]
    if kind == "BOOLEAN":
        value = record.get(name)
        return value if isinstance(value, bool) else seed_int("bool", name, seed) % 2 == 0
    if kind == "INTEGER":
        return seed_int("int", name, seed) % 10
    if kind == "NUMBER":
        return round((seed_int("num", name, seed) % 1000) / 100, 2)
    value = record.get(name)
    return value if isinstance(value, str) else f"{name or 'text'} {seed_int('str', name, seed) % 1000}"
