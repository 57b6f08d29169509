"""Benchmark: the service against FastAPI's own ceiling on the same uvicorn and core (issue 13).

Two servers run one after the other in a child process pinned to the same CPU core, with uvicorn's
access log off: humortune's app (offline, FakeGemini; the clip analysed once before timing, so every timed
``POST /v1/analyze`` is a cache hit) and a trivial FastAPI app with the same shapes (a bearer-token check, a
POST taking a small JSON body, a GET by id; sync endpoints, as humortune's). The client is raw asyncio
sockets with keep-alive in another process pinned to the other core (httpx caps near 1,100 req/s here);
it prints its own CPU share so you can see it is not the bottleneck. Each figure is the median of
``--rounds`` runs of ``--requests`` requests, loopback only.

Target: humortune ≥ 0.8× the trivial app at concurrency 8 and 32, for both routes.

    python benchmarks/bench_service.py [--requests 2000] [--rounds 3]
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
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel

TOKEN = "bench-token-0123456789abcdef"
VIDEO = "gs://bench/training/videos/7301234567890123456.mp4"
_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


def _pin(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and core < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {core})


class _Body(BaseModel):
    video: str


async def _token(request: Request) -> None:
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        raise HTTPException(401)


def _trivial_app() -> FastAPI:
    app = FastAPI(dependencies=[Depends(_token)])

    @app.post("/v1/analyze")
    def analyze(body: _Body) -> dict[str, str]:
        return {"id": "an-0123456789abcdef", "video": body.video}

    @app.get("/v1/analyses/{analysis_id}")
    def get(analysis_id: str) -> dict[str, str]:
        return {"id": analysis_id}

    return app


def _humortune_app(workspace: Path) -> FastAPI:
    from humortune.service import create_app
    from humortune.settings import Settings

    settings = Settings(workspace=workspace, offline=True, storage="gs://bench")
    return create_app(settings, token=TOKEN, fetch_urls=False)


def serve(kind: str, port: int, workspace: Path) -> None:
    """The child process: one server, pinned to core 0."""
    import uvicorn

    _pin(0)
    app = _humortune_app(workspace) if kind == "humortune" else _trivial_app()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


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


def _measure(kind: str, workspace: Path, args: argparse.Namespace) -> dict[tuple[str, int], tuple[float, float]]:
    port = _free_port()
    child = [sys.executable, __file__, "--serve", kind, "--port", str(port), "--workspace", str(workspace)]
    process = subprocess.Popen(child, env={**os.environ, "HUMORTUNE_OFFLINE": "1"})
    try:
        _wait_for(port, process)
        post = _request("POST", "/v1/analyze", json.dumps({"video": VIDEO}).encode())
        first = asyncio.run(_first_response(port, post))
        get = _request("GET", f"/v1/analyses/{first.get('id', 'an-0123456789abcdef')}")
        results: dict[tuple[str, int], tuple[float, float]] = {}
        for route, request in (("POST /v1/analyze (cached)", post), ("GET /v1/analyses/{id}", get)):
            for concurrency in (8, 32):
                asyncio.run(_load(port, request, 200, concurrency))  # warm-up
                runs = [asyncio.run(_load(port, request, args.requests, concurrency)) for _ in range(args.rounds)]
                rate = statistics.median(r[0] for r in runs)
                results[route, concurrency] = (rate, max(r[1] for r in runs))
        return results
    finally:
        process.terminate()
        process.wait(10)


async def _first_response(port: int, request: bytes) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = _LENGTH.search(head)
    body = await reader.readexactly(int(length.group(1)) if length else 0)
    writer.close()
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"the first request failed: {head[:80]!r} {body[:200]!r}")
    data: dict[str, Any] = json.loads(body)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", choices=["humortune", "trivial"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workspace", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.workspace)
        return
    _pin(1)
    with tempfile.TemporaryDirectory() as tmp:
        ours = _measure("humortune", Path(tmp) / "ws", args)
        trivial = _measure("trivial", Path(tmp) / "ws", args)
    print(f"{'route':<28}{'conc':>5}{'humortune':>11}{'trivial':>9}{'ratio':>7}{'client CPU':>12}")
    ok = True
    for key, (rate, client_cpu) in ours.items():
        base, base_cpu = trivial[key]
        ratio = rate / base
        ok = ok and ratio >= 0.8
        print(f"{key[0]:<28}{key[1]:>5}{rate:>9.0f}/s{base:>7.0f}/s{ratio:>7.2f}{max(client_cpu, base_cpu):>11.0%}")
    print(f"humortune vs trivial FastAPI: {'OK' if ok else 'UNDER'} (target ≥ 0.8× at concurrency 8 and 32)")


if __name__ == "__main__":
    main()
