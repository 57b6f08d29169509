"""Prompts are versioned by the hash of their text; the narrative form is the owner's."""

from __future__ import annotations

from humortune.prompts import DEFAULT_PROMPT, NARRATIVE_OPENING, Prompt, render_narrative
from humortune.schema import HumorRecord


def test_seed_prompt_is_the_default() -> None:
    assert DEFAULT_PROMPT.text == (
        "Analysera denna video. Förklara vad som händer och varför det är roligt eller effektivt. Var specifik."
    )
    assert DEFAULT_PROMPT.system_instruction is None


def test_version_is_a_hash_of_the_text() -> None:
    assert DEFAULT_PROMPT.version == Prompt(DEFAULT_PROMPT.text).version
    assert DEFAULT_PROMPT.version.startswith("p-") and len(DEFAULT_PROMPT.version) == 14
    assert Prompt(DEFAULT_PROMPT.text + " ").version != DEFAULT_PROMPT.version
    assert Prompt(DEFAULT_PROMPT.text, system_instruction="Svara kort.").version != DEFAULT_PROMPT.version


def test_render_narrative_follows_the_template() -> None:
    record = HumorRecord(
        summary="En kock steker ett ägg som om det vore en final.",
        mechanism="Överdriven dramatik kring en banal uppgift",
        why_it_works="Kontrasten är absurd.",
        audience="alla",
        category="comedy",  # type: ignore[arg-type]
        quality="good",  # type: ignore[arg-type]
        replicable=True,
    )
    text = render_narrative(record)
    assert text == (
        "Det roliga i detta klipp är överdriven dramatik kring en banal uppgift. En kock steker ett ägg som om "
        "det vore en final. Det fungerar för att kontrasten är absurd."
    )
    assert text.startswith(NARRATIVE_OPENING)
