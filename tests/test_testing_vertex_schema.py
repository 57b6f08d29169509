"""The schema oracle itself: strict validation against the Vertex AI REST discovery documents."""

from __future__ import annotations

from typing import Any

import pytest

from humortune.testing.vertex_schema import VertexSchemaError, _schemas, message_for, schema_names, validate


def _tuning_job(**hyper: Any) -> dict[str, Any]:
    return {
        "baseModel": "gemini-2.5-flash",
        "supervisedTuningSpec": {
            "trainingDatasetUri": "gs://b/train.jsonl",
            "hyperParameters": {"epochCount": "3", "adapterSize": "ADAPTER_SIZE_FOUR", **hyper},
        },
        "labels": {"run": "r1"},
    }


def test_both_documents_are_loaded_with_the_tuning_enums() -> None:
    for prefix, version in (("GoogleCloudAiplatformV1beta1", "v1beta1"), ("GoogleCloudAiplatformV1", "v1")):
        names = schema_names(version)
        assert f"{prefix}TuningJob" in names and f"{prefix}GenerateContentRequest" in names
        assert "GoogleProtobufEmpty" in names


def test_a_valid_tuning_job_passes() -> None:
    validate("TuningJob", _tuning_job())


def test_unknown_nested_field_is_rejected_with_its_path() -> None:
    with pytest.raises(VertexSchemaError) as info:
        validate("TuningJob", _tuning_job(epochCounts="3"))
    text = str(info.value)
    assert "TuningJob.supervisedTuningSpec.hyperParameters.epochCounts: unknown field" in text
    assert "SupervisedHyperParameters" in text and "epochCount" in text  # names the message and what is known
    assert "v1beta1:" in text and "v1:" in text  # both documents were tried


def test_bad_enum_value_is_rejected() -> None:
    with pytest.raises(VertexSchemaError, match=r"adapterSize: 'ADAPTER_SIZE_THREE' is not one of .*ADAPTER_SIZE_FOUR"):
        validate("TuningJob", _tuning_job(adapterSize="ADAPTER_SIZE_THREE"))


def test_enums_inside_arrays_of_refs_are_checked() -> None:
    good = {"contents": [{"role": "user", "parts": [{"text": "hej"}]}], "generationConfig": {}}
    good["generationConfig"] = {"responseModalities": ["TEXT"], "mediaResolution": "MEDIA_RESOLUTION_LOW"}
    validate("GenerateContentRequest", good)
    good["generationConfig"]["responseModalities"] = ["SMELL"]
    with pytest.raises(VertexSchemaError, match=r"responseModalities\[0\]: 'SMELL' is not one of"):
        validate("GenerateContentRequest", good)


def test_nested_refs_are_followed_into_arrays() -> None:
    body = {"contents": [{"role": "user", "parts": [{"fileData": {"fileUri": "gs://b/v.mp4", "mimeTyp": "x"}}]}]}
    with pytest.raises(VertexSchemaError, match=r"contents\[0\]\.parts\[0\]\.fileData\.mimeTyp: unknown field"):
        validate("GenerateContentRequest", body)


def test_map_values_are_checked_and_keys_are_free() -> None:
    validate("TuningJob", {**_tuning_job(), "labels": {"any-key": "v", "other": "w"}})
    with pytest.raises(VertexSchemaError, match=r"labels\['run'\]: expected a string, got 3"):
        validate("TuningJob", {**_tuning_job(), "labels": {"run": 3}})


def test_recursive_map_of_refs_response_schema() -> None:
    schema = {"type": "OBJECT", "properties": {"verdict": {"type": "STRING", "enum": ["PASS", "FAIL"]}}}
    validate("GenerateContentRequest", {"generationConfig": {"responseSchema": schema}})
    schema["properties"]["verdict"]["type"] = "WORD"
    with pytest.raises(VertexSchemaError, match=r"responseSchema\.properties\['verdict'\]\.type: 'WORD'"):
        validate("GenerateContentRequest", {"generationConfig": {"responseSchema": schema}})


@pytest.mark.parametrize("value", ["3", 3, "-2"])
def test_int64_is_an_integer_or_an_integer_string(value: Any) -> None:
    validate("TuningJob", _tuning_job(epochCount=value))


@pytest.mark.parametrize("value", ["three", 3.5, True, [3]])
def test_int64_rejects_what_is_not_an_integer(value: Any) -> None:
    with pytest.raises(VertexSchemaError, match="epochCount: expected an int64"):
        validate("TuningJob", _tuning_job(epochCount=value))


def test_scalar_types_are_checked() -> None:
    with pytest.raises(VertexSchemaError, match=r"learningRateMultiplier: expected a number"):
        validate("TuningJob", _tuning_job(learningRateMultiplier="fast"))
    with pytest.raises(VertexSchemaError, match=r"generationConfig\.candidateCount: expected an integer"):
        validate("GenerateContentRequest", {"generationConfig": {"candidateCount": "two"}})
    with pytest.raises(VertexSchemaError, match=r"contents: expected an array"):
        validate("GenerateContentRequest", {"contents": {"role": "user"}})


def test_formats_bytes_duration_and_timestamps() -> None:
    blob = {"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "aGVq"}}]}]}
    validate("GenerateContentRequest", blob)
    blob["contents"][0]["parts"][0]["inlineData"]["data"] = "not base64!"
    with pytest.raises(VertexSchemaError, match="expected base64 bytes"):
        validate("GenerateContentRequest", blob)
    job = {"name": "projects/p/locations/l/tuningJobs/1", "createTime": "2026-12-01T10:00:00.5Z"}
    validate("TuningJob", job, versions=("v1beta1",))
    with pytest.raises(VertexSchemaError, match="createTime: expected an RFC 3339 timestamp"):
        validate("TuningJob", {**job, "createTime": "yesterday"})
    video = {"contents": [{"parts": [{"videoMetadata": {"startOffset": "1.5s"}}]}]}
    validate("GenerateContentRequest", video)
    video["contents"][0]["parts"][0]["videoMetadata"]["startOffset"] = "90 seconds"
    with pytest.raises(VertexSchemaError, match="startOffset: expected a duration"):
        validate("GenerateContentRequest", video)


def test_proto_field_names_and_null_are_accepted_as_protobuf_json_does() -> None:
    validate("TuningJob", {"base_model": "gemini-2.5-flash", "description": None})
    with pytest.raises(VertexSchemaError, match="base_modl: unknown field"):
        validate("TuningJob", {"base_modl": "gemini-2.5-flash"})


def test_empty_and_unknown_messages() -> None:
    validate("Empty", {})
    with pytest.raises(VertexSchemaError, match=r"Empty\.x: unknown field"):
        validate("Empty", {"x": 1})
    with pytest.raises(VertexSchemaError, match="v1beta1 has no NoSuchMessage"):
        validate("NoSuchMessage", {})


def test_routes_name_the_messages() -> None:
    assert message_for("POST", "/v1beta1/projects/p/locations/l/tuningJobs", response=False) == "TuningJob"
    assert message_for("GET", "/v1/projects/p/locations/l/tuningJobs", response=True) == "ListTuningJobsResponse"
    assert message_for("GET", "/v1/projects/p/locations/l/tuningJobs/1", response=False) is None


def test_documents_are_parsed_once() -> None:
    validate("TuningJob", _tuning_job())  # warm
    before = _schemas.cache_info()
    for _ in range(20):
        validate("TuningJob", _tuning_job())
    after = _schemas.cache_info()
    assert after.misses == before.misses and after.hits > before.hits  # ~5 MB of JSON, parsed once per version
