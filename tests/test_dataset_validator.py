"""The validator: one test per rule, each asserting the text a user sees; external JSONL; the 10% rule."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest

from humortune.dataset import RULES, ValidationReport, Validator, VideoFacts, validate_jsonl
from humortune.errors import DatasetValidationError
from tests._dataset_support import OK_FACTS, PROMPT, row, texts


def check(
    train: list[Any],
    validation: list[Any] | None = None,
    *,
    facts: Any = None,
    for_vertex: bool = True,
    base_model: str = "gemini-2.5-flash",
) -> ValidationReport:
    validator = Validator(
        base_model=base_model, for_vertex=for_vertex, facts=facts if facts is not None else lambda _u: OK_FACTS
    )
    splits = {"train": train}
    if validation is not None:
        splits["validation"] = validation
    return validator.validate(splits)


def many(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [row(i) for i in range(start, start + n)]


def test_a_good_dataset_has_no_errors() -> None:
    report = check(many(120), many(20, 1000))
    assert report.ok, [str(i) for i in report.issues]
    assert report.warnings == []
    assert report.rows == {"train": 120, "validation": 20}


def test_rule_json(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes((json.dumps(row(1)) + "\n{not json\n\n" + '"a string"\n').encode() + b"\xff\xfe\n")
    report = validate_jsonl({"train": path}, facts=lambda _u: OK_FACTS)
    assert texts(report, "json") == [
        "train.jsonl:2: error [json] not valid JSON: Expecting property name enclosed in double quotes at column 2"
        " — each line must be one JSON object",
        "train.jsonl:3: error [json] empty line — each line must be one JSON object",
        "train.jsonl:4: error [json] expected a JSON object, got str",
        "train.jsonl:5: error [json] not UTF-8 text (byte 0) — each line must be one JSON object",
    ]


def test_rule_top_level_keys_rejects_the_seed_response_format(tmp_path: Path) -> None:
    seed_style = {
        "contents": [
            {
                "role": "user",
                "parts": [{"fileData": {"mimeType": "video/mp4", "fileUri": "gs://b/v.mp4"}}, {"text": PROMPT}],
            }
        ],
        "response": "Det roliga i detta klipp är …",
    }
    path = tmp_path / "seed.jsonl"
    path.write_text(json.dumps(seed_style, ensure_ascii=False) + "\n", encoding="utf-8")
    report = validate_jsonl({"train": path}, facts=lambda _u: OK_FACTS)
    assert texts(report, "top-level-keys") == [
        "seed.jsonl:1: error [top-level-keys] top-level 'response' is not valid: there is no top-level 'response' "
        'field in Gemini tuning rows — put the answer in the last `contents` item with role "model"'
    ]
    assert texts(report, "last-turn-model") == [
        'seed.jsonl:1: error [last-turn-model] the last turn must be the model\'s answer (role "model") '
        "— end every row with the target text in a model turn"
    ]
    other = check([dict(row(1), messages=[]), dict(row(2), extra=1)])
    assert "is the OpenAI chat format" in texts(other, "top-level-keys")[0]
    assert "unknown top-level key 'extra'" in texts(other, "top-level-keys")[1]


def test_rule_contents() -> None:
    report = check([{"generationConfig": {"mediaResolution": "MEDIA_RESOLUTION_LOW"}}, {"contents": [{"parts": []}]}])
    assert texts(report, "contents") == [
        "train.jsonl:1: error [contents] missing or empty `contents` — each row needs a user turn and a model turn",
        "train.jsonl:2: error [contents] contents[0] must be an object with `role` and `parts`",
    ]


def test_rule_roles() -> None:
    assistant = row(1)
    assistant["contents"][1]["role"] = "assistant"
    repeated = row(2)
    repeated["contents"].insert(1, {"role": "user", "parts": [{"text": "mer"}]})
    system = row(3)
    system["contents"].insert(0, {"role": "system", "parts": [{"text": "x"}]})
    report = check([assistant, repeated, system])
    assert texts(report, "roles") == [
        "train.jsonl:1: error [roles] contents[1] has role 'assistant'; only user and model are allowed "
        "— use user or model",
        "train.jsonl:2: error [roles] contents[1] repeats role 'user'; turns must alternate user → model",
        "train.jsonl:3: error [roles] contents[0] has role 'system'; only user and model are allowed "
        "— put system text in `systemInstruction`",
    ]


def test_rule_last_turn_model() -> None:
    r = row(1)
    r["contents"].append({"role": "user", "parts": [{"text": "och?"}]})
    assert texts(check([r]), "last-turn-model") == [
        'train.jsonl:1: error [last-turn-model] the last turn must be the model\'s answer (role "model") '
        "— end every row with the target text in a model turn"
    ]


def test_rule_parts() -> None:
    empty = row(1, text=" ")
    empty["contents"][1]["parts"][0]["text"] = " "
    both = row(2)
    both["contents"][0]["parts"][1]["fileData"] = {"mimeType": "video/mp4", "fileUri": "gs://b/x.mp4"}
    typo = row(3)
    typo["contents"][0]["parts"][0]["fileData"]["fileUrl"] = "gs://b/3.mp4"
    inline = row(4)
    inline["contents"][0]["parts"][1] = {"inlineData": {"mimeType": "video/mp4", "data": "AAAA"}}
    offsets = row(5)
    offsets["contents"][0]["parts"][0]["videoMetadata"] = {"startOffset": "5 seconds"}
    report = check([empty, both, typo, inline, offsets])
    assert texts(report, "parts") == [
        "train.jsonl:1: error [parts] contents[1].parts[0] has empty or non-string text",
        "train.jsonl:2: error [parts] contents[0].parts[1] must hold exactly one of text / fileData, has "
        "['text', 'fileData']",
        "train.jsonl:3: error [parts] contents[0].parts[0].fileData must be exactly {mimeType, fileUri} (strings)",
        "train.jsonl:4: error [parts] contents[0].parts[1] uses inlineData — store the video and reference it with "
        "fileData (gs:// URI)",
        'train.jsonl:5: error [parts] contents[0].parts[0].videoMetadata offsets must be Duration strings like "5s" '
        'or "12.5s"',
    ]


def test_rule_one_video() -> None:
    two = row(1)
    two["contents"][0]["parts"].insert(1, {"fileData": {"mimeType": "video/mp4", "fileUri": "gs://b/other.mp4"}})
    none = row(2)
    none["contents"][0]["parts"].pop(0)
    assert texts(check([two, none]), "one-video") == [
        "train.jsonl:1: error [one-video] 2 videos in one example; Vertex allows 1 per example "
        "— split the example into one row per video",
        "train.jsonl:2: error [one-video] no video in this example; each example needs exactly one (fileData)",
    ]


def test_rule_mime_type() -> None:
    r = row(1)
    r["contents"][0]["parts"][0]["fileData"]["mimeType"] = "video/x-matroska"
    (text,) = texts(check([r]), "mime-type")
    assert text.startswith(
        "train.jsonl:1: error [mime-type] MIME type 'video/x-matroska' is not a supported video type "
        "— re-encode to MP4 (video/mp4) or use one of video/3gpp, video/avi"
    )


def test_rule_uri_scheme() -> None:
    local = [row(i, uri=f"file:///ws/storage/training/videos/{i}.mp4") for i in range(3)]
    assert texts(check(local[:1]), "uri-scheme") == [
        "train.jsonl:1: error [uri-scheme] file:///ws/storage/training/videos/0.mp4 is a local file; Vertex reads "
        'gs:// URIs only — set storage = "gs://bucket/prefix" and run `humortune ingest` and `humortune build` again'
    ]
    offline = check(local, for_vertex=False)
    assert offline.ok
    assert texts(offline, "uri-scheme", "warning") == [
        "dataset: warning [uri-scheme] local file:// videos: valid for offline use, not submittable to Vertex until "
        'stored in GCS (set storage = "gs://…" and rebuild) (3 row(s), first at train.jsonl:1)'
    ]
    assert texts(check([row(1, uri="s3://b/v.mp4")]), "uri-scheme") == [
        "train.jsonl:1: error [uri-scheme] unsupported URI 's3://b/v.mp4' — use gs://bucket/path.mp4"
    ]


def test_rule_video_exists() -> None:
    report = check([row(1), row(2)], facts={"gs://b/v/1.mp4": VideoFacts(exists=False)})
    assert texts(report, "video-exists") == [
        "train.jsonl:1: error [video-exists] video not found in storage: gs://b/v/1.mp4 "
        "— run `humortune ingest` (or fix the URI)"
    ]
    assert texts(report, "video-exists", "warning") == [
        "dataset: warning [video-exists] videos outside the configured storage were not checked "
        "(1 row(s), first at train.jsonl:2)"
    ]


def test_rule_video_size() -> None:
    big = VideoFacts(exists=True, size_bytes=150 * 1024 * 1024, duration_s=30.0)
    assert texts(check([row(1)], facts=lambda _u: big), "video-size") == [
        "train.jsonl:1: error [video-size] video is 150.0 MB; Vertex's limit is 100 MB "
        "— drop, downscale or split the clip"
    ]


def test_rule_video_duration_depends_on_media_resolution() -> None:
    six_minutes = VideoFacts(exists=True, size_bytes=1, duration_s=360.0)
    assert check([row(1, res="MEDIA_RESOLUTION_LOW")], facts=lambda _u: six_minutes).ok
    assert texts(check([row(1, res="MEDIA_RESOLUTION_MEDIUM")], facts=lambda _u: six_minutes), "video-duration") == [
        "train.jsonl:1: error [video-duration] clip is 6:00 long; at MEDIA_RESOLUTION_MEDIUM Vertex drops examples "
        "over 5:00 — trim the clip or use MEDIA_RESOLUTION_LOW (20 min)"
    ]
    long = VideoFacts(exists=True, size_bytes=1, duration_s=21 * 60)
    (text,) = texts(check([row(1)], facts=lambda _u: long), "video-duration")
    assert "clip is 21:00 long; at MEDIA_RESOLUTION_LOW Vertex drops examples over 20:00" in text
    segment = row(2, res="MEDIA_RESOLUTION_MEDIUM")
    segment["contents"][0]["parts"][0]["videoMetadata"] = {"startOffset": "60s", "endOffset": "120s"}
    assert check([segment], facts=lambda _u: six_minutes).ok  # the 60 s segment counts, not the clip
    outside = row(3)
    outside["contents"][0]["parts"][0]["videoMetadata"] = {"startOffset": "10s", "endOffset": "400s"}
    assert texts(check([outside], facts=lambda _u: six_minutes), "video-duration") == [
        "train.jsonl:1: error [video-duration] segment 10s–400s is empty or outside the clip (360s)"
    ]
    unknown = check([row(4)], facts=lambda _u: VideoFacts(exists=True))
    assert texts(unknown, "video-duration", "warning") == [
        "dataset: warning [video-duration] video durations unknown, not checked (1 row(s), first at train.jsonl:1)"
    ]


def test_rule_media_resolution() -> None:
    mixed = check([row(1), row(2, res="MEDIA_RESOLUTION_MEDIUM")], [row(3)])
    assert texts(mixed, "media-resolution") == [
        "dataset: error [media-resolution] mixed media resolutions: MEDIA_RESOLUTION_LOW in 2 row(s), "
        "MEDIA_RESOLUTION_MEDIUM in 1 row(s) — Vertex needs one mediaResolution for every train and validation "
        "row; rebuild with one"
    ]
    gemini3 = check([row(1), row(2, res="MEDIA_RESOLUTION_HIGH")], base_model="gemini-3.5-flash")
    assert texts(gemini3, "media-resolution", "warning") and not texts(gemini3, "media-resolution")
    per_part = row(3)
    per_part["contents"][0]["parts"][0]["mediaResolution"] = {"level": "MEDIA_RESOLUTION_HIGH"}
    assert texts(check([per_part]), "media-resolution") == [
        "train.jsonl:1: error [media-resolution] contents[0].parts[0] sets a per-part mediaResolution, which needs "
        "a Gemini 3 base model — use generationConfig.mediaResolution for the whole dataset"
    ]
    assert check([per_part], base_model="gemini-3.5-flash").ok
    typo = check([row(4, res="MEDIA_RESOLUTION_LOWEST")])
    assert texts(typo, "media-resolution")[0] == (
        "train.jsonl:1: error [media-resolution] unknown mediaResolution 'MEDIA_RESOLUTION_LOWEST' — use one of "
        "MEDIA_RESOLUTION_LOW, MEDIA_RESOLUTION_MEDIUM, MEDIA_RESOLUTION_HIGH"
    )


def test_rule_tokens_per_example() -> None:
    huge = row(1, text="å" * 600_000)  # 150,000–200,000 text tokens
    chars = 600_000 + len(PROMPT)
    low = 20 * 64 + 20 * 32 + math.ceil(chars / 4) + 8  # 20 s at LOW, audio, text, padding
    high = 20 * 66 + 20 * 32 + math.ceil(chars / 3) + 8
    assert texts(check([huge]), "tokens-per-example") == [
        f"train.jsonl:1: error [tokens-per-example] about {low:,}–{high:,} tokens; the limit is 131,072 per example "
        "— shorten the clip or lower the media resolution"
    ]
    borderline = row(2, text="a" * 500_000)  # low 125k + video, high 166k: only the high estimate is over
    report = check([borderline])
    assert report.ok
    assert texts(report, "tokens-per-example", "warning") == [
        "dataset: warning [tokens-per-example] examples may exceed 131,072 tokens at the high estimate "
        "(1 row(s), first at train.jsonl:1)"
    ]


def test_rule_file_size() -> None:
    validator = Validator(facts=lambda _u: OK_FACTS)
    validator.check_row(row(1), split="train", line=1)
    validator.check_file_size("train", int(1.5 * 1024**3))
    report = validator.finish()
    assert texts(report, "file-size") == [
        "train.jsonl: error [file-size] train.jsonl is 1.50 GB; the limit is 1 GB — split the corpus by niche or "
        "lower the example count"
    ]


def test_rule_example_count() -> None:
    assert texts(check(many(3), many(1, 100)), "example-count", "warning") == [
        "train.jsonl: warning [example-count] only 3 training examples; Google recommends 100–500 "
        "— add corrections; quality beats quantity"
    ]
    assert texts(check([], many(1)), "example-count") == [
        "train.jsonl: error [example-count] no training examples — ingest videos for the corrections "
        "(`humortune ingest`) and build again"
    ]


def test_rule_validation_size() -> None:
    assert texts(check(many(120)), "validation-size", "warning") == [
        "validation.jsonl: warning [validation-size] no validation set; Vertex strongly recommends one "
        "— build with a validation share, e.g. --split 0.8,0.2"
    ]
    train, validation = many(2000), many(1200, 10_000)
    assert texts(check(train, validation), "validation-size") == [
        "validation.jsonl: error [validation-size] 1,200 validation examples is more than 30% of 2,000 training "
        "examples — lower the validation share (Vertex caps it at 30% of train above 1000)"
    ]
    assert check(many(4000), validation).ok  # 1200 ≤ 30% of 4000
    assert check(train, many(900, 10_000)).ok  # at most 1000: no 30% cap


def test_rule_validation_size_absolute_cap() -> None:
    report = check(many(20_000), many(5001, 100_000))
    assert texts(report, "validation-size") == [
        "validation.jsonl: error [validation-size] 5,001 validation examples; the limit is 5,000 "
        "— lower the validation share"
    ]


def test_rule_split_leakage() -> None:
    report = check([row(1), row(2)], [row(1, text="Annan text om samma klipp.")])
    assert texts(report, "split-leakage") == [
        "dataset: error [split-leakage] video gs://b/v/1.mp4 is in train and validation "
        "— a clip's examples must all be in one split"
    ]


def test_rule_invalid_rows_ten_percent(tmp_path: Path) -> None:
    def broken(n: int) -> dict[str, Any]:
        r = row(n)
        r["contents"].pop()  # no model turn
        return r

    at_ten = [*many(18), broken(18), broken(19)]
    report = check(at_ten)
    assert texts(report, "invalid-rows") == [
        "dataset: error [invalid-rows] 2 of 20 rows (10.0%) are invalid; Vertex would drop them and fail the job "
        "above 10% — fix or remove every invalid row (see the errors above)"
    ]
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [*many(17), broken(17), broken(18), broken(19)]) + "\n")
    report = validate_jsonl({"train": path}, facts=lambda _u: OK_FACTS)
    assert not report.ok
    assert texts(report, "invalid-rows") == [
        "dataset: error [invalid-rows] 3 of 20 rows (15.0%) are invalid; above 10%: Vertex would fail the job "
        "before training — fix or remove every invalid row (see the errors above)"
    ]
    with pytest.raises(DatasetValidationError, match=r"validation error\(s\)") as info:
        report.raise_for_errors(item=str(path))
    assert any("invalid-rows" in p for p in info.value.problems)


def test_rule_total_video() -> None:
    twenty_minutes = VideoFacts(exists=True, size_bytes=1, duration_s=1200.0, has_audio=False)
    report = check(many(4), facts=lambda _u: twenty_minutes)
    assert report.ok
    assert texts(report, "total-video", "warning") == [
        "dataset: warning [total-video] 1.3 hours of video in train + validation; the seed cautions against more "
        "than 1 hour per job — the documented 1 h figure is an inference limit; check the job's cost and time"
    ]


def test_rule_duplicates() -> None:
    report = check([row(1), copy.deepcopy(row(1)), row(2)])
    assert texts(report, "duplicates", "warning") == [
        "dataset: warning [duplicates] identical rows (1 row(s), first at train.jsonl:2)"
    ]


def test_aggregated_warnings_count_every_row_and_name_the_first() -> None:
    report = check([row(1), row(2), copy.deepcopy(row(1)), copy.deepcopy(row(2)), copy.deepcopy(row(1))])
    assert texts(report, "duplicates", "warning") == [
        "dataset: warning [duplicates] identical rows (3 row(s), first at train.jsonl:3)"
    ]


def test_a_video_in_three_splits_is_one_leak_naming_all_three() -> None:
    validator = Validator(base_model="gemini-2.5-flash", facts=lambda _u: OK_FACTS)
    report = validator.validate(
        {"train": [row(1), row(2)], "validation": [row(1, text="B.")], "test": [row(1, text="C."), row(3)]}
    )
    assert texts(report, "split-leakage") == [
        "dataset: error [split-leakage] video gs://b/v/1.mp4 is in test and train and validation "
        "— a clip's examples must all be in one split"
    ]


def test_every_rule_has_a_test() -> None:
    # Each rule's user-visible text is asserted above through texts(report, "<rule>"[, "warning"]).
    source = Path(__file__).read_text("utf-8")
    untested = [r for r in RULES if f', "{r}")' not in source and f', "{r}", "warning")' not in source]
    assert untested == []
