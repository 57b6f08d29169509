"""The Gemini base models humortune can tune on: capabilities, lifecycle and prices, each fact with its source.

The bottom floor of the package: pure data and pure functions, importing only `humortune.errors` and the
standard library, so every layer (gemini, dataset, tuner, analyzer, evaluator, cli) can import it downward.

```python
from humortune import catalog

model = catalog.default_base_model("us-central1")       # gemini-3.5-flash (checked 2026-12-01)
catalog.lifecycle("gemini-2.5-flash").message()          # "gemini-2.5-flash retired on 2026-10-20 …"
catalog.check_tunable("gemini-2.5-flash", region="us-central1")   # raises ModelLifecycleError
```

Facts were read from the Vertex AI ("Gemini Enterprise Agent Platform") documentation on `CHECKED`; every
`CatalogModel.sources` entry names the page. Where pages disagreed the newest was taken and the `Source.note`
says so. Prices are the least certain facts (see their notes): override them in settings.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from humortune.errors import HyperparameterError, ModelLifecycleError, UnknownModelError

__all__ = [
    "ADAPTER_ENUM",
    "CHECKED",
    "MODELS",
    "NOT_TUNABLE",
    "REFUSE_WITHIN_DAYS",
    "WARN_WITHIN_DAYS",
    "CatalogModel",
    "Lifecycle",
    "Source",
    "catalog_dict",
    "check_tunable",
    "default_base_model",
    "default_reason",
    "find",
    "get",
    "lifecycle",
    "normalize",
    "serving_location_for",
    "stale_warning",
]

ADAPTER_ENUM = {
    1: "ADAPTER_SIZE_ONE",
    2: "ADAPTER_SIZE_TWO",
    4: "ADAPTER_SIZE_FOUR",
    8: "ADAPTER_SIZE_EIGHT",
    16: "ADAPTER_SIZE_SIXTEEN",
    32: "ADAPTER_SIZE_THIRTY_TWO",
}
"""Adapter size → the tuning API's enum value (a model fact the Gemini client and the fake both need)."""

CHECKED = datetime.date(2026, 12, 1)
"""When the catalog as a whole was last checked against the documentation."""

REFUSE_WITHIN_DAYS = 30
"""Vertex blocks new tuning on a model about a month before it retires, so `tune` refuses inside this window."""
WARN_WITHIN_DAYS = 60
"""`analyze`, `serve` and `models list` warn when a tuned model's base retires within this many days."""

Tier = Literal["pro", "flash", "flash-lite"]
Thinking = Literal["budget", "level", "none"]
State = Literal["active", "retiring", "retired", "unknown"]


@dataclass(frozen=True, slots=True)
class Source:
    """Where one fact came from."""

    url: str
    checked: datetime.date
    note: str = ""
    """E.g. "pages disagree: X says …, Y says …; took the newest"."""


@dataclass(frozen=True, slots=True)
class CatalogModel:
    """One Gemini base model Vertex AI can tune."""

    id: str
    tier: Tier
    stage: Literal["ga", "preview"]
    video_tuning: bool
    tuning_regions: tuple[str, ...] | None
    """Regions where tuning runs; ``None`` means most Vertex regions."""
    serving_location: str | None
    """``us``/``eu`` multi-region the tuned model is served from; ``None`` means the job's region."""
    adapter_sizes: tuple[int, ...]
    thinking: Thinking
    lowest_thinking: int | str | None
    """The lowest thinking setting the model accepts: a budget (``0``) or a level (``"MINIMAL"``)."""
    release: datetime.date | None
    retirement: datetime.date | None
    successor: str | None
    """The catalog model to retrain on when this one retires (a tunable one, not just any replacement)."""
    training_price_per_mtok_usd: float
    input_price_per_mtok_usd: float | None
    output_price_per_mtok_usd: float | None
    sources: Mapping[str, Source] = field(default_factory=dict)
    """Fact name (``retirement``, ``video_tuning``, ``price`` …) → where it came from."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO strings), used by ``humortune models catalog --json``."""
        return {
            "id": self.id,
            "tier": self.tier,
            "stage": self.stage,
            "video_tuning": self.video_tuning,
            "tuning_regions": list(self.tuning_regions) if self.tuning_regions is not None else None,
            "serving_location": self.serving_location,
            "adapter_sizes": list(self.adapter_sizes),
            "thinking": self.thinking,
            "lowest_thinking": self.lowest_thinking,
            "release": _iso(self.release),
            "retirement": _iso(self.retirement),
            "successor": self.successor,
            "training_price_per_mtok_usd": self.training_price_per_mtok_usd,
            "input_price_per_mtok_usd": self.input_price_per_mtok_usd,
            "output_price_per_mtok_usd": self.output_price_per_mtok_usd,
            "sources": {
                name: {"url": s.url, "checked": s.checked.isoformat(), "note": s.note}
                for name, s in self.sources.items()
            },
        }


