"""The prompt the model is tuned with and analysed with, and the Swedish narrative form.

The behaviour lives in the tuned weights, not in instructions: the prompt stays the seed's one short
sentence, and inference uses exactly the training prompt. A prompt's version is the hash of its text, so a
changed prompt is a different version everywhere it is recorded (dataset versions, models, analyses).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from humortune._util import short_hash
from humortune.schema import HumorRecord

__all__ = [
    "DEFAULT_PROMPT",
    "NARRATIVE_OPENING",
    "NARRATIVE_TEMPLATE",
    "RECORD_EXTRACTION_PROMPT",
    "Prompt",
    "render_narrative",
]

SEED_PROMPT_TEXT = (
    "Analysera denna video. Förklara vad som händer och varför det är roligt eller effektivt. Var specifik."
)

NARRATIVE_OPENING = "Det roliga i detta klipp är"
"""How every narrative in the owner's voice begins."""

NARRATIVE_TEMPLATE = "Det roliga i detta klipp är {mechanism}. {summary} Det fungerar för att {why_it_works}."
"""The owner's narrative form: mechanism first, then what happens, then why it works."""


@dataclass(frozen=True, slots=True)
class Prompt:
    """A user prompt (and optional system instruction), versioned by the hash of its text."""

    text: str
    system_instruction: str | None = None

    @property
    def version(self) -> str:
        """``p-`` plus 12 hex digits of the sha256 of the prompt's text and system instruction."""
        return _version(self.text, self.system_instruction)


@functools.lru_cache(maxsize=256)  # asked on every analysis and cache lookup; hashing each time showed in profiles
def _version(text: str, system_instruction: str | None) -> str:
    return "p-" + short_hash({"text": text, "system": system_instruction})


DEFAULT_PROMPT = Prompt(SEED_PROMPT_TEXT)
"""The seed's prompt; used for tuning and, identically, for analysis."""

RECORD_EXTRACTION_PROMPT = Prompt(
    "Här är en analys av ett kort videoklipp. Fyll i den strukturerade posten utifrån analysen: "
    "summary (vad som händer), mechanism (humormekanismen i 5–10 ord), why_it_works, audience, "
    "category (comedy|wholesome|relatable|clever|chaotic), quality (weak|average|good|exceptional) "
    "och replicable (true/false). Hitta inte på något som inte står i analysen.\n\nAnalys:\n"
)
"""Second stage of the two-stage mode: a base model turns the tuned model's narrative into a record."""


def _sentence(text: str) -> str:
    return text.strip().rstrip(".").strip()


def render_narrative(record: HumorRecord) -> str:
    """Write a record as a narrative in the owner's form (used for fakes and for record-only corrections)."""
    why = _sentence(record.why_it_works)
    return NARRATIVE_TEMPLATE.format(
        mechanism=_sentence(record.mechanism[:1].lower() + record.mechanism[1:]),
        summary=_sentence(record.summary) + ".",
        why_it_works=why[:1].lower() + why[1:],
    )
