"""Narrative/record parsing and the consistency check, on realistic Swedish model outputs."""

from __future__ import annotations

import json

import pytest

from humortune.analyzer.output import (
    clean_narrative,
    consistency_warnings,
    narrative_warnings,
    parse_joint,
    record_extraction_text,
    record_response_schema,
    split_joint,
)
from humortune.errors import RecordParseError
from humortune.prompts import RECORD_EXTRACTION_PROMPT
from humortune.schema import Category, HumorRecord, Quality
from tests.conftest import SAMPLE_BATTERY

NARRATIVE = (
    "Det roliga i detta klipp är att kocken låtsas vara på en matlagningstävling fast hen bara steker ett ägg. "
    "Hen kommenterar varje rörelse med sportkommentatorns allvar, och kontrasten mellan dramatiken och den "
    "banala uppgiften bär hela klippet. Det fungerar för att alla känner igen tv-formatet och överdriften gör "
    "vardagen episk."
)
RECORD = {
    "summary": "En kock steker ett ägg men kommenterar det som en sportfinal.",
    "mechanism": "överdriven dramatik kring en helt banal vardagsuppgift",
    "why_it_works": "Tittaren känner igen sportkommenterandet och kontrasten mot ett stekt ägg blir absurd.",
    "audience": "Matintresserade och alla som sett matlagningstävlingar",
    "category": "comedy",
    "quality": "good",
    "replicable": True,
}


def _record(**changes: object) -> HumorRecord:
    return HumorRecord.from_mapping({**RECORD, **changes})


def test_joint_answer_with_fenced_swedish_record() -> None:
    swedish_keys = {
        "sammanfattning": RECORD["summary"],
        "mekanism": RECORD["mechanism"],
        "varför det fungerar": RECORD["why_it_works"],
        "målgrupp": RECORD["audience"],
        "kategori": "Komedi",
        "kvalitet": "Bra",
        "replikerbar": "ja",
    }
    answer = f"{NARRATIVE}\n\n```json\n{json.dumps(swedish_keys, ensure_ascii=False, indent=2)}\n```\n"
    narrative, record = parse_joint(answer)
    assert narrative == NARRATIVE
    assert record.category is Category.COMEDY
    assert record.quality is Quality.GOOD
    assert record.replicable is True
    assert record.mechanism == RECORD["mechanism"]


def test_joint_answer_with_bare_json_after_the_narrative() -> None:
    answer = NARRATIVE + "\n" + json.dumps(RECORD, ensure_ascii=False)
    narrative, block = split_joint(answer)
    assert narrative == NARRATIVE
    assert block is not None and json.loads(block)["category"] == "comedy"


def test_unterminated_fence_still_splits() -> None:
    narrative, block = split_joint(NARRATIVE + '\n```json\n{"summary": "x"')
    assert narrative == NARRATIVE
    assert block == '{"summary": "x"'


def test_narrative_only_answer_has_no_block() -> None:
    assert split_joint("  " + NARRATIVE + "\n") == (NARRATIVE, None)


def test_malformed_json_in_joint_mode_names_the_problem() -> None:
    with pytest.raises(RecordParseError, match="malformed"):
        parse_joint(NARRATIVE + '\n```json\n{"summary": "En kock", "mechanism": }\n```')


def test_missing_block_in_joint_mode() -> None:
    with pytest.raises(RecordParseError, match="no JSON record"):
        parse_joint(NARRATIVE)


def test_unknown_category_names_the_field() -> None:
    bad = {**RECORD, "category": "satir"}
    with pytest.raises(RecordParseError) as info:
        parse_joint(f"{NARRATIVE}\n```json\n{json.dumps(bad)}\n```")
    assert info.value.field == "category"
    assert "satir" in str(info.value)


def test_clean_narrative_unwraps_a_fenced_answer() -> None:
    assert clean_narrative(f"```\n{NARRATIVE}\n```") == NARRATIVE
    assert clean_narrative(f"```text\n{NARRATIVE}\n```") == NARRATIVE