def _iso(day: datetime.date | None) -> str | None:
    return day.isoformat() if day else None


_DOCS = "https://docs.cloud.google.com/gemini-enterprise-agent-platform"
_VERSIONS = f"{_DOCS}/models/model-versions"
_TUNING_API = f"{_DOCS}/reference/models/tuning"
_SFT = f"{_DOCS}/models/tuning/supervised-tuning"
_VIDEO = f"{_DOCS}/models/tuning/video"
_PRICING = "https://cloud.google.com/gemini-enterprise-agent-platform/pricing"
_THINKING = f"{_DOCS}/models/capabilities/thinking"
_VIDEO_2025 = "https://cloud.google.com/vertex-ai/generative-ai/docs/models/tune_gemini/video_tune"


def _src(url: str, note: str = "") -> Source:
    return Source(url, CHECKED, note)


_VERSIONS_NOTE = (
    "newest stored copy of the page (lists gemini-3.8-flash and gemini-4-argon); older copies list the same "
    "dates; '…or later' dates are the earliest retirement"
)
_TRAINING_PRICE_NOTE = (
    "secondhand: two third-party quotes of the pricing page, 2026-11 (the page itself was not in the stored "
    "copies); override with Settings.training_price_per_mtok"
)
_SFT_LIST = _src(_SFT, "listed for supervised tuning ('Last updated 2026-09-25'); also in the tuning API reference")
_G3_REGIONS = _src(_SFT, "Gemini 3.x: tuning only in us-central1 and europe-west4, served from the us/eu multi-region")
_G3_VIDEO = _src(_VIDEO, "the current page gives Gemini 3 token rules and per-Part mediaResolution for video tuning")
_G25_VIDEO = _src(_VIDEO_2025, "the 2025 page lists 2.5 Flash, Flash-Lite and Pro; the current page keeps 2.5 rules")
_ADAPTERS = _src(_SFT, "1, 2, 4, 8, 16 for Flash/Flash-Lite; 1, 2, 4, 8 for 2.5 Pro")
_LEVEL = _src(
    f"{_DOCS}/models/guides/gemini-3-5-flash",
    "Vertex developer guide: 3.5 Flash and 3.1 Flash-Lite take MINIMAL, LOW, MEDIUM, HIGH; tuning docs: thinking "
    "off or lowest for tuned models",
)
_BUDGET_OFF = _src(_SFT, "tuning docs: thinking budget off or lowest; 2.5 Flash/Flash-Lite accept thinking_budget=0")


def _model(**kwargs: Any) -> CatalogModel:
    kwargs["sources"] = MappingProxyType(dict(kwargs["sources"]))
    return CatalogModel(**kwargs)


