"""The data humortune moves around: pure pydantic models, no I/O.

* `Correction`: the owner's correction of what Gemini said about one clip. The only source of truth.
* `VideoAsset`: one stored, probed video, named by its content hash.
* `HumorRecord`: the structured reading of a clip, exactly the shape the app consumes.
* `Analysis`: what a model said about a clip (narrative + record) and what it cost.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from humortune.errors import RecordParseError

__all__ = [
    "Analysis",
    "Category",
    "Correction",
    "CostEstimate",
    "DatasetVersion",
    "HumorRecord",
    "OutputMode",
    "Quality",
    "TargetFormat",
    "TokenUsage",
    "TunedModel",
    "VideoAsset",
    "utcnow",
]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC, to the microsecond."""
    return datetime.now(UTC)


class Category(StrEnum):
    """What kind of clip it is."""

    COMEDY = "comedy"
    WHOLESOME = "wholesome"
    RELATABLE = "relatable"
    CLEVER = "clever"
    CHAOTIC = "chaotic"


class Quality(StrEnum):
    """How well the clip does what it tries to do."""

    WEAK = "weak"
    AVERAGE = "average"
    GOOD = "good"
    EXCEPTIONAL = "exceptional"


OutputMode = Literal["two-stage", "joint", "narrative"]
"""How an analysis gets its structured record (see the analyzer docs)."""

TargetFormat = Literal["narrative", "narrative+record"]
"""What the model turn of a training row holds: the owner's narrative, or the narrative then the record."""

# Spellings models (and owners) really use, Swedish and English, folded to lower case.
_CATEGORY_SYNONYMS: dict[str, Category] = {
    **{c.value: c for c in Category},
    "komedi": Category.COMEDY,
    "komisk": Category.COMEDY,
    "humor": Category.COMEDY,
    "rolig": Category.COMEDY,
    "funny": Category.COMEDY,
    "humorous": Category.COMEDY,
    "hjärtevärmande": Category.WHOLESOME,
    "värmande": Category.WHOLESOME,
    "gullig": Category.WHOLESOME,
    "mysig": Category.WHOLESOME,
    "heartwarming": Category.WHOLESOME,
    "igenkännbar": Category.RELATABLE,
    "igenkänning": Category.RELATABLE,
    "relaterbar": Category.RELATABLE,
    "smart": Category.CLEVER,
    "klurig": Category.CLEVER,
    "fyndig": Category.CLEVER,
    "listig": Category.CLEVER,
    "kaotisk": Category.CHAOTIC,
    "kaos": Category.CHAOTIC,
    "chaos": Category.CHAOTIC,
}
_QUALITY_SYNONYMS: dict[str, Quality] = {
    **{q.value: q for q in Quality},
    "svag": Quality.WEAK,
    "dålig": Quality.WEAK,
    "poor": Quality.WEAK,
    "bad": Quality.WEAK,
    "medel": Quality.AVERAGE,
    "medelmåttig": Quality.AVERAGE,
    "genomsnittlig": Quality.AVERAGE,
    "ok": Quality.AVERAGE,
    "okej": Quality.AVERAGE,
    "mediocre": Quality.AVERAGE,
    "bra": Quality.GOOD,
    "god": Quality.GOOD,
    "stark": Quality.GOOD,
    "exceptionell": Quality.EXCEPTIONAL,
    "utmärkt": Quality.EXCEPTIONAL,
    "fantastisk": Quality.EXCEPTIONAL,
    "lysande": Quality.EXCEPTIONAL,
    "excellent": Quality.EXCEPTIONAL,
    "outstanding": Quality.EXCEPTIONAL,
}
_BOOL_SYNONYMS: dict[str, bool] = {
    "true": True,
    "yes": True,
    "ja": True,
    "sant": True,
    "y": True,
    "1": True,
    "false": False,
    "no": False,
    "nej": False,
    "falskt": False,
    "n": False,
    "0": False,
}
# Field names as models write them in Swedish or with other casing.
_FIELD_SYNONYMS: dict[str, str] = {
    "summary": "summary",
    "sammanfattning": "summary",
    "mechanism": "mechanism",
    "mekanism": "mechanism",
    "humor_mechanism": "mechanism",
    "humour_mechanism": "mechanism",
    "why_it_works": "why_it_works",
    "whyitworks": "why_it_works",
    "varför_det_fungerar": "why_it_works",
    "varfor_det_fungerar": "why_it_works",
    "audience": "audience",
    "målgrupp": "audience",
    "publik": "audience",
    "category": "category",
    "kategori": "category",
    "quality": "quality",
    "kvalitet": "quality",
    "replicable": "replicable",
    "replikerbar": "replicable",
    "reproducerbar": "replicable",
    "kan_upprepas": "replicable",
}
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)

