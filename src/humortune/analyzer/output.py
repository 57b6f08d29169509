"""Turning model answers into narratives and records, and checking that the two agree.

Pure functions, no I/O. The tuned model writes the owner's Swedish narrative ("Det roliga i detta klipp är
…"); a model trained with the ``narrative+record`` target also appends the record as a fenced JSON block.
`split_joint` separates the two, `parse_joint` validates the record, and `consistency_warnings` flags a
record that contradicts its own narrative (a mechanism the narrative never mentions, a category the
narrative's cues clearly point away from, a quality or replicability verdict the narrative contradicts).
"""

from __future__ import annotations

import re
from typing import Any

from humortune.errors import RecordParseError
from humortune.prompts import NARRATIVE_OPENING, RECORD_EXTRACTION_PROMPT
from humortune.schema import Category, HumorRecord, Quality, extract_json_object

__all__ = [
    "clean_narrative",
    "consistency_warnings",
    "narrative_warnings",
    "parse_joint",
    "record_extraction_text",
    "record_response_schema",
    "split_joint",
]

# A fenced block (```json … ```) or, failing that, a bare JSON object starting on its own line.
_FENCED = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
_BARE_OBJECT = re.compile(r"^[ \t]*\{", re.MULTILINE)
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
_STEM = 5  # Swedish inflects by suffix: "dramatik"/"dramatiken", "banal"/"banala" share 5 letters