_ENTRIES = (
    _model(
        id="gemini-3.5-flash",
        tier="flash",
        stage="ga",
        video_tuning=True,
        tuning_regions=("us-central1", "europe-west4"),
        serving_location="us",
        adapter_sizes=(1, 2, 4, 8, 16),
        thinking="level",
        lowest_thinking="MINIMAL",
        release=datetime.date(2026, 5, 19),
        retirement=datetime.date(2027, 5, 19),
        successor=None,
        training_price_per_mtok_usd=10.0,
        input_price_per_mtok_usd=1.50,
        output_price_per_mtok_usd=9.00,
        sources={
            "tunable": _SFT_LIST,
            "video_tuning": _G3_VIDEO,
            "regions": _G3_REGIONS,
            "adapter_sizes": _ADAPTERS,
            "thinking": _LEVEL,
            "release": _src(_VERSIONS, _VERSIONS_NOTE),
            "retirement": _src(
                _VERSIONS,
                "'May 19, 2027 or later'; pages disagree: the Gemini Developer API (ai.google.dev, not Vertex) "
                "calls gemini-3.5-flash deprecated and forwards it to gemini-3.6-flash; Vertex's newer "
                "model-versions page keeps it; took Vertex's",
            ),
            "training_price": _src(_PRICING, _TRAINING_PRICE_NOTE),
            "inference_price": _src(
                "https://apidog.com/blog/gemini-3-5-flash-pricing/",
                "third-party, not authoritative (~$1.50 in / ~$9.00 out, May 2026); verify on " + _PRICING,
            ),
        },
    ),
    _model(
        id="gemini-3.1-flash-lite",
        tier="flash-lite",
        stage="ga",
        video_tuning=True,
        tuning_regions=("us-central1", "europe-west4"),
        serving_location="us",
        adapter_sizes=(1, 2, 4, 8, 16),
        thinking="level",
        lowest_thinking="MINIMAL",
        release=datetime.date(2026, 5, 7),
        retirement=datetime.date(2027, 5, 7),
        successor=None,
        training_price_per_mtok_usd=3.0,
        input_price_per_mtok_usd=None,
        output_price_per_mtok_usd=None,
        sources={
            "tunable": _SFT_LIST,
            "video_tuning": _G3_VIDEO,
            "regions": _G3_REGIONS,
            "adapter_sizes": _ADAPTERS,
            "thinking": _LEVEL,
            "release": _src(_VERSIONS, _VERSIONS_NOTE),
            "retirement": _src(_VERSIONS, "'May 7, 2027 or later'; " + _VERSIONS_NOTE),
            "training_price": _src(_PRICING, _TRAINING_PRICE_NOTE),
            "inference_price": _src(_PRICING, "not found in any stored copy; set Settings.inference_price_per_mtok"),
        },
    ),
    _model(
        id="gemini-2.5-pro",
        tier="pro",
        stage="ga",
        video_tuning=True,
        tuning_regions=None,
        serving_location=None,
        adapter_sizes=(1, 2, 4, 8),
        thinking="budget",
        lowest_thinking=128,
        release=datetime.date(2025, 6, 17),
        retirement=datetime.date(2026, 10, 20),
        successor="gemini-3.5-flash",
        training_price_per_mtok_usd=25.0,
        input_price_per_mtok_usd=1.25,
        output_price_per_mtok_usd=10.00,
        sources={
            "tunable": _SFT_LIST,
            "video_tuning": _G25_VIDEO,
            "adapter_sizes": _ADAPTERS,
            "thinking": _src(
                _THINKING,
                "2.5 Pro cannot turn thinking off; its budget range starts at 128 "
                "(not re-read in a stored copy on this date)",
            ),
            "release": _src(_VERSIONS, _VERSIONS_NOTE),
            "retirement": _src(
                _VERSIONS,
                "pages disagree: the Gemini API deprecations page says 2026-06-17; "
                "the newer Vertex model-versions page says 2026-10-20; took the newest",
            ),
            "successor": _src(
                _VERSIONS,
                "page: gemini-3.8-flash or gemini-3.5-flash; gemini-3.8-flash is not tunable, so the tunable one",
            ),
            "training_price": _src(_PRICING, _TRAINING_PRICE_NOTE),
            "inference_price": _src(_PRICING, "secondhand quotes of the pricing page, late 2026"),
        },
    ),
    _model(
        id="gemini-2.5-flash",
        tier="flash",
        stage="ga",
        video_tuning=True,
        tuning_regions=None,
        serving_location=None,
        adapter_sizes=(1, 2, 4, 8, 16),
        thinking="budget",
        lowest_thinking=0,
        release=datetime.date(2025, 6, 17),
        retirement=datetime.date(2026, 10, 20),
        successor="gemini-3.5-flash",
        training_price_per_mtok_usd=5.0,
        input_price_per_mtok_usd=0.30,
        output_price_per_mtok_usd=2.50,
        sources={
            "tunable": _SFT_LIST,
            "video_tuning": _G25_VIDEO,
            "adapter_sizes": _ADAPTERS,
            "thinking": _BUDGET_OFF,
            "release": _src(_VERSIONS, _VERSIONS_NOTE),
            "retirement": _src(
                _VERSIONS,
                "pages disagree: the Gemini API deprecations page says 2026-06-17; "
                "the newer Vertex model-versions page says 2026-10-20; took the newest",
            ),
            "successor": _src(
                _VERSIONS,
                "page: gemini-3.8-flash or gemini-3.5-flash-lite; neither is in this "
                "catalog as tunable with video, so the tunable Flash model",
            ),
            "training_price": _src(_PRICING, _TRAINING_PRICE_NOTE),
            "inference_price": _src(_PRICING, "secondhand quotes of the pricing page, late 2026"),
        },
    ),
    _model(
        id="gemini-2.5-flash-lite",
        tier="flash-lite",
        stage="ga",
        video_tuning=True,
        tuning_regions=None,
        serving_location=None,
        adapter_sizes=(1, 2, 4, 8, 16),
        thinking="budget",
        lowest_thinking=0,
        release=datetime.date(2025, 7, 22),
        retirement=datetime.date(2026, 10, 20),
        successor="gemini-3.1-flash-lite",
        training_price_per_mtok_usd=1.5,
        input_price_per_mtok_usd=0.10,
        output_price_per_mtok_usd=0.40,
        sources={
            "tunable": _SFT_LIST,
            "video_tuning": _G25_VIDEO,
            "adapter_sizes": _ADAPTERS,
            "thinking": _BUDGET_OFF,
            "release": _src(_VERSIONS, _VERSIONS_NOTE),
            "retirement": _src(_VERSIONS, _VERSIONS_NOTE),
            "successor": _src(
                _VERSIONS,
                "pages disagree: older copy says gemini-3.1-flash-lite or Gemma 4, the "
                "newest gemini-3.8-flash, gemini-3.5-flash-lite or Gemma 4; took the tunable one",
            ),
            "training_price": _src(_PRICING, _TRAINING_PRICE_NOTE),
            "inference_price": _src(_PRICING, "secondhand quotes of the pricing page, late 2026"),
        },
    ),
)