MECHANISM_WORDS = (5, 10)
"""The mechanism is a short phrase: the mission asks for 5–10 words."""
_MECHANISM_HARD_MAX = 20  # beyond this it is a paragraph, not a mechanism


def _fold_key(key: str) -> str:
    return re.sub(r"[\s\-]+", "_", key.strip().lower())


class HumorRecord(BaseModel):
    """The structured reading of one clip.

    Enum fields accept Swedish and English spellings in any case (``"Komedi"`` → `Category.COMEDY`,
    ``"Bra"`` → `Quality.GOOD`, ``"ja"`` → ``True``). Use `HumorRecord.parse` on raw model output.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    summary: str = Field(min_length=1, description="What happens in the clip, in one or two sentences.")
    mechanism: str = Field(min_length=1, description="The humour mechanism, in 5–10 words.")
    why_it_works: str = Field(min_length=1, description="Why the mechanism lands with its audience.")
    audience: str = Field(min_length=1, description="Who the clip is for.")
    category: Category
    quality: Quality
    replicable: bool = Field(description="Whether another creator could make a clip on the same pattern.")

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, value: object) -> object:
        if isinstance(value, str):
            return _CATEGORY_SYNONYMS.get(value.strip().lower(), value)
        return value

    @field_validator("quality", mode="before")
    @classmethod
    def _quality(cls, value: object) -> object:
        if isinstance(value, str):
            return _QUALITY_SYNONYMS.get(value.strip().lower(), value)
        return value

    @field_validator("replicable", mode="before")
    @classmethod
    def _replicable(cls, value: object) -> object:
        if isinstance(value, str):
            folded = value.strip().lower().rstrip(".")
            if folded in _BOOL_SYNONYMS:
                return _BOOL_SYNONYMS[folded]
            raise ValueError(f"expected yes/no (ja/nej, true/false), got {value!r}")
        return value

    @field_validator("mechanism")
    @classmethod
    def _mechanism_is_a_phrase(cls, value: str) -> str:
        if len(value.split()) > _MECHANISM_HARD_MAX:
            raise ValueError(f"the mechanism should be a short phrase (5–10 words), got {len(value.split())} words")
        return value

    def soft_problems(self) -> list[str]:
        """Departures from the house style that do not make the record invalid."""
        low, high = MECHANISM_WORDS
        words = len(self.mechanism.split())
        if not low <= words <= high:
            return [f"mechanism has {words} words; the house style is {low}–{high}"]
        return []

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> HumorRecord:
        """Validate a mapping whose keys may be Swedish or oddly cased; errors name the field."""
        normalised: dict[str, Any] = {}
        for key, value in data.items():
            field = _FIELD_SYNONYMS.get(_fold_key(str(key)))
            if field is None:
                raise RecordParseError(
                    f"unknown field {key!r}; expected {', '.join(cls.model_fields)}",
                    field=str(key),
                    hint="remove the field or rename it to one of the expected names",
                )
            normalised[field] = value
        try:
            return cls.model_validate(normalised)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or None
            got = first.get("input")
            detail = first["msg"]
            if first["type"] == "missing":
                detail = "missing"
            elif got is not None and not isinstance(got, dict):
                detail = f"{detail} (got {got!r})"
            raise RecordParseError(
                f"invalid record: {field}: {detail}",
                field=field,
                hint=_FIELD_HINTS.get(field or "", "check the model's JSON against HumorRecord"),
            ) from exc

    @classmethod
    def parse(cls, text: str) -> HumorRecord:
        """Parse a record out of what a model really returns.

        Accepts bare JSON, JSON inside ```json fences, and JSON surrounded by prose. Raises
        `RecordParseError` naming the offending field.
        """
        data = extract_json_object(text)
        if data is None:
            raise RecordParseError(
                "no JSON object found in the model's answer",
                hint="the answer must contain one JSON object with the record's fields",
            )
        return cls.from_mapping(data)


_FIELD_HINTS = {
    "category": f"category must be one of {', '.join(c.value for c in Category)}",
    "quality": f"quality must be one of {', '.join(q.value for q in Quality)}",
    "replicable": "replicable must be true or false",
    "mechanism": "mechanism is a 5–10 word phrase naming the humour mechanism",
}


def extract_json_object(text: str) -> dict[str, Any] | None:
    """Return the first JSON object found in ``text`` (fenced or inline), or ``None``."""
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        for start in (i for i, ch in enumerate(candidate) if ch == "{"):
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


class Correction(BaseModel):
    """The owner's correction of what Gemini said about one clip.

    Fields the battery carries that humortune does not know are kept (``model_extra``) and written back.
    """

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    video_url: str = Field(min_length=1)
    gemini_said: str | None = None
    human_said: str = Field(min_length=1)
    record: HumorRecord | None = None
    niche: str | None = None
    source: str = "battery"
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def extra(self) -> dict[str, Any]:
        """Fields from the source that humortune does not interpret, preserved as given."""
        return dict(self.model_extra or {})


class VideoAsset(BaseModel):
    """One stored, probed video. Its identity is the sha256 of its bytes."""

    model_config = ConfigDict(frozen=True)

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    source_id: str = Field(description="Canonical source id: TikTok video id, or the content hash.")
    size_bytes: int = Field(ge=0)
    duration_s: float = Field(ge=0)
    width: int = Field(ge=0)
    height: int = Field(ge=0)
    codec: str
    fps: float = Field(ge=0)
    has_audio: bool
    mime: str = "video/mp4"
    container: str | None = None
    uri: str = Field(description="Where the bytes are stored: file://… or gs://…")


class TokenUsage(BaseModel):
    """Tokens a call consumed, as the service reported them."""

    # Always sent: required in output schemas, so generated clients need no undefined checks.
    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)

    prompt_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0


class Analysis(BaseModel):
    """What one model said about one clip."""

    id: str | None = None
    video_sha256: str | None = None
    video_uri: str
    narrative: str
    record: HumorRecord | None = None
    model: str
    record_model: str | None = Field(None, description="The base model that wrote the record (two-stage mode).")
    prompt_version: str
    mode: OutputMode = "two-stage"
    usage: TokenUsage = Field(default_factory=TokenUsage)
    latency_s: float = 0.0
    cost_usd: float | None = None
    warnings: list[str] = Field(default_factory=list)
    cached: bool = Field(False, description="Served from the corpus cache: this call cost nothing.")
    created_at: datetime = Field(default_factory=utcnow)


class CostEstimate(BaseModel):
    """A training-cost estimate with its range and the assumptions behind it."""

    base_model: str
    epochs: int
    media_resolution: str
    examples: int
    tokens_per_epoch_low: int
    tokens_per_epoch_high: int
    price_per_mtok_usd: float
    price_source: str = Field(description="Where and when the price was taken, or 'settings override'.")
    usd_low: float
    usd_high: float
    per_split: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="split → {examples, tokens_low, tokens_high, usd_low, usd_high}"
    )
    assumptions: list[str] = Field(default_factory=list)

    @property
    def training_tokens_high(self) -> int:
        """Billable training tokens at the high end: tokens per epoch × epochs."""
        return self.tokens_per_epoch_high * self.epochs


class DatasetVersion(BaseModel):
    """A built, validated and priced tuning dataset. Its id is the hash of everything that went into it."""

    id: str
    created_at: datetime = Field(default_factory=utcnow)
    prompt_version: str
    target_format: TargetFormat = "narrative"
    media_resolution: str
    niche: str | None = None
    storage_prefix: str = Field(description="URI of the folder holding train.jsonl, validation.jsonl, …")
    train_uri: str
    validation_uri: str | None = None
    test_uri: str | None = None
    counts: dict[str, int] = Field(default_factory=dict, description="examples per split")
    valid: bool = False
    errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    estimate: CostEstimate | None = None

    @property
    def in_gcs(self) -> bool:
        """Whether Vertex AI can read the files (they must be in Cloud Storage)."""
        return self.train_uri.startswith("gs://")


class TunedModel(BaseModel):
    """A tuned model registered in the corpus, with its lineage."""

    id: str = Field(description="Model resource name: projects/…/models/…@version.")
    endpoint: str | None = Field(None, description="Endpoint resource name used for inference.")
    job_name: str | None = None
    base_model: str
    dataset_id: str | None = None
    prompt_version: str | None = None
    media_resolution: str | None = None
    niche: str | None = None
    checkpoints: list[dict[str, Any]] = Field(default_factory=list)
    stats: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)
