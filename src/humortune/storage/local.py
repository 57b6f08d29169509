"""`LocalStorage`: a directory on disk, the embedded default inside the workspace."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from humortune._util import atomic_write
from humortune.errors import StorageError
from humortune.storage.base import ObjectInfo

__all__ = ["LocalStorage"]


class LocalStorage:
    """Objects as files under ``root``; writes go to a temp file and are renamed into place.

    Put-if-absent is enforced with ``os.link`` (atomic, fails if the target exists), so two processes
    storing the same key never both "win" and a crash never leaves a half-written object.
    """

    def __init__(self, root: str | Path) -> None:
        if isinstance(root, str) and root.startswith("file://"):
            root = unquote(urlsplit(root).path)
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    @property
    def root_uri(self) -> str:
        return self.root.as_uri()

    def path(self, key: str) -> Path:
        """The file an object lives in. Keys that would escape the root are refused."""
        pure = PurePosixPath(key)
        if not key or pure.is_absolute() or ".." in pure.parts or "\\" in key:
            raise StorageError(f"invalid object key {key!r}", hint="keys are relative paths without '..'")
        return self.root.joinpath(*pure.parts)

    def uri(self, key: str) -> str:
        return self.path(key).as_uri()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def stat(self, key: str) -> ObjectInfo | None:
        path = self.path(key)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        sidecar = path.with_name(path.name + ".sha256")
        sha = sidecar.read_text("ascii").strip() if sidecar.is_file() else None
        return ObjectInfo(key=key, size=size, sha256=sha)

    def put_file(self, key: str, path: Path, *, sha256: str, content_type: str = "application/octet-stream") -> bool:
        target = self.path(key)
        if target.is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.upload.tmp")
        try:
            digest = hashlib.sha256()
            with open(path, "rb") as src, open(tmp, "wb") as dst:
                while chunk := src.read(1024 * 1024):
                    digest.update(chunk)
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
            if digest.hexdigest() != sha256:
                raise StorageError(
                    "checksum mismatch while storing: the source file changed during the copy",
                    hint="rerun; the stored copy was discarded",
                    item=key,
                )
            return self._publish(tmp, target, sha256)
        except OSError as exc:
            raise StorageError(f"cannot write: {exc.strerror}", hint="check disk space", item=key) from exc
        finally:
            tmp.unlink(missing_ok=True)

    def put_bytes(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> bool:
        target = self.path(key)
        if target.is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.upload.tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            return self._publish(tmp, target, hashlib.sha256(data).hexdigest())
        except OSError as exc:
            raise StorageError(f"cannot write: {exc.strerror}", hint="check disk space", item=key) from exc
        finally:
            tmp.unlink(missing_ok=True)

    def _publish(self, tmp: Path, target: Path, sha256: str) -> bool:
        # The sidecar goes first so a visible object always has its checksum next to it.
        with atomic_write(target.with_name(target.name + ".sha256"), "w") as fh:
            fh.write(sha256)
        try:
            os.link(tmp, target)  # atomic and fails if the target exists: put-if-absent
        except FileExistsError:
            return False
        return True

    def open_read(self, key: str) -> BinaryIO:
        try:
            return open(self.path(key), "rb")
        except FileNotFoundError:
            raise StorageError("no such object", hint="ingest or build it first", item=self.uri(key)) from None

    def read_bytes(self, key: str) -> bytes:
        with self.open_read(key) as fh:
            return fh.read()

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        if not self.root.is_dir():
            return []
        out = []
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                if name.startswith(".") or name.endswith(".sha256"):
                    continue
                key = Path(dirpath, name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    info = self.stat(key)
                    if info is not None:
                        out.append(info)
        return sorted(out, key=lambda o: o.key)

    def remove_all(self) -> None:
        """Delete everything (tests and ``humortune`` workspace resets only)."""
        shutil.rmtree(self.root, ignore_errors=True)
