"""A loopback HTTP server for real download tests: serves files, adds latency, and injects faults.

The real yt-dlp code path (generic extractor, HTTP downloader, retries, resume) runs against it, so tests
and benchmarks exercise what production does, minus the internet.

```python
with VideoServer(latency=0.1) as server:
    server.add_file("clip.mp4", path)
    server.add_faults("clip.mp4", status(503))      # first request: 503, then the file
    url = server.url("clip.mp4")
```

Faults are consumed one per request, in order; after the queue is empty the path is served normally.
Range requests are honoured (yt-dlp resumes interrupted downloads with them).
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

__all__ = ["Fault", "VideoServer", "reset", "slow", "stall", "status", "truncate"]

FaultKind = Literal["status", "reset", "truncate", "slow", "stall"]
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected misbehaviour for one request (build them with the helpers below)."""

    kind: FaultKind
    code: int = 503
    after: int = 0
    """Body bytes sent before the fault strikes (reset, truncate, stall)."""
    delay: float = 0.0
    """Seconds between chunks (slow) or of silence (stall)."""
    chunk: int = 1024


def status(code: int) -> Fault:
    """Answer with this HTTP status and a short text body."""
    return Fault("status", code=code)


def reset(after: int = 1024, linger: float = 0.2) -> Fault:
    """Send ``after`` body bytes, wait ``linger`` seconds, then reset the connection (TCP RST).

    The pause lets the client read what was sent: an RST discards data still unread in its socket buffer.
    """
    return Fault("reset", after=after, delay=linger)


def truncate(after: int = 1024) -> Fault:
    """Promise the full Content-Length, send ``after`` bytes, then close cleanly."""
    return Fault("truncate", after=after)


def slow(chunk: int = 1024, delay: float = 0.01) -> Fault:
    """Send the body in ``chunk``-byte pieces with ``delay`` seconds between them."""
    return Fault("slow", chunk=chunk, delay=delay)


def stall(after: int = 1024, seconds: float = 5.0) -> Fault:
    """Send ``after`` bytes, then go silent for ``seconds`` (a client timeout should fire)."""
    return Fault("stall", after=after, delay=seconds)


@dataclass(frozen=True, slots=True)
class _Entry:
    path: Path | None
    data: bytes | None
    content_type: str

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else self.path.stat().st_size  # type: ignore[union-attr]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    owner: VideoServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # resets and client hang-ups are the point here; keep stderr quiet


class VideoServer:
    """Serve files on 127.0.0.1 with optional per-request ``latency`` and per-path fault queues."""

    def __init__(self, *, latency: float = 0.0, host: str = "127.0.0.1") -> None:
        self.latency = latency
        self._entries: dict[str, _Entry] = {}
        self._faults: dict[str, deque[Fault]] = {}
        self._lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        """GET/HEAD requests per path (without the leading slash)."""
        self.range_requests: Counter[str] = Counter()
        """Requests per path that carried a Range header (resumed downloads)."""
        self.bytes_sent = 0
        """Body bytes written, all paths together."""
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, name: str) -> str:
        """The URL a path is served at."""
        return f"{self.base_url}/{name.lstrip('/')}"

    def add_file(self, name: str, path: str | Path, content_type: str = "video/mp4") -> str:
        """Serve a file (streamed from disk) under ``name``; returns its URL."""
        self._entries[name.lstrip("/")] = _Entry(Path(path), None, content_type)
        return self.url(name)

    def add_bytes(self, name: str, data: bytes, content_type: str = "video/mp4") -> str:
        """Serve in-memory bytes under ``name``; returns its URL."""
        self._entries[name.lstrip("/")] = _Entry(None, data, content_type)
        return self.url(name)

    def add_faults(self, name: str, *faults: Fault) -> None:
        """Queue faults for the next requests to ``name``, one per request."""
        with self._lock:
            self._faults.setdefault(name.lstrip("/"), deque()).extend(faults)

    def reset_counters(self) -> None:
        """Zero the hit, range and byte counters."""
        with self._lock:
            self.hits.clear()
            self.range_requests.clear()
            self.bytes_sent = 0

    def _next_fault(self, name: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(name)
            return queue.popleft() if queue else None

    def start(self) -> VideoServer:
        """Start serving in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="video-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> VideoServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, *, head: bool) -> None:
        owner = self.server.owner
        name = self.path.split("?", 1)[0].lstrip("/")
        with owner._lock:
            owner.hits[name] += 1
            if self.headers.get("Range"):
                owner.range_requests[name] += 1
        if owner.latency:
            time.sleep(owner.latency)
        fault = owner._next_fault(name)
        entry = owner._entries.get(name)
        if fault is not None and fault.kind == "status":
            self._text(fault.code, f"injected HTTP {fault.code}\n", head)
            return
        if entry is None:
            self._text(404, "not found\n", head)
            return
        size = entry.size
        start, end = 0, size - 1
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "").strip())
        if match:
            start = int(match.group(1))
            end = min(int(match.group(2) or size - 1), size - 1)
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", entry.content_type)
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if head:
            return
        self._body(entry, start, end + 1, fault)

    def _text(self, code: int, text: str, head: bool) -> None:
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if code in (429, 503):
            self.send_header("Retry-After", "0")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _body(self, entry: _Entry, start: int, stop: int, fault: Fault | None) -> None:
        owner = self.server.owner
        limit = stop
        if fault is not None and fault.kind in ("reset", "truncate", "stall"):
            limit = min(stop, start + fault.after)
        chunk = fault.chunk if fault is not None and fault.kind == "slow" else _CHUNK
        sent = 0
        try:
            for piece in _read(entry, start, limit, chunk):
                self.wfile.write(piece)
                sent += len(piece)
                if fault is not None and fault.kind == "slow":
                    time.sleep(fault.delay)
            if fault is not None and fault.kind == "stall" and limit < stop:
                self.wfile.flush()
                time.sleep(fault.delay)
                for piece in _read(entry, limit, stop, _CHUNK):
                    self.wfile.write(piece)
                    sent += len(piece)
        except OSError:
            return  # the client gave up (timeouts are part of the tests)
        finally:
            with owner._lock:
                owner.bytes_sent += sent
        if fault is not None and fault.kind == "reset":
            self.wfile.flush()
            time.sleep(fault.delay)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif fault is not None and fault.kind == "truncate":
            self.close_connection = True


def _read(entry: _Entry, start: int, stop: int, chunk: int) -> Any:
    if entry.data is not None:
        for offset in range(start, stop, chunk):
            yield entry.data[offset : min(offset + chunk, stop)]
        return
    assert entry.path is not None
    with open(entry.path, "rb") as fh:
        fh.seek(start)
        remaining = stop - start
        while remaining > 0:
            piece = fh.read(min(chunk, remaining))
            if not piece:
                break
            remaining -= len(piece)
            yield piece
