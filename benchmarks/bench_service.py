"""Benchmark: the service against FastAPI's own ceiling on the same uvicorn and core (issue 13).

Three servers run side by side in child processes pinned to the same CPU core (uvicorn, access log off):

* humortune's app (offline, FakeGemini; the clip analysed once before timing, so every timed
  ``POST /v1/analyze`` is a cache hit);
* a trivial FastAPI app doing the same kind of thing the FastAPI way: a bearer-token dependency, ``async def``
  endpoints (no thread-pool hop), a POST whose JSON body is parsed into a small pydantic model, and a pydantic
  ``response_model`` answer of about the same size as humortune's (printed);
* a raw asyncio server answering canned bytes: the client's own ceiling, so you can see the client is not
  what caps the trivial app.

The client is raw asyncio sockets with keep-alive in this process, pinned to the other core (httpx caps near
1,100 req/s here). Rounds alternate between the servers, so a change in the machine's load hits both sides of
a ratio alike. Each figure is the median of ``--rounds`` runs of ``--requests`` requests, loopback only. Per
request it also prints the server's CPU time and context switches (from /proc): what grows with concurrency.

Target: humortune ≥ 0.8× the trivial app at concurrency 8 and 32, for both routes.

    python benchmarks/bench_service.py [--requests 1000] [--rounds 9]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel

TOKEN = "bench-token-0123456789abcdef"
VIDEO = "gs://bench/training/videos/7301234567890123456.mp4"
CONCURRENCY = (8, 32)
TARGET = 0.8
_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)
_NARRATIVE = (
    "Det roliga i detta klipp är det torra understatementet mitt i kaoset. Ett barn förklarar vuxenvärlden "
    "med total självsäkerhet. Det fungerar för att tittaren ser slutet komma en halv sekund före personen."
)


def _pin(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and core < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {core})


# -- the trivial app: the same shapes as humortune's, done the plain FastAPI way ----------------------------


class _Body(BaseModel):
    video: str
    model: str | None = None
    refresh: bool = False


class _Record(BaseModel):
    summary: str
    mechanism: str
    why_it_works: str
    audience: str
    category: str
    quality: str
    replicable: bool


class _Usage(BaseModel):
    prompt_tokens: int
    output_tokens: int
    total_tokens: int


class _Answer(BaseModel):
    id: str
    video_sha256: str | None
    video_uri: str
    narrative: str
    record: _Record
    model: str
    prompt_version: str
    mode: str
    usage: _Usage
    latency_s: float
    cost_usd: float
    warnings: list[str]
    cached: bool
    created_at: str


_RECORD = _Record(
    summary="Ett barn förklarar vuxenvärlden med total självsäkerhet.",
    mechanism="det torra understatementet mitt i kaoset",
    why_it_works="tittaren ser slutet komma en halv sekund före personen i klippet",
    audience="kontorsarbetare",
    category="clever",
    quality="weak",
    replicable=True,
)


def _answer(analysis_id: str, video: str) -> _Answer:
    return _Answer(
        id=analysis_id,
        video_sha256=None,
        video_uri=video,
        narrative=_NARRATIVE,
        record=_RECORD,
        model="gemini-3.5-flash",
        prompt_version="p-42a8abc82967",
        mode="two-stage",
        usage=_Usage(prompt_tokens=954, output_tokens=130, total_tokens=1084),
        latency_s=0.1464,
        cost_usd=0.002601,
        warnings=[],
        cached=True,
        created_at="2026-12-02T00:26:23.589951Z",
    )


async def _token(request: Request) -> None:
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        raise HTTPException(401)


def _trivial_app() -> FastAPI:
    app = FastAPI(dependencies=[Depends(_token)])

    @app.post("/v1/analyze")
    async def analyze(body: _Body) -> _Answer:
        return _answer("an-0123456789abcdef", body.video)

    @app.get("/v1/analyses/{analysis_id}")
    async def get(analysis_id: str) -> _Answer:
        return _answer(analysis_id, VIDEO)

    return app


def _humortune_app(workspace: Path) -> FastAPI:
    from humortune.service import create_app
    from humortune.settings import Settings

    settings = Settings(workspace=workspace, offline=True, storage="gs://bench")
    return create_app(settings, token=TOKEN, fetch_urls=False)


async def _raw_server(port: int) -> None:
    """The client's ceiling: canned 200s of humortune's size, no framework."""
    body = _answer("an-0123456789abcdef", VIDEO).model_dump_json().encode()
    response = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = _LENGTH.search(head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                writer.write(response)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    await server.serve_forever()


def serve(kind: str, port: int, workspace: Path) -> None:
    """A child process: one server, pinned to core 0."""
    _pin(0)
    if kind == "raw":
        asyncio.run(_raw_server(port))
        return
    import uvicorn

    app = _humortune_app(workspace) if kind == "humortune" else _trivial_app()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- the client ----------------------------------------------------------------------------------------


def _request(method: str, path: str, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


async def _worker(port: int, request: bytes, count: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(count):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"unexpected response: {head[:80]!r}")
            length = _LENGTH.search(head)
            await reader.readexactly(int(length.group(1)) if length else 0)
    finally:
        writer.close()


async def _load(port: int, request: bytes, total: int, concurrency: int) -> tuple[float, float]:
    per = total // concurrency
    cpu, start = time.process_time(), time.perf_counter()
    await asyncio.gather(*(_worker(port, request, per) for _ in range(concurrency)))
    wall = time.perf_counter() - start
    return per * concurrency / wall, (time.process_time() - cpu) / wall


async def _fetch(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = _LENGTH.search(head)
    body = await reader.readexactly(int(length.group(1)) if length else 0)
    writer.close()
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"the first request failed: {head[:80]!r} {body[:200]!r}")
    return body


# -- the servers ---------------------------------------------------------------------------------------


@dataclass
class _Server:
    kind: str
    port: int
    process: subprocess.Popen[bytes]
    requests: dict[str, bytes]
    answer_bytes: int = 0

    def usage(self) -> tuple[float, int]:
        """CPU seconds and context switches of the whole process so far (0, 0 without /proc)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            switches = 0
            for task in Path(f"/proc/{self.process.pid}/task").iterdir():
                for line in (task / "status").read_text().splitlines():
                    if "ctxt_switches:" in line:  # voluntary and not
                        switches += int(line.split()[-1])
            return cpu, switches
        except (OSError, ValueError, IndexError):
            return 0.0, 0