MODELS: Mapping[str, CatalogModel] = MappingProxyType({m.id: m for m in _ENTRIES})
"""Every base model humortune can tune, by id."""

NOT_TUNABLE: Mapping[str, Source] = MappingProxyType(
    {
        "gemini-3.8-flash": _src(
            f"{_DOCS}/models/guides/gemini-3-8-flash",
            "GA 2026-09-02 and newer than 3.5 Flash, but not in the supervised-tuning model lists, and served "
            "only from the global/multi-region endpoints; not a tuning base",
        ),
        "gemini-3.5-flash-lite": _src(
            _TUNING_API,
            "pages disagree: the tuning API reference lists it for SFT, the supervised-tuning page does not, "
            "and no training price was found; left out until both agree",
        ),
        "gemini-2.0-flash": _src(_SFT, "no longer in the supervised-tuning lists; shut down 2026"),
    }
)
"""Models deliberately not in `MODELS`, with why: so the catalog can say why it chose what it chose."""

_VERSION_SUFFIX = re.compile(r"-\d{3}$")


def normalize(model: str) -> str:
    """``publishers/google/models/gemini-2.5-flash-001@x`` → ``gemini-2.5-flash``."""
    name = model.strip().rsplit("/", 1)[-1].split("@", 1)[0].lower()
    return _VERSION_SUFFIX.sub("", name)


def find(model: str) -> CatalogModel | None:
    """The catalog entry of ``model`` (any spelling `normalize` accepts), or ``None``."""
    return MODELS.get(normalize(model))


def get(model: str) -> CatalogModel:
    """The catalog entry of ``model``; raises `UnknownModelError` naming the known ids."""
    found = find(model)
    if found is None:
        why = NOT_TUNABLE.get(normalize(model))
        raise UnknownModelError(
            f"{model!r} cannot be tuned" + (f" ({why.note})" if why else " (not in the model catalog)"),
            hint=f"choose one of {', '.join(MODELS)} (or a tuned model projects/…/models/…)",
            item=model,
        )
    return found


@dataclass(frozen=True)
class Lifecycle:
    """Where a model stands on a given day."""

    model: str
    state: State
    retirement: datetime.date | None
    days_left: int | None
    successor: str | None

    def message(self) -> str:
        """One line: the state, the date and what to move to."""
        then = f"; move to {self.successor}" if self.successor else ""
        if self.state == "unknown":
            return f"{self.model} is not in the model catalog (checked {CHECKED}); its lifecycle is unknown"
        if self.state == "retired":
            return f"{self.model} retired on {self.retirement}{then}"
        if self.state == "retiring":
            return f"{self.model} retires on {self.retirement} (in {self.days_left} days){then}"
        until = f" until at least {self.retirement}" if self.retirement else ""
        return f"{self.model} is available{until}"


def _today(today: datetime.date | None) -> datetime.date:
    return today or datetime.date.today()


def lifecycle(model: str, *, today: datetime.date | None = None, within_days: int = REFUSE_WITHIN_DAYS) -> Lifecycle:
    """The lifecycle of ``model`` on ``today``: ``retiring`` when it retires within ``within_days``."""
    entry = find(model)
    if entry is None:
        return Lifecycle(normalize(model), "unknown", None, None, None)
    if entry.retirement is None:
        return Lifecycle(entry.id, "active", None, None, entry.successor)
    days_left = (entry.retirement - _today(today)).days
    state: State = "retired" if days_left <= 0 else "retiring" if days_left <= within_days else "active"
    return Lifecycle(entry.id, state, entry.retirement, max(days_left, 0), entry.successor)


def _tunable_in(entry: CatalogModel, region: str) -> bool:
    return entry.tuning_regions is None or region in entry.tuning_regions


