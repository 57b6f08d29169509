"""Synthetic Swedish vocabulary for offline demos and test worlds (no owner data): the example that evaluates
models offline and the test rigs draw their made-up clips from the same lists."""

from __future__ import annotations

import random

from humortune.schema import Category, HumorRecord, Quality

__all__ = [
    "ACTIONS",
    "AUDIENCES",
    "GENERIC",
    "MECHANISMS",
    "NICHES",
    "PEOPLE",
    "TWISTS",
    "WHYS",
    "model_answer",
    "owner_correction",
]

MECHANISMS = [
    "en oväntad vändning i sista sekunden",
    "en överdriven reaktion på en liten vardaglig motgång",
    "igenkänningen i en pinsam social tystnad",
    "ett missförstånd som eskalerar mellan två grannar",
    "kontrasten mellan förväntan och verklighet",
    "en hund som beter sig precis som en människa",
    "perfekt timing i en fysisk vurpa",
    "självironi om att misslyckas med en trend",
]
WHYS = [
    "alla har varit med om samma sak någon gång",
    "tittaren hinner bygga upp en förväntan som sedan bryts",
    "det är lätt att känna igen sig i den skamsna blicken",
    "överdriften gör något banalt till något episkt",
    "tajmingen är så exakt att det känns regisserat",
]
PEOPLE = ["En pappa", "En kassörska", "Två kompisar", "En mormor", "En student", "En kock", "En hundägare"]
ACTIONS = [
    "försöker baka en tårta",
    "ska parkera på en trång gata",
    "filmar en dansutmaning",
    "bär hem alla matkassar på en gång",
    "ska imponera på en dejt",
    "lagar en trasig cykel",
]
TWISTS = [
    "allt rasar i sista stund",
    "katten tar över hela scenen",
    "någon i bakgrunden stjäl uppmärksamheten",
    "det slutar precis tvärtom",
    "de ger upp och skrattar åt sig själva",
]
AUDIENCES = ["småbarnsföräldrar", "unga vuxna på TikTok", "hundälskare", "alla som jobbar i butik", "studenter"]
NICHES = ["restaurant", "pets", "family", "fitness", "retail"]
GENERIC = [
    "Videon är rolig och underhållande. Folk gillar sådana här klipp.",
    "Det här klippet är humoristiskt eftersom det är oväntat och relaterbart.",
    "En rolig video som många kommer att känna igen sig i.",
]


def owner_correction(rng: random.Random) -> tuple[str, HumorRecord]:
    """A made-up owner correction: the Swedish narrative and its record."""
    mechanism = rng.choice(MECHANISMS)
    summary = f"{rng.choice(PEOPLE)} {rng.choice(ACTIONS)} men {rng.choice(TWISTS)}."
    why = rng.choice(WHYS)
    record = HumorRecord(
        summary=summary,
        mechanism=mechanism,
        why_it_works=why.capitalize() + ".",
        audience=rng.choice(AUDIENCES),
        category=rng.choice(list(Category)),
        quality=rng.choice(list(Quality)),
        replicable=rng.random() < 0.6,
    )
    return f"Det roliga i detta klipp är {mechanism}. {summary} Det fungerar för att {why}.", record


def model_answer(rng: random.Random, owner: HumorRecord, quality: float) -> tuple[str, HumorRecord]:
    """A made-up model answer that agrees with ``owner`` field by field with probability ``quality``."""
    good = rng.random() < quality
    mechanism = owner.mechanism if good else rng.choice([m for m in MECHANISMS if m != owner.mechanism])
    why = owner.why_it_works.rstrip(".").lower() if good else rng.choice(WHYS)
    summary = owner.summary if rng.random() < quality else f"{rng.choice(PEOPLE)} {rng.choice(ACTIONS)}."
    record = HumorRecord(
        summary=summary,
        mechanism=mechanism,
        why_it_works=why.capitalize() + ".",
        audience=owner.audience if rng.random() < quality else rng.choice(AUDIENCES),
        category=owner.category if rng.random() < quality else rng.choice(list(Category)),
        quality=owner.quality if rng.random() < quality else rng.choice(list(Quality)),
        replicable=owner.replicable if rng.random() < quality else not owner.replicable,
    )
    if good:
        return f"Det roliga i detta klipp är {mechanism}. {summary} Det fungerar för att {why}.", record
    return f"Klippet bygger på {mechanism}. {summary} Många delar det eftersom {why}.", record