def _start(kind: str, workspace: Path) -> _Server:
    port = _free_port()
    child = [sys.executable, __file__, "--serve", kind, "--port", str(port), "--workspace", str(workspace)]
    process = subprocess.Popen(child, env={**os.environ, "HUMORTUNE_OFFLINE": "1"})
    _wait_for(port, process)
    post = _request("POST", "/v1/analyze", json.dumps({"video": VIDEO}).encode())
    first = asyncio.run(_fetch(port, post))
    analysis_id = json.loads(first).get("id", "an-0123456789abcdef") if kind != "raw" else "an-0123456789abcdef"
    get = _request("GET", f"/v1/analyses/{analysis_id}")
    answer = asyncio.run(_fetch(port, post))  # the cached answer: what every timed POST gets
    return _Server(kind, port, process, {"POST /v1/analyze (cached)": post, "GET /v1/analyses/{id}": get}, len(answer))


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)  # start-up poll, not part of any figure
    raise RuntimeError("the server did not start")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class _Figure:
    rate: float
    client_cpu: float
    server_us: float
    switches: float


def _run(server: _Server, route: str, concurrency: int, requests: int) -> _Figure:
    cpu, switches = server.usage()
    rate, client_cpu = asyncio.run(_load(server.port, server.requests[route], requests, concurrency))
    cpu_after, switches_after = server.usage()
    done = requests // concurrency * concurrency
    return _Figure(rate, client_cpu, (cpu_after - cpu) / done * 1e6, (switches_after - switches) / done)


def _median(figures: list[_Figure]) -> _Figure:
    return _Figure(
        statistics.median(f.rate for f in figures),
        max(f.client_cpu for f in figures),
        statistics.median(f.server_us for f in figures),
        statistics.median(f.switches for f in figures),
    )


_Runs = dict[tuple[str, int], dict[str, list[_Figure]]]


def _measure(servers: list[_Server], args: argparse.Namespace) -> _Runs:
    """Short rounds alternate between the servers (in turn first), so load drift on a shared machine hits
    both sides of a ratio alike; ratios are the median of the rounds' paired ratios."""
    results: _Runs = {}
    for route in servers[0].requests:
        for concurrency in CONCURRENCY:
            runs: dict[str, list[_Figure]] = {s.kind: [] for s in servers}
            for server in servers:
                _run(server, route, concurrency, 200)  # warm-up
            for round_ in range(args.rounds):
                for server in servers if round_ % 2 == 0 else servers[::-1]:
                    runs[server.kind].append(_run(server, route, concurrency, args.requests))
            results[route, concurrency] = runs
    return results


def _report(results: _Runs, servers: list[_Server], load: tuple[float, float]) -> bool:
    sizes = ", ".join(f"{s.kind} {s.answer_bytes} B" for s in servers)
    print(f"answer sizes: {sizes}; 1-min load average {load[0]:.1f} before, {load[1]:.1f} after (2 cores)")
    print(
        f"{'route':<27}{'conc':>5}{'humortune':>11}{'trivial':>9}{'ratio':>7}  {'target':<8}"
        f"{'server µs/req':>15}{'ctx sw/req':>12}{'raw ceiling':>13}{'client CPU':>12}"
    )
    ok = True
    for (route, concurrency), runs in results.items():
        ours, base, raw = (_median(runs[kind]) for kind in ("humortune", "trivial", "raw"))
        ratio = statistics.median(o.rate / t.rate for o, t in zip(runs["humortune"], runs["trivial"], strict=True))
        met = ratio >= TARGET
        ok = ok and met
        client = max(ours.client_cpu, base.client_cpu)
        print(
            f"{route:<27}{concurrency:>5}{ours.rate:>9.0f}/s{base.rate:>7.0f}/s{ratio:>7.2f}  "
            f"{'met' if met else 'MISSED':<8}{ours.server_us:>7.0f} / {base.server_us:<5.0f}"
            f"{ours.switches:>5.1f} / {base.switches:<4.1f}{raw.rate:>9.0f}/s{client:>11.0%}"
        )
    print("(ratio: median of the rounds' paired ratios; server µs/req and ctx sw/req: humortune / trivial;")
    print(" raw ceiling: the same client against a server of canned bytes)")
    print(f"humortune vs trivial FastAPI: {'OK' if ok else 'UNDER'} (target ≥ {TARGET}× at concurrency 8 and 32)")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--serve", choices=["humortune", "trivial", "raw"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workspace", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.workspace)
        return
    _pin(1)
    load = os.getloadavg()[0]
    servers: list[_Server] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for kind in ("humortune", "trivial", "raw"):
                servers.append(_start(kind, Path(tmp) / "ws"))
            results = _measure(servers, args)
        finally:
            for server in servers:
                server.process.terminate()
                server.process.wait(10)
    _report(results, servers, (load, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
