"""Small helpers shared by every layer: content hashes, canonical JSON, atomic writes."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

__all__ = [
    "SHA256_HEX",
    "atomic_write",
    "canonical_json",
    "content_hash",
    "cyclic_gc_paused",
    "file_sha256",
    "pid_alive",
    "short_hash",
]

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
"""A sha256 digest as humortune writes it (64 lowercase hex digits): stored video names, API video ids."""

_CHUNK = 1024 * 1024


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal values give equal text, hence equal hashes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_hash(value: Any) -> str:
    """The sha256 hex digest of a value's canonical JSON (or of bytes/str as given)."""
    if isinstance(value, bytes):
        data = value
    elif isinstance(value, str):
        data = value.encode("utf-8")
    else:
        data = canonical_json(value).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def short_hash(value: Any, length: int = 12) -> str:
    """A short, stable identifier derived from `content_hash`."""
    return content_hash(value)[:length]


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Stream a file through sha256 without holding it in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Write to a temp file beside ``path`` and rename it into place only on success.

    Readers never see a half-written file under the final name, and a crash leaves at most a
    ``.*.tmp`` file that the next write to the same directory may sweep.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def pid_alive(pid: int) -> bool:
    """Whether a process exists (POSIX). Elsewhere we cannot tell cheaply, so assume it does."""
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector for a bulk step (also usable as a decorator).

    Importing or building 10k–100k items allocates millions of containers without a single cycle; each full
    collection on the way walks the whole heap for nothing, which made those steps grow faster than the
    corpus (issue 13: a third of a 10k build). Reference counting still frees everything at once; cycles, if
    any, are collected when the collector resumes. Nested or concurrent pauses resume it once, at the end of
    the outermost one that paused it.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