def default_base_model(region: str = "us-central1", *, today: datetime.date | None = None) -> CatalogModel:
    """The newest GA Flash-class model tunable with video in ``region`` and not retiring within 30 days."""
    candidates = [
        m
        for m in MODELS.values()
        if m.tier == "flash"
        and m.stage == "ga"
        and m.video_tuning
        and _tunable_in(m, region)
        and (m.release is None or m.release <= _today(today))
        and lifecycle(m.id, today=today).state == "active"
    ]
    if not candidates:
        raise ModelLifecycleError(
            f"no Flash model in the catalog (checked {CHECKED}) is tunable with video in {region} and current",
            hint="set base_model in humortune.toml to a current model, or update humortune",
        )
    return max(candidates, key=lambda m: m.release or datetime.date.min)


def default_reason(region: str = "us-central1", *, today: datetime.date | None = None) -> str:
    """Why `default_base_model` chose what it chose, with the sources of the deciding facts."""
    chosen = default_base_model(region, today=today)
    facts = ", ".join(f"{k}: {chosen.sources[k].url}" for k in ("tunable", "video_tuning", "retirement"))
    skipped = "; ".join(f"{mid}: {src.note}" for mid, src in NOT_TUNABLE.items() if mid.startswith("gemini-3"))
    return (
        f"{chosen.id}: the newest generally available Flash model tunable with video in {region} "
        f"({lifecycle(chosen.id, today=today).message()}; catalog checked {CHECKED}). Sources: {facts}. "
        f"Not chosen: {skipped}"
    )


def check_tunable(
    model: str, *, region: str, today: datetime.date | None = None, allow_retiring: bool = False
) -> CatalogModel:
    """The catalog entry, if ``model`` can be tuned with video in ``region`` today; raises otherwise.

    A retired model is always refused (Vertex answers 404); one retiring within 30 days only without
    ``allow_retiring``. Every refusal names the date and the successor.
    """
    entry = get(model)
    if not entry.video_tuning:
        raise HyperparameterError(f"{entry.id} cannot be tuned with video", hint=_use_instead(entry), item=entry.id)
    if not _tunable_in(entry, region):
        regions = ", ".join(entry.tuning_regions or ())
        raise HyperparameterError(
            f"{entry.id} can only be tuned in {regions}, not {region}",
            hint=f"set HUMORTUNE_LOCATION={(entry.tuning_regions or ('us-central1',))[0]} (the tuned model is "
            f"served from the {entry.serving_location!r} multi-region)",
            item=entry.id,
        )
    state = lifecycle(entry.id, today=today)
    if state.state == "retired" or (state.state == "retiring" and not allow_retiring):
        allow = "" if state.state == "retired" else ", or pass --allow-retiring to tune on it anyway"
        raise ModelLifecycleError(
            state.message() + " (Vertex blocks new tuning a month before retirement)",
            hint=_use_instead(entry) + allow,
            item=entry.id,
        )
    return entry


def _use_instead(entry: CatalogModel) -> str:
    if entry.successor is None:
        return (
            f"the catalog (checked {CHECKED}) names no successor for {entry.id}: upgrade humortune, or set "
            "base_model in humortune.toml to a current model (`humortune models catalog`)"
        )
    return f'use --base-model {entry.successor} (or base_model = "{entry.successor}" in humortune.toml)'


def serving_location_for(model: str, region: str) -> str | None:
    """The multi-region a model tuned in ``region`` is served from (``eu`` for European regions), if any."""
    entry = find(model)
    if entry is None or entry.serving_location is None:
        return None
    return "eu" if region.startswith("europe") else entry.serving_location


def stale_warning(*, today: datetime.date | None = None, max_age_days: int = 90) -> str | None:
    """A warning when the catalog was checked more than ``max_age_days`` ago, else ``None``."""
    age = (_today(today) - CHECKED).days
    if age <= max_age_days:
        return None
    return (
        f"the model catalog was checked {age} days ago ({CHECKED}); retirement dates and prices may be stale — "
        "upgrade humortune or check the sources in `humortune models catalog`"
    )


def catalog_dict(*, today: datetime.date | None = None) -> dict[str, Any]:
    """The whole catalog with each model's lifecycle on ``today``, JSON-ready."""
    models = []
    for entry in MODELS.values():
        state = lifecycle(entry.id, today=today)
        models.append({**entry.as_dict(), "lifecycle": {"state": state.state, "days_left": state.days_left}})
    return {
        "checked": CHECKED.isoformat(),
        "stale_warning": stale_warning(today=today),
        "models": models,
        "not_tunable": {mid: {"url": s.url, "note": s.note} for mid, s in NOT_TUNABLE.items()},
    }