# Words that carry no content, Swedish and English; a mechanism is judged on the rest.
_STOPWORD_TEXT = """
    och att det som den detta denna dessa där här med för från till utan inte men eller när hur vad
    vilken vilket vilka sin sitt sina hans hennes deras dess ett en ens man kan ska skall blir blev vara
    varit har hade helt mycket mer mest lite sedan också bara ännu även efter före under över genom
    mellan mot kring runt samma själv sig varje alla allt något några ingen inget inga
    the and that this with from into onto over under than then when what which who whose their there
    have has had been being just very more most some any each every about around through without
    tittare tittaren tittarna klipp klippet klippets video videon viewer viewers clip
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_CATEGORY_CUES: dict[Category, tuple[str, ...]] = {
    Category.COMEDY: (r"\bskratt", r"\bkomisk", r"\bkomedi", r"\bparodi", r"\bfånig", r"\blöjlig", r"\bfunny"),
    Category.WHOLESOME: (
        r"\bgullig",
        r"\bsöt(a|t)?\b",
        r"\bhjärtevärm",
        r"\bvärmande",
        r"\brörande",
        r"\bmysig",
        r"\bomtank",
        r"\bkärleksfull",
        r"\bwholesome",
        r"\bheartwarm",
    ),
    Category.RELATABLE: (
        r"\bkänner igen",
        r"\bigenkänn",
        r"\balla har\b",
        r"\bvi alla\b",
        r"\buniversell",
        r"\brelatable",
    ),
    Category.CLEVER: (
        r"\bsmart",
        r"\bfyndig",
        r"\bklurig",
        r"\blistig",
        r"\bordlek",
        r"\bgenial",
        r"\bclever",
        r"\bwitty",
    ),
    Category.CHAOTIC: (
        r"\bkaos",
        r"\bkaotisk",
        r"\brör(an|igt|iga)\b",
        r"\beskaler",
        r"\bchao",
        r"\bmayhem",
    ),
}
_WEAK_CUES = (
    r"\bfaller platt",
    r"\binte (särskilt |speciellt |så )?rolig",
    r"\bfungerar inte\b",
    r"\bsvag(t|a)? (klipp|poäng|humor)",
    r"\bfalls flat",
    r"\bnot (very |particularly )?funny",
)
_STRONG_CUES = (r"\bbriljant", r"\blysande", r"\bmästerlig", r"\bgenialisk", r"\bbrilliant", r"\bmasterful")
_NOT_REPLICABLE_CUES = (
    r"\bgår inte att (återskapa|kopiera|upprepa|göra om)",
    r"\bsvår(t)? att (återskapa|kopiera|upprepa|göra om)",
    r"\bomöjligt? att (återskapa|kopiera|upprepa|göra om)",
    r"\bhard to (copy|replicate|recreate)",
)
_REPLICABLE_CUES = (
    r"\blätt(a)? att (återskapa|kopiera|upprepa|göra om|härma)",
    r"\bvem som helst kan",
    r"\beasy to (copy|replicate|recreate)",
)


def clean_narrative(text: str) -> str:
    """The narrative as the model wrote it, without surrounding whitespace or a wrapping code fence."""
    stripped = text.strip()
    fenced = re.fullmatch(r"```[a-zA-Z]*\s*\n(.*?)\n?```", stripped, re.DOTALL)
    return fenced.group(1).strip() if fenced else stripped


def split_joint(text: str) -> tuple[str, str | None]:
    """Split a ``narrative+record`` answer into (narrative, JSON text or ``None``).

    The JSON is the first fenced block, or else a bare object starting on its own line; the narrative
    is everything before it (prose after the JSON is dropped).
    """
    fence = _FENCED.search(text)
    if fence is not None:
        return clean_narrative(text[: fence.start()]), fence.group(1).strip()
    bare = _BARE_OBJECT.search(text)
    if bare is not None and bare.start() > 0:
        return clean_narrative(text[: bare.start()]), text[bare.start() :].strip()
    return clean_narrative(text), None


def parse_joint(text: str) -> tuple[str, HumorRecord]:
    """Parse the narrative and the validated record out of one ``narrative+record`` answer.

    Raises `RecordParseError` (naming the field when one is at fault) if there is no JSON block, if it is
    malformed, or if it does not validate as a `HumorRecord`.
    """
    narrative, block = split_joint(text)
    if block is None:
        raise RecordParseError(
            "the answer has no JSON record after the narrative",
            hint="joint mode needs a model tuned with the narrative+record target; use mode='two-stage'",
        )
    data = extract_json_object(block)
    if data is None:
        raise RecordParseError(
            "the JSON record after the narrative is malformed",
            hint="the model's JSON block did not parse; two-stage mode extracts the record separately",
        )
    if not narrative:
        raise RecordParseError("the answer has a record but no narrative before it")
    return narrative, HumorRecord.from_mapping(data)


def record_response_schema() -> dict[str, Any]:
    """The ``responseSchema`` (Vertex's OpenAPI subset) for a `HumorRecord`, used by the two-stage mode."""
    fields = list(HumorRecord.model_fields)
    properties: dict[str, Any] = {}
    for name in fields:
        info = HumorRecord.model_fields[name]
        prop: dict[str, Any] = {"type": "STRING"}
        if name == "category":
            prop["enum"] = [c.value for c in Category]
        elif name == "quality":
            prop["enum"] = [q.value for q in Quality]
        elif name == "replicable":
            prop = {"type": "BOOLEAN"}
        if info.description:
            prop["description"] = info.description
        properties[name] = prop
    return {"type": "OBJECT", "properties": properties, "required": fields, "propertyOrdering": fields}


def record_extraction_text(narrative: str) -> str:
    """The second-stage prompt: the extraction instruction followed by the narrative."""
    return RECORD_EXTRACTION_PROMPT.text + narrative.strip()


def narrative_warnings(narrative: str, *, expect_opening: bool) -> list[str]:
    """Soft problems with a narrative: empty, or (for tuned models) not in the owner's opening form."""
    if not narrative.strip():
        return ["the narrative is empty"]
    if expect_opening and not narrative.lstrip().lower().startswith(NARRATIVE_OPENING.lower()):
        return [f"the narrative does not open with {NARRATIVE_OPENING!r} as the owner's narratives do"]
    return []


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _content_words(text: str) -> list[str]:
    return [w for w in _words(text) if len(w) >= 3 and w not in _STOPWORDS]


def _mentions(word: str, narrative_words: list[str]) -> bool:
    stem = word[:_STEM]
    for other in narrative_words:
        if other.startswith(stem):
            return True
        # Swedish compounds: "vardagsuppgift" contains the narrative's "uppgiften" stem, and vice versa.
        if len(other) >= _STEM and other[:_STEM] in word:
            return True
        if len(word) >= _STEM and stem in other:
            return True
    return False


def _count(patterns: tuple[str, ...], text: str) -> int:
    return sum(len(re.findall(p, text)) for p in patterns)


def consistency_warnings(narrative: str, record: HumorRecord) -> list[str]:
    """Ways ``record`` contradicts ``narrative``; empty when they agree.

    Heuristic and deliberately conservative (tuned on the owner's own corrections, which pass clean):
    * none of the mechanism's content words (or their Swedish stems/compound parts) appear in the narrative;
    * the narrative carries at least two cues for another category and none for the record's;
    * the narrative calls the clip weak (or brilliant) while the record's quality says the opposite;
    * the narrative says the format cannot (or easily can) be copied while ``replicable`` says otherwise.
    """
    body = narrative.strip()
    if body.lower().startswith(NARRATIVE_OPENING.lower()):
        body = body[len(NARRATIVE_OPENING) :]  # "Det roliga …" opens every narrative: not a comedy cue
    lowered = body.lower()
    narrative_words = _content_words(body)
    warnings: list[str] = []

    mechanism_words = _content_words(record.mechanism)
    if mechanism_words and not any(_mentions(w, narrative_words) for w in mechanism_words):
        warnings.append(f"consistency: the record's mechanism {record.mechanism!r} never appears in the narrative")

    cues = {category: _count(patterns, lowered) for category, patterns in _CATEGORY_CUES.items()}
    strongest = max(cues, key=lambda c: cues[c])
    if cues[record.category] == 0 and cues[strongest] >= 2 and strongest != record.category:
        warnings.append(
            f"consistency: category {record.category.value!r} but the narrative reads as "
            f"{strongest.value!r} ({cues[strongest]} cues, none for {record.category.value!r})"
        )

    if record.quality in (Quality.GOOD, Quality.EXCEPTIONAL) and _count(_WEAK_CUES, lowered):
        warnings.append(f"consistency: quality {record.quality.value!r} but the narrative calls the clip weak")
    if record.quality is Quality.WEAK and _count(_STRONG_CUES, lowered):
        warnings.append("consistency: quality 'weak' but the narrative praises the clip")

    if record.replicable and _count(_NOT_REPLICABLE_CUES, lowered):
        warnings.append("consistency: replicable is true but the narrative says the clip is hard to copy")
    if not record.replicable and _count(_REPLICABLE_CUES, lowered):
        warnings.append("consistency: replicable is false but the narrative says the clip is easy to copy")
    return warnings