def test_narrative_warnings() -> None:
    assert narrative_warnings(NARRATIVE, expect_opening=True) == []
    assert narrative_warnings("Klippet visar en kock.", expect_opening=False) == []
    assert "does not open with" in narrative_warnings("Klippet visar en kock.", expect_opening=True)[0]
    assert narrative_warnings("  ", expect_opening=False) == ["the narrative is empty"]


def test_extraction_prompt_is_the_instruction_then_the_narrative() -> None:
    text = record_extraction_text("  " + NARRATIVE + "\n")
    assert text == RECORD_EXTRACTION_PROMPT.text + NARRATIVE


def test_response_schema_is_vertex_openapi_with_enums() -> None:
    schema = record_response_schema()
    assert schema["type"] == "OBJECT"
    assert schema["required"] == list(HumorRecord.model_fields)
    assert schema["properties"]["category"]["enum"] == [c.value for c in Category]
    assert schema["properties"]["replicable"]["type"] == "BOOLEAN"
    from humortune.testing.vertex_schema import validate

    validate("GenerateContentRequest", {"generationConfig": {"responseSchema": schema}}, versions=("v1beta1",))


# -- consistency ----------------------------------------------------------------------------------------


def test_consistent_record_passes() -> None:
    assert consistency_warnings(NARRATIVE, _record()) == []


def test_owner_corrections_are_all_self_consistent() -> None:
    """The owner's own narratives and records never trip the check (no false positives on real data)."""
    battery = json.loads(SAMPLE_BATTERY.read_text("utf-8"))["examples"]
    with_records = [e for e in battery if e.get("record")]
    assert len(with_records) >= 5
    for example in with_records:
        record = HumorRecord.from_mapping(example["record"])
        assert consistency_warnings(example["human_said"], record) == [], example["id"]


def test_mechanism_absent_from_the_narrative_is_flagged() -> None:
    record = _record(mechanism="hunden väljer fjärilen framför bollen")
    warnings = consistency_warnings(NARRATIVE, record)
    assert len(warnings) == 1
    assert "never appears in the narrative" in warnings[0]


def test_mechanism_matched_through_swedish_inflection_and_compounds() -> None:
    narrative = "Det roliga i detta klipp är att uppgiften är banal men dramatiken enorm."
    assert consistency_warnings(narrative, _record(mechanism="dramatisk vardagsuppgift görs banal")) == []


def test_category_contradicting_obvious_cues_is_flagged() -> None:
    narrative = (
        "Det roliga i detta klipp är kaoset när kattungen trasslar in sig i garnet, och röran eskalerar "
        "tills allt är kaotiskt, medan katten är lugn."
    )
    record = _record(mechanism="kaos som eskalerar medan katten är lugn", category="wholesome")
    warnings = consistency_warnings(narrative, record)
    assert any("category 'wholesome'" in w and "'chaotic'" in w for w in warnings)
    assert consistency_warnings(narrative, _record(mechanism="kaos som eskalerar", category="chaotic")) == []


def test_opening_phrase_is_not_a_comedy_cue() -> None:
    narrative = "Det roliga i detta klipp är en gullig och rörande hund som söker sin ägare."
    record = _record(mechanism="gullig hund söker sin ägare", category="wholesome")
    assert consistency_warnings(narrative, record) == []


def test_quality_and_replicability_contradictions() -> None:
    weak = NARRATIVE + " Tyvärr faller poängen platt och klippet är inte särskilt roligt."
    weak = weak.replace("faller poängen platt", "faller platt")
    warnings = consistency_warnings(weak, _record(quality="exceptional"))
    assert any("calls the clip weak" in w for w in warnings)
    hard = NARRATIVE + " Det går inte att återskapa utan just den kocken."
    assert any("hard to copy" in w for w in consistency_warnings(hard, _record(replicable=True)))
    assert not any("hard to copy" in w for w in consistency_warnings(hard, _record(replicable=False)))
