"""`GCSStorage`: objects in a Google Cloud Storage bucket, where Vertex AI reads training data.

- **Put-if-absent**: every upload sends ``if_generation_match=0``; a ``412 Precondition Failed`` means the
  object already exists, and `put_file` returns ``False`` without touching it.
- **Verified**: the library sends a CRC32C the server checks (multipart) or checks it after a resumable
  upload, and we compare the server's CRC32C and size with our own before reporting success. The content
  sha256 is stored in the object's metadata (``sha256``) and returned by `stat`.
- **Resumable** uploads in 8 MiB chunks for files over 8 MiB, so memory stays flat whatever the file size.
- **One retry policy** (tenacity) for transient failures only: 408, 429, 5xx, connection resets, timeouts.
  The library's own retries are switched off (``retry=None``) so nothing retries twice.

``google.cloud.storage`` is imported only when a `GCSStorage` is first used.
"""

from __future__ import annotations

import base64
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, TypeVar
from urllib.parse import urlsplit

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from humortune._util import content_hash
from humortune.errors import ConfigError, StorageError, TransientStorageError
from humortune.settings import Settings
from humortune.storage.base import ObjectInfo

__all__ = ["CHUNK_SIZE", "GCSStorage", "is_transient"]

log = logging.getLogger(__name__)
T = TypeVar("T")

CHUNK_SIZE = 8 * 1024 * 1024
"""Resumable-upload chunk (a multiple of 256 KiB); also the largest piece held in memory."""
_TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}


class _AlreadyPresent(Exception):
    """The create-only precondition failed: an object already exists under the name."""


_NO_CREDENTIALS_HINT = (
    "run `gcloud auth application-default login`, or set HUMORTUNE_CREDENTIALS_FILE to a service-account JSON"
)


def is_transient(exc: BaseException) -> bool:
    """Whether a google-cloud-storage failure may go away on retry (408/429/5xx, resets, timeouts)."""
    from google.api_core import exceptions as api

    if isinstance(exc, api.GoogleAPICallError):
        return exc.code in _TRANSIENT_STATUS if exc.code is not None else False
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    import requests
    from google.auth import exceptions as auth

    if isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)):
        return True
    if isinstance(exc, auth.TransportError):
        return True
    status = getattr(getattr(exc, "response", None), "status_code", None)
    name = type(exc).__name__
    if name == "InvalidResponse" and status in _TRANSIENT_STATUS:
        return True
    return name in {"DataCorruption", "ProtocolError"}


