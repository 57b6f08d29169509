"""GCSStorage against the in-process emulator, plus unit tests of what the emulator does not enforce.

The emulator ignores ``if_generation_match`` (a second create-only upload silently overwrites), so the
put-if-absent, lost-response and retry logic is tested with a fake client that behaves like GCS does.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import google_crc32c
import pytest
import requests
from google.api_core import exceptions as api

from humortune.errors import ConfigError, StorageError, TransientStorageError
from humortune.storage.gcs import GCSStorage, is_transient
from tests.rigs.gcs_emulator import GCSEmulator


@pytest.fixture(scope="module")
def emulator() -> Iterator[GCSEmulator]:
    with GCSEmulator() as emu:
        yield emu


@pytest.fixture
def gcs(emulator: GCSEmulator) -> GCSStorage:
    client = emulator.client()
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    client.create_bucket(bucket)
    return GCSStorage(bucket, "/humortune/", client=client, backoff_s=0.0)


def _file(path: Path, data: bytes) -> tuple[Path, str]:
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


# -- against the emulator ----------------------------------------------------------------------------


def test_put_stat_read_list_roundtrip(gcs: GCSStorage, tmp_path: Path) -> None:
    path, sha = _file(tmp_path / "v.mp4", os.urandom(300_000))
    key = "training/videos/7301.mp4"
    assert gcs.put_file(key, path, sha256=sha, content_type="video/mp4") is True
    info = gcs.stat(key)
    assert info is not None
    assert (info.size, info.sha256, info.content_type) == (300_000, sha, "video/mp4")
    assert info.md5_b64 == base64.b64encode(hashlib.md5(path.read_bytes()).digest()).decode()
    assert gcs.read_bytes(key) == path.read_bytes()
    with gcs.open_read(key) as fh:
        assert fh.read(10) == path.read_bytes()[:10]
    assert gcs.exists(key) and not gcs.exists("training/videos/other.mp4")
    assert gcs.stat("training/videos/other.mp4") is None
    gcs.put_bytes("training/datasets/v1/train.jsonl", b'{"a": 1}\n', content_type="application/jsonl")
    assert [o.key for o in gcs.list("training/")] == ["training/datasets/v1/train.jsonl", key]
    assert [o.key for o in gcs.list("training/videos/")] == [key]
    assert gcs.uri(key) == f"gs://{gcs.bucket_name}/humortune/{key}"
    assert gcs.root_uri == f"gs://{gcs.bucket_name}/humortune"


def test_read_range(gcs: GCSStorage) -> None:
    data = bytes(range(256)) * 40
    gcs.put_bytes("training/videos/r.mp4", data)
    assert gcs.read_range("training/videos/r.mp4", 10, 19) == data[10:20]
    assert gcs.read_range("training/videos/r.mp4", len(data) - 5, len(data) + 100) == data[-5:]
    with pytest.raises(StorageError, match="no such object"):
        gcs.read_range("training/videos/none.mp4", 0, 9)


def test_large_file_goes_resumable_in_chunks(gcs: GCSStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from google.cloud.storage.blob import Blob

    kinds: list[tuple[str, int | None]] = []
    for kind in ("_do_multipart_upload", "_do_resumable_upload"):
        original = getattr(Blob, kind)

        def spy(self: Any, *args: Any, _original: Any = original, _kind: str = kind, **kw: Any) -> Any:
            kinds.append((_kind, self.chunk_size))
            return _original(self, *args, **kw)

        monkeypatch.setattr(Blob, kind, spy)
    data = os.urandom(9 * 1024 * 1024 + 123)  # over the 8 MiB multipart limit
    path, sha = _file(tmp_path / "big.mp4", data)
    gcs.chunk_size = 1024 * 1024
    assert gcs.put_file("training/videos/big.mp4", path, sha256=sha, content_type="video/mp4")
    small, small_sha = _file(tmp_path / "small.mp4", b"small")
    assert gcs.put_file("training/videos/small.mp4", small, sha256=small_sha)
    assert kinds == [("_do_resumable_upload", 1024 * 1024), ("_do_multipart_upload", 1024 * 1024)]
    info = gcs.stat("training/videos/big.mp4")
    assert info is not None and info.size == len(data) and info.sha256 == sha
    assert hashlib.sha256(gcs.read_bytes("training/videos/big.mp4")).hexdigest() == sha


def test_missing_object_and_missing_bucket(emulator: GCSEmulator) -> None:
    storage = GCSStorage("no-such-bucket", client=emulator.client(), backoff_s=0.0)
    with pytest.raises(StorageError) as info:
        storage.put_bytes("a.txt", b"x")
    assert "create the bucket" in (info.value.hint or "")
    with pytest.raises(StorageError, match="no such object"):
        storage.open_read("a.txt")


def test_emulator_gap_preconditions_are_not_enforced(gcs: GCSStorage) -> None:
    # Documents why put-if-absent is covered by the fake below: the emulator overwrites.
    gcs.put_bytes("k.txt", b"one")
    assert gcs.put_bytes("k.txt", b"two") is True
    assert gcs.read_bytes("k.txt") == b"two"


def test_from_uri() -> None:
    storage = GCSStorage.from_uri("gs://my-bucket/some/prefix/", client=object())
    assert (storage.bucket_name, storage.prefix) == ("my-bucket", "some/prefix/")
    assert storage.uri("training/videos/1.mp4") == "gs://my-bucket/some/prefix/training/videos/1.mp4"
    assert GCSStorage.from_uri("gs://b", client=object()).root_uri == "gs://b"
    with pytest.raises(ConfigError):
        GCSStorage.from_uri("s3://b/x")
    with pytest.raises(StorageError, match="invalid object key"):
        storage.uri("../x")


# -- the logic the emulator cannot test: a fake client that behaves like GCS -----------------------


class FakeBlob:
    def __init__(self, bucket: FakeBucket, name: str) -> None:
        self.bucket, self.name = bucket, name
        self.metadata: dict[str, str] | None = None
        self.content_type: str | None = None
        self.size: int | None = None
        self.crc32c: str | None = None
        self.md5_hash: str | None = None
        self.generation: int | None = None

    def upload_from_filename(self, filename: str, **kw: Any) -> None:
        self._upload(Path(filename).read_bytes(), **kw)

    def upload_from_string(self, data: bytes, **kw: Any) -> None:
        self._upload(data, **kw)

    def _upload(self, data: bytes, *, if_generation_match: int | None = None, retry: Any = "default", **_: Any) -> None:
        assert retry is None  # the library's own retries are off: one policy only
        self.bucket.calls.append(self.name)
        script = self.bucket.script
        action = script.pop(0) if script else None
        if isinstance(action, BaseException) and not getattr(action, "after_write", False):
            raise action
        if if_generation_match == 0 and self.name in self.bucket.objects:
            raise api.PreconditionFailed("At least one of the pre-conditions you specified did not hold.")
        self.size, self.generation = len(data), len(self.bucket.calls)
        self.crc32c = base64.b64encode(google_crc32c.Checksum(data).digest()).decode()
        if self.bucket.corrupt:
            self.crc32c = "AAAAAA=="
        self.bucket.objects[self.name] = (data, dict(self.metadata or {}), self)
        if isinstance(action, BaseException):  # written, but the answer is lost
            raise action

    def delete(self, **kw: Any) -> None:
        self.bucket.deleted.append((self.name, kw.get("if_generation_match")))
        self.bucket.objects.pop(self.name, None)


class FakeBucket:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, dict[str, str], FakeBlob]] = {}
        self.script: list[BaseException | None] = []
        self.calls: list[str] = []
        self.deleted: list[tuple[str, int | None]] = []
        self.corrupt = False

    def blob(self, name: str, chunk_size: int | None = None) -> FakeBlob:
        return FakeBlob(self, name)

    def get_blob(self, name: str, **_: Any) -> FakeBlob | None:
        if name not in self.objects:
            return None
        data, metadata, stored = self.objects[name]
        blob = FakeBlob(self, name)
        blob.size, blob.metadata, blob.crc32c = len(data), metadata, stored.crc32c
        return blob


class FakeClient:
    def __init__(self) -> None:
        self.the_bucket = FakeBucket()

    def bucket(self, name: str) -> FakeBucket:
        return self.the_bucket


@pytest.fixture
def fake() -> tuple[GCSStorage, FakeBucket]:
    client = FakeClient()
    return GCSStorage("bkt", "p", client=client, backoff_s=0.0, attempts=4), client.the_bucket


def _lost_answer() -> requests.ConnectionError:
    exc = requests.ConnectionError("Connection aborted: RemoteDisconnected")
    exc.after_write = True  # type: ignore[attr-defined]
    return exc


def test_precondition_failed_means_already_present(fake: tuple[GCSStorage, FakeBucket], tmp_path: Path) -> None:
    storage, bucket = fake
    first, sha1 = _file(tmp_path / "1", b"first")
    second, sha2 = _file(tmp_path / "2", b"second")
    assert storage.put_file("v.mp4", first, sha256=sha1) is True
    assert storage.put_file("v.mp4", second, sha256=sha2) is False
    assert bucket.objects["p/v.mp4"][0] == b"first"
    assert bucket.objects["p/v.mp4"][1] == {"sha256": sha1}


def test_transient_errors_are_retried_then_succeed(fake: tuple[GCSStorage, FakeBucket], tmp_path: Path) -> None:
    storage, bucket = fake
    path, sha = _file(tmp_path / "v", b"video")
    bucket.script = [api.ServiceUnavailable("503"), api.TooManyRequests("429"), requests.Timeout("read timeout")]
    assert storage.put_file("v.mp4", path, sha256=sha) is True
    assert len(bucket.calls) == 4


def test_permanent_errors_are_not_retried(fake: tuple[GCSStorage, FakeBucket], tmp_path: Path) -> None:
    storage, bucket = fake
    path, sha = _file(tmp_path / "v", b"video")
    bucket.script = [api.Forbidden("403 caller does not have storage.objects.create access")]
    with pytest.raises(StorageError) as info:
        storage.put_file("v.mp4", path, sha256=sha)
    assert not isinstance(info.value, TransientStorageError)
    assert "permission denied" in info.value.message and "objectAdmin" in (info.value.hint or "")
    assert len(bucket.calls) == 1


def test_retries_run_out(fake: tuple[GCSStorage, FakeBucket], tmp_path: Path) -> None:
    storage, bucket = fake
    path, sha = _file(tmp_path / "v", b"video")
    bucket.script = [api.InternalServerError("500")] * 10
    with pytest.raises(TransientStorageError, match="after 4 tries"):
        storage.put_file("v.mp4", path, sha256=sha)
    assert len(bucket.calls) == 4 and "p/v.mp4" not in bucket.objects


def test_lost_answer_then_412_counts_as_our_write(fake: tuple[GCSStorage, FakeBucket], tmp_path: Path) -> None:
    storage, bucket = fake
    path, sha = _file(tmp_path / "v", b"video")
    bucket.script = [_lost_answer()]  # the object lands, the response does not; the retry gets 412
    assert storage.put_file("v.mp4", path, sha256=sha) is True
    assert len(bucket.calls) == 2


def test_lost_answer_then_412_for_someone_elses_object(fake: tuple[GCSStorage, FakeBucket], tmp_path: Path) -> None:
    storage, bucket = fake
    theirs, their_sha = _file(tmp_path / "t", b"their encode")
    ours, our_sha = _file(tmp_path / "o", b"our encode")
    storage.put_file("v.mp4", theirs, sha256=their_sha)
    bucket.script = [requests.ConnectionError("reset before the request was sent")]
    assert storage.put_file("v.mp4", ours, sha256=our_sha) is False


def test_verification_failure_deletes_the_object(fake: tuple[GCSStorage, FakeBucket], tmp_path: Path) -> None:
    storage, bucket = fake
    path, sha = _file(tmp_path / "v", b"video")
    bucket.corrupt = True
    with pytest.raises(TransientStorageError, match="verification failed"):
        storage.put_file("v.mp4", path, sha256=sha)
    assert "p/v.mp4" not in bucket.objects
    assert bucket.deleted == [("p/v.mp4", 1)]  # only the generation we wrote


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (api.TooManyRequests("x"), True),
        (api.ServiceUnavailable("x"), True),
        (api.GatewayTimeout("x"), True),
        (api.from_http_status(408, "request timeout"), True),
        (api.InternalServerError("x"), True),
        (ConnectionResetError(), True),
        (TimeoutError(), True),
        (requests.exceptions.ChunkedEncodingError(), True),
        (api.NotFound("x"), False),
        (api.Forbidden("x"), False),
        (api.PreconditionFailed("x"), False),
        (api.BadRequest("x"), False),
        (ValueError("x"), False),
    ],
)
def test_is_transient(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient


def test_credentials_problems_are_config_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no gcloud application-default credentials either
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    with pytest.raises(ConfigError, match="no Google Cloud credentials") as info:
        GCSStorage("bkt").stat("a")
    assert "gcloud auth application-default login" in (info.value.hint or "")
    bad = tmp_path / "key.json"
    bad.write_text('{"type": "service_account"}')
    with pytest.raises(ConfigError, match="credentials file") as info:
        GCSStorage("bkt", credentials_file=bad).stat("a")
    assert "service-account key" in (info.value.hint or "")
