"""HumorRecord parsing of what models really return, and the other schema models."""

from __future__ import annotations

import pytest

from humortune.errors import RecordParseError
from humortune.schema import Category, Correction, HumorRecord, Quality, VideoAsset, extract_json_object

VALID_FIELDS = (
    '"summary": "En kock steker ett ägg som om det vore en final.", '
    '"mechanism": "överdriven dramatik kring en banal vardagsuppgift", '
    '"why_it_works": "Kontrasten mellan allvar och trivialitet.", '
    '"audience": "Matintresserade"'
)


@pytest.mark.parametrize(
    ("text", "category", "quality", "replicable"),
    [
        # 1. bare JSON, English enums
        (
            "{" + VALID_FIELDS + ', "category": "comedy", "quality": "good", "replicable": true}',
            "comedy",
            "good",
            True,
        ),
        # 2. ```json fence with prose around it
        (
            "Här är analysen:\n```json\n{"
            + VALID_FIELDS
            + ', "category": "clever", "quality": "exceptional", "replicable": false}\n```\nHoppas det hjälper!',
            "clever",
            "exceptional",
            False,
        ),
        # 3. Swedish enum spellings in mixed case
        (
            "{" + VALID_FIELDS + ', "category": "Komedi", "quality": "Bra", "replicable": "ja"}',
            "comedy",
            "good",
            True,
        ),
        # 4. Swedish field names
        (
            '{"sammanfattning": "x", "mekanism": "ett ord för mycket här och där", "varför_det_fungerar": "y",'
            ' "målgrupp": "z", "kategori": "KAOTISK", "kvalitet": "svag", "replikerbar": "nej"}',
            "chaotic",
            "weak",
            False,
        ),
        # 5. fence without a language tag, upper-case English enums
        (
            "```\n{" + VALID_FIELDS + ', "category": "WHOLESOME", "quality": "Average", "replicable": "Yes"}\n```',
            "wholesome",
            "average",
            True,
        ),
        # 6. prose before an inline object, and a stray brace in the prose
        (
            "Svar {ej json} följer: {" + VALID_FIELDS + ', "category": "igenkännbar", "quality": "utmärkt",'
            ' "replicable": "sant"}',
            "relatable",
            "exceptional",
            True,
        ),
        # 7. keys with odd casing and spaces
        (
            '{"Summary": "x", "Mechanism": "kort men tydlig mekanism här", "Why It Works": "y", "AUDIENCE": "z",'
            ' "Category": "smart", "Quality": "medel", "Replicable": false}',
            "clever",
            "average",
            False,
        ),
    ],
)
def test_parse_realistic_outputs(text: str, category: str, quality: str, replicable: bool) -> None:
    record = HumorRecord.parse(text)
    assert record.category is Category(category)
    assert record.quality is Quality(quality)
    assert record.replicable is replicable


@pytest.mark.parametrize(
    ("text", "field", "fragment"),
    [
        # 8. unknown category
        (
            "{" + VALID_FIELDS + ', "category": "satire", "quality": "good", "replicable": true}',
            "category",
            "satire",
        ),
        # 9. missing field
        ("{" + VALID_FIELDS + ', "category": "comedy", "replicable": true}', "quality", "missing"),
        # 10. replicable not a yes/no
        (
            "{" + VALID_FIELDS + ', "category": "comedy", "quality": "good", "replicable": "kanske"}',
            "replicable",
            "kanske",
        ),
        # 11. unknown field
        (
            "{" + VALID_FIELDS + ', "category": "comedy", "quality": "good", "replicable": true, "score": 9}',
            "score",
            "unknown field",
        ),
        # 12. mechanism is a paragraph
        (
            '{"summary": "x", "mechanism": "' + " ".join(["ord"] * 30) + '", "why_it_works": "y", "audience": "z",'
            ' "category": "comedy", "quality": "good", "replicable": true}',
            "mechanism",
            "short phrase",
        ),
        # 13. empty summary
        (
            '{"summary": "  ", "mechanism": "en mekanism med några ord", "why_it_works": "y", "audience": "z",'
            ' "category": "comedy", "quality": "good", "replicable": true}',
            "summary",
            "at least 1",
        ),
    ],
)
def test_parse_invalid_outputs_name_the_field(text: str, field: str, fragment: str) -> None:
    with pytest.raises(RecordParseError) as excinfo:
        HumorRecord.parse(text)
    assert excinfo.value.field == field
    assert fragment in str(excinfo.value)


def test_parse_without_json_says_so() -> None:
    with pytest.raises(RecordParseError, match="no JSON object"):
        HumorRecord.parse("Det roliga i detta klipp är att katten faller.")


def test_truncated_json_is_not_a_record() -> None:
    with pytest.raises(RecordParseError, match="no JSON object"):
        HumorRecord.parse('```json\n{"summary": "x", "mechanism": "halv\n```')


def test_soft_problems_flag_mechanism_length() -> None:
    record = HumorRecord.parse(
        '{"summary": "x", "mechanism": "kontrast", "why_it_works": "y", "audience": "z",'
        ' "category": "comedy", "quality": "good", "replicable": true}'
    )
    assert record.soft_problems() == ["mechanism has 1 words; the house style is 5–10"]
    good = record.model_copy(update={"mechanism": "fem ord i en mekanism"})
    assert good.soft_problems() == []


def test_extract_json_prefers_fenced_block() -> None:
    text = 'Inledning {"a": 1}\n```json\n{"b": 2}\n```'
    assert extract_json_object(text) == {"b": 2}


def test_correction_keeps_extra_fields() -> None:
    c = Correction(id="x", video_url="https://www.tiktok.com/@a/video/1", human_said="h", question="Q7", score=3)
    assert c.extra == {"question": "Q7", "score": 3}
    assert Correction.model_validate(c.model_dump()).extra == {"question": "Q7", "score": 3}


def test_video_asset_requires_a_sha256() -> None:
    with pytest.raises(ValueError, match="sha256"):
        VideoAsset(
            sha256="nope",
            source_id="1",
            size_bytes=1,
            duration_s=1,
            width=1,
            height=1,
            codec="h264",
            fps=1,
            has_audio=False,
            uri="file:///x",
        )