class GCSStorage:
    """A bucket (and optional prefix) as `Storage`. Keys map to ``gs://<bucket>/<prefix>/<key>``.

    ```python
    storage = GCSStorage.from_uri("gs://my-bucket/humortune")
    storage.put_file("training/videos/123.mp4", path, sha256=digest, content_type="video/mp4")
    ```

    Pass ``client`` (a ``google.cloud.storage.Client``) to control credentials and endpoints; otherwise one
    is built on first use from ``credentials_file`` or Application Default Credentials. ``attempts`` and
    ``backoff_s`` tune the retry policy; ``chunk_size`` the resumable-upload chunk.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: Any | None = None,
        project: str | None = None,
        credentials_file: str | Path | None = None,
        attempts: int = 5,
        backoff_s: float = 0.5,
        chunk_size: int = CHUNK_SIZE,
        timeout_s: float = 120.0,
    ) -> None:
        if not bucket or "/" in bucket:
            raise ConfigError(f"invalid bucket name {bucket!r}", hint="use gs://<bucket>[/<prefix>]")
        if chunk_size % (256 * 1024):
            raise ConfigError("chunk_size must be a multiple of 256 KiB")
        self.bucket_name = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._client = client
        self._project = project
        self._credentials_file = Path(credentials_file).expanduser() if credentials_file else None
        self._lock = threading.Lock()
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.chunk_size = chunk_size
        self.timeout_s = timeout_s

    @classmethod
    def from_uri(cls, uri: str, *, client: Any | None = None, settings: Settings | None = None) -> GCSStorage:
        """``gs://bucket[/prefix]`` → `GCSStorage`; project and credentials come from ``settings``."""
        parts = urlsplit(uri)
        if parts.scheme != "gs" or not parts.netloc:
            raise ConfigError(f"not a gs:// URI: {uri!r}", hint="use gs://<bucket>[/<prefix>]")
        return cls(
            parts.netloc,
            parts.path,
            client=client,
            project=settings.project if settings else None,
            credentials_file=settings.credentials_file if settings else None,
        )

    def __repr__(self) -> str:
        return f"GCSStorage({self.root_uri!r})"

    # -- plumbing ---------------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The ``google.cloud.storage.Client`` (built on first use)."""
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def connect(self) -> None:
        """Build the client now: missing credentials fail here, once, before any per-object work."""
        _ = self.client

    def _make_client(self) -> Any:
        from google.auth import exceptions as auth
        from google.cloud import storage  # type: ignore[attr-defined,import-untyped,unused-ignore]

        from humortune.credentials import find_credentials

        unaided = self._credentials_file is None and not os.environ.get("STORAGE_EMULATOR_HOST")
        if unaided and find_credentials() is None:  # ADC would only probe the metadata server, and fail
            raise ConfigError("no Google Cloud credentials found", hint=_NO_CREDENTIALS_HINT)
        try:
            if self._credentials_file is not None:
                client = storage.Client.from_service_account_json(str(self._credentials_file), project=self._project)
            else:
                client = storage.Client(project=self._project)
        except (auth.DefaultCredentialsError, OSError, ValueError) as exc:
            if self._credentials_file is not None:
                raise ConfigError(
                    f"cannot use the credentials file {self._credentials_file} ({type(exc).__name__})",
                    hint="point HUMORTUNE_CREDENTIALS_FILE at a valid service-account key (JSON)",
                ) from None
            if isinstance(exc, auth.DefaultCredentialsError):
                raise ConfigError("no Google Cloud credentials found", hint=_NO_CREDENTIALS_HINT) from None
            raise ConfigError(
                f"cannot create the Cloud Storage client ({type(exc).__name__})",
                hint="set HUMORTUNE_PROJECT to your Google Cloud project id",
            ) from None
        try:  # one HTTP connection per worker thread, not the default 10
            from requests.adapters import HTTPAdapter

            for scheme in ("https://", "http://"):
                client._http.mount(scheme, HTTPAdapter(pool_connections=4, pool_maxsize=64))
        except Exception:  # pragma: no cover - a client without a requests session still works
            log.debug("could not enlarge the HTTP connection pool", exc_info=True)
        return client

    @property
    def bucket(self) -> Any:
        return self.client.bucket(self.bucket_name)

    def _name(self, key: str) -> str:
        pure = PurePosixPath(key)
        if not key or key.startswith("/") or ".." in pure.parts or "\\" in key:
            raise StorageError(f"invalid object key {key!r}", hint="keys are relative paths without '..'")
        return f"{self.prefix}{key}"

    def _call(self, what: str, key: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` under the one retry policy; translate what is left into `StorageError`."""
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential_jitter(initial=self.backoff_s, max=30.0, jitter=self.backoff_s),
            retry=retry_if_exception(is_transient),
            reraise=True,
        )
        try:
            return retrying(fn)
        except (_AlreadyPresent, StorageError, ConfigError):
            raise
        except Exception as exc:
            raise self._translate(exc, what, key) from exc

    def _translate(self, exc: Exception, what: str, key: str) -> StorageError:
        from google.api_core import exceptions as api

        item = self.uri(key) if key else self.root_uri
        code = getattr(exc, "code", None) if isinstance(exc, api.GoogleAPICallError) else None
        detail = f"{type(exc).__name__}" + (f" {code}" if code else "")
        if is_transient(exc):
            return TransientStorageError(
                f"{what} failed after {self.attempts} tries ({detail})",
                hint="Cloud Storage is unavailable or throttling; rerun later (finished work is kept)",
                item=item,
            )
        if isinstance(exc, api.NotFound):
            return StorageError(
                f"{what} failed: bucket {self.bucket_name!r} or object not found",
                hint=f"create the bucket: gcloud storage buckets create gs://{self.bucket_name} --location=us-central1",
                item=item,
            )
        if isinstance(exc, (api.Forbidden, api.Unauthorized)):
            return StorageError(
                f"{what} failed: permission denied ({detail})",
                hint="grant the account roles/storage.objectAdmin on the bucket, or check the credentials",
                item=item,
            )
        return StorageError(f"{what} failed ({detail})", hint="run with --debug for details", item=item)

    # -- preflight (humortune doctor) -----------------------------------------------------------

    def bucket_facts(self) -> dict[str, Any]:
        """The bucket's ``location``, ``location_type``, ``project_number`` and the caller's ``permissions``
        among object create/get (`StorageError` when it does not exist or may not be read)."""

        def fetch() -> dict[str, Any]:
            bucket = self.client.get_bucket(self.bucket_name, timeout=self.timeout_s, retry=None)
            wanted = ["storage.objects.create", "storage.objects.get"]
            granted = bucket.test_iam_permissions(wanted, timeout=self.timeout_s, retry=None)
            number = bucket.project_number
            return {
                "location": str(bucket.location or ""),
                "location_type": str(bucket.location_type or ""),
                "project_number": str(number) if number else None,
                "permissions": sorted(granted or []),
            }

        return self._call("bucket check", "", fetch)

    def iam_bindings(self) -> list[dict[str, Any]]:
        """The bucket's IAM policy bindings (needs storage.buckets.getIamPolicy)."""

        def fetch() -> list[dict[str, Any]]:
            policy = self.client.bucket(self.bucket_name).get_iam_policy(
                requested_policy_version=3, timeout=self.timeout_s, retry=None
            )
            return [{"role": b["role"], "members": sorted(b.get("members") or [])} for b in policy.bindings]

        return self._call("IAM policy read", "", fetch)

    # -- Storage protocol -------------------------------------------------------------------------

    @property
    def root_uri(self) -> str:
        return f"gs://{self.bucket_name}/{self.prefix}".rstrip("/")

    def uri(self, key: str) -> str:
        return f"gs://{self.bucket_name}/{self._name(key)}"

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    def stat(self, key: str) -> ObjectInfo | None:
        name = self._name(key)
        blob = self._call("stat", key, lambda: self.bucket.get_blob(name, retry=None, timeout=self.timeout_s))
        return None if blob is None else _info(key, blob)

    def put_file(self, key: str, path: Path, *, sha256: str, content_type: str = "application/octet-stream") -> bool:
        path = Path(path)
        try:
            size = path.stat().st_size
            crc = _crc32c_file(path)
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc.strerror}", item=self.uri(key)) from exc

        def upload(blob: Any) -> None:
            blob.upload_from_filename(
                str(path),
                content_type=content_type,
                if_generation_match=0,
                checksum="crc32c",
                retry=None,
                timeout=self.timeout_s,
            )

        return self._put(key, upload, sha256=sha256, size=size, crc=crc, content_type=content_type)

    def put_bytes(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> bool:
        import google_crc32c

        crc = _b64(google_crc32c.Checksum(data))  # type: ignore[no-untyped-call]

        def upload(blob: Any) -> None:
            blob.upload_from_string(
                data,
                content_type=content_type,
                if_generation_match=0,
                checksum="crc32c",
                retry=None,
                timeout=self.timeout_s,
            )

        return self._put(key, upload, sha256=content_hash(data), size=len(data), crc=crc, content_type=content_type)

    def _put(
        self, key: str, upload: Callable[[Any], None], *, sha256: str, size: int, crc: str, content_type: str
    ) -> bool:
        from google.api_core import exceptions as api

        name = self._name(key)
        interrupted = False  # an attempt failed after possibly reaching the server

        def attempt() -> Any:
            nonlocal interrupted
            blob = self.bucket.blob(name, chunk_size=self.chunk_size)
            blob.metadata = {"sha256": sha256}
            blob.content_type = content_type
            try:
                upload(blob)
            except api.PreconditionFailed:
                raise _AlreadyPresent from None
            except Exception as exc:
                interrupted = interrupted or is_transient(exc)
                raise
            return blob

        try:
            blob = self._call("upload", key, attempt)
        except _AlreadyPresent:
            if interrupted:  # our own earlier attempt may have landed before its answer was lost
                info = self.stat(key)
                return bool(info and info.sha256 == sha256 and info.size == size)
            return False
        if blob.size != size or (blob.crc32c and blob.crc32c != crc):
            self._discard(key, blob)
            raise TransientStorageError(
                f"upload verification failed (server has {blob.size} bytes, crc32c {blob.crc32c}; "
                f"expected {size} bytes, crc32c {crc})",
                hint="the object was deleted; rerun to upload it again",
                item=self.uri(key),
            )
        return True

    def _discard(self, key: str, blob: Any) -> None:
        try:
            generation = blob.generation
            self._call("delete", key, lambda: blob.delete(if_generation_match=generation, retry=None))
        except StorageError:
            log.warning("could not delete the corrupt upload %s", self.uri(key))

    def open_read(self, key: str) -> BinaryIO:
        name = self._name(key)
        # Spooled: small objects stay in memory, large ones go to a temp file; the checksum is verified.
        spool = tempfile.SpooledTemporaryFile(max_size=self.chunk_size)  # noqa: SIM115 - returned to caller

        def fetch() -> None:
            spool.seek(0)
            spool.truncate()
            blob = self.bucket.get_blob(name, retry=None, timeout=self.timeout_s)
            if blob is None:
                raise StorageError("no such object", hint="ingest or build it first", item=self.uri(key))
            blob.download_to_file(spool, checksum="crc32c", retry=None, timeout=self.timeout_s)

        try:
            self._call("download", key, fetch)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool  # type: ignore[return-value]

    def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``start``..``end`` (inclusive) of an object, fetched alone (video seeking in the review UI)."""
        name = self._name(key)

        def fetch() -> bytes:
            blob = self.bucket.blob(name)
            data: bytes = blob.download_as_bytes(
                start=start, end=end, checksum=None, retry=None, timeout=self.timeout_s
            )
            return data

        try:
            return self._call("ranged download", key, fetch)
        except StorageError as exc:
            if "not found" in exc.message:
                raise StorageError("no such object", hint="ingest or build it first", item=self.uri(key)) from exc
            raise

    def read_bytes(self, key: str) -> bytes:
        with self.open_read(key) as fh:
            return fh.read()

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        full = f"{self.prefix}{prefix}"

        def fetch() -> list[Any]:
            return list(self.client.list_blobs(self.bucket_name, prefix=full, retry=None, timeout=self.timeout_s))

        blobs = self._call("list", prefix, fetch)
        out = [_info(b.name[len(self.prefix) :], b) for b in blobs if not b.name.endswith("/")]
        return sorted(out, key=lambda o: o.key)


def _info(key: str, blob: Any) -> ObjectInfo:
    metadata = blob.metadata or {}
    return ObjectInfo(
        key=key,
        size=int(blob.size or 0),
        sha256=metadata.get("sha256"),
        md5_b64=blob.md5_hash,
        content_type=blob.content_type,
    )


def _crc32c_file(path: Path) -> str:
    import google_crc32c

    checksum: Any = google_crc32c.Checksum()  # type: ignore[no-untyped-call]
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            checksum.update(chunk)
    return _b64(checksum)


def _b64(checksum: Any) -> str:
    return base64.b64encode(checksum.digest()).decode()
