"""Errors say what happened, what to do, and which item; they survive pickling."""

from __future__ import annotations

import pickle

from humortune import errors


def test_message_hint_item() -> None:
    err = errors.StorageError("no such object", hint="ingest it first", item="gs://b/x.mp4")
    assert str(err) == "gs://b/x.mp4: no such object — ingest it first"
    assert not err.transient and errors.TransientStorageError("x").transient


def test_every_layer_has_a_family() -> None:
    for name in [
        "ConfigError",
        "CorpusError",
        "SourceError",
        "StorageError",
        "DatasetError",
        "TuningError",
        "AnalysisError",
        "EvaluationError",
    ]:
        assert issubclass(getattr(errors, name), errors.HumortuneError)


def test_source_error_categories() -> None:
    assert errors.UnsupportedSourceError("x").category == "unsupported"
    assert errors.PermanentSourceError("x", category="private").category == "private"
    assert errors.TransientSourceError("x").transient


def test_battery_error_lists_problems() -> None:
    err = errors.BatteryError([f"item {i}: video_url: missing" for i in range(25)], source="b.json")
    assert "25 invalid item(s)" in str(err) and "item 19" in str(err) and "… and 5 more" in str(err)
    assert "item 20" not in str(err)


def test_pickle_round_trip_keeps_fields() -> None:
    err = errors.PermanentSourceError("removed", hint="drop it", item="https://t/1", category="removed")
    back = pickle.loads(pickle.dumps(err))
    assert (type(back), str(back), back.category) == (type(err), str(err), "removed")
    rp = pickle.loads(pickle.dumps(errors.RecordParseError("bad", field="quality")))
    assert rp.field == "quality"
