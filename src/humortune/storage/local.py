"""`LocalStorage`: a directory on disk, the embedded default inside the workspace."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from humortune._util import file_sha256, pid_alive
from humortune.errors import StorageError
from humortune.storage.base import ObjectInfo

__all__ = ["LocalStorage"]

_UPLOAD_SUFFIX = ".upload.tmp"
_TMP_PID = re.compile(r"\.(\d+)\.[0-9a-f]+\.upload\.tmp$")


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
        try:
            sha: str | None = sidecar.read_text("ascii").strip()
        except FileNotFoundError:
            sha = self._heal_sidecar(path, sidecar)
        return ObjectInfo(key=key, size=size, sha256=sha)

    def _heal_sidecar(self, path: Path, sidecar: Path) -> str | None:
        # A crash between publishing an object and writing its checksum leaves no sidecar. Objects are
        # immutable once published, so hashing the file now gives the value the sidecar should hold.
        try:
            sha = file_sha256(path)
            self._write_sidecar(sidecar, sha)
        except OSError:
            return None
        return sha

    def _write_sidecar(self, sidecar: Path, sha256: str) -> None:
        tmp = self._tmp_path(sidecar)  # pid-tagged, so `sweep_temp` can clean up after a crash
        try:
            with open(tmp, "w", encoding="ascii") as fh:
                fh.write(sha256)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, sidecar)
        finally:
            tmp.unlink(missing_ok=True)

    def put_file(self, key: str, path: Path, *, sha256: str, content_type: str = "application/octet-stream") -> bool:
        def chunks() -> Iterator[bytes]:
            with open(path, "rb") as src:
                while chunk := src.read(1024 * 1024):
                    yield chunk

        return self._put(key, chunks, expected_sha256=sha256)

    def put_bytes(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> bool:
        return self._put(key, lambda: iter((data,)), expected_sha256=None)

    def _put(self, key: str, chunks: Callable[[], Iterator[bytes]], *, expected_sha256: str | None) -> bool:
        """Copy ``chunks`` to a temp file beside the target, check its sha256, and publish it if absent."""
        target = self.path(key)
        if target.is_file():
            return False
        tmp = self._tmp_path(target)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with open(tmp, "wb") as dst:
                for chunk in chunks():
                    digest.update(chunk)
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
            if expected_sha256 is not None and digest.hexdigest() != expected_sha256:
                raise StorageError(
                    "checksum mismatch while storing: the source file changed during the copy",
                    hint="rerun; the stored copy was discarded",
                    item=key,
                )
            return self._publish(tmp, target, digest.hexdigest())
        except OSError as exc:
            raise StorageError(f"cannot write: {exc.strerror}", hint=write_hint(exc, self.root), item=key) from exc
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def _tmp_path(target: Path) -> Path:
        # pid (for sweeping after a crash) + a random token (threads of one process may store the same key).
        return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{_UPLOAD_SUFFIX}")

    def _publish(self, tmp: Path, target: Path, sha256: str) -> bool:
        try:
            os.link(tmp, target)  # atomic and fails if the target exists: put-if-absent
        except FileExistsError:
            return False  # the object already there keeps its own checksum sidecar
        # Only the writer that won writes the sidecar; if it crashes first, `stat` recomputes it.
        self._write_sidecar(target.with_name(target.name + ".sha256"), sha256)
        return True

    def sweep_temp(self, *, max_age_s: float = 6 * 3600) -> int:
        """Delete upload temp files left by crashed writers; returns how many were removed.

        A temp file is removed when the process that wrote it is gone (POSIX) or it is older than
        ``max_age_s``. Temp files of live writers are left alone.
        """
        removed = 0
        if not self.root.is_dir():
            return 0
        now = time.time()
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                if not (name.startswith(".") and name.endswith(".tmp")):
                    continue
                path = Path(dirpath, name)
                try:
                    age = now - path.stat().st_mtime
                except FileNotFoundError:
                    continue
                match = _TMP_PID.search(name)
                dead = match is not None and not pid_alive(int(match.group(1)))
                if dead or age > max_age_s:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

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


def write_hint(exc: OSError, root: Path) -> str:
    """What to do about a failed write: permissions and a full disk need different fixes."""
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"make {root} writable for this user (or set HUMORTUNE_STORAGE to a writable place), then rerun"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"free disk space under {root}, then rerun"
    return f"check that {root} is a writable directory with free space, then rerun"
