"""Call humortune's JSON API the way another service would: plain HTTP, a bearer token, JSON in and out.

    python examples/call_service.py                                  # starts an offline server itself
    python examples/call_service.py --url http://127.0.0.1:8000 --token TOKEN [--video gs://…]

Without ``--url`` it starts ``humortune serve --offline`` in-process on a free loopback port (the bundled
FakeGemini answers, nothing leaves the machine), so the example runs anywhere. Against a real server, pass the
URL and the token that ``humortune serve`` printed (or ``HUMORTUNE_API_TOKEN``). Only the standard library's
``urllib`` is used for the calls: nothing here needs humortune on the calling side.
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

VIDEO = "gs://my-bucket/training/videos/7301234567890123456.mp4"


def call(base: str, token: str | None, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """One JSON request; returns (status, decoded body) for successes and errors alike."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:  # 4xx/5xx still carry a JSON body: {"error", "message", "hint", …}
        return exc.code, json.loads(exc.read() or b"{}")


@contextmanager
def offline_server() -> Iterator[tuple[str, str]]:
    """``humortune serve --offline`` in a background thread; yields (base URL, token)."""
    import uvicorn

    from humortune import Settings
    from humortune.service import create_app

    with tempfile.TemporaryDirectory(prefix="humortune-serve-") as workspace:
        # The server analyses gs:// objects of its own storage only: point it at the demo video's bucket.
        app = create_app(Settings(workspace=workspace, offline=True, storage="gs://my-bucket"))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}", app.state.service.token
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def demo(base: str, token: str, video: str) -> None:
    status, health = call(base, None, "GET", "/healthz")
    print(f"GET /healthz → {status} {health}")

    status, body = call(base, None, "POST", "/v1/analyze", {"video": video})
    print(f"POST /v1/analyze without a token → {status} {body['error']}")

    status, body = call(base, token, "POST", "/v1/analyze", {"video": video})
    print(f"POST /v1/analyze → {status}")
    if status != 200:
        print(f"  {body.get('error')}: {body.get('message')} — {body.get('hint')}")
        return
    print(f"  id:        {body['id']}")
    print(f"  narrative: {body['narrative']}")
    record = body["record"] or {}
    print(f"  record:    {record.get('mechanism')} | {record.get('category')}, {record.get('quality')}")
    print(f"  cost:      ${body['cost_usd']}  tokens: {body['usage']['total_tokens']}  warnings: {body['warnings']}")

    status, again = call(base, token, "GET", f"/v1/analyses/{body['id']}")
    print(f"GET /v1/analyses/{body['id']} → {status}, same narrative: {again['narrative'] == body['narrative']}")

    status, cached = call(base, token, "POST", "/v1/analyze", {"video": video})
    print(f"POST /v1/analyze again → {status}, cached: {cached['cached']} (no cost)")

    status, invalid = call(base, token, "POST", "/v1/analyze", {"video": "/etc/passwd", "mode": "both"})
    print(f"POST /v1/analyze with bad fields → {status}, fields: {invalid['fields']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running `humortune serve` (default: start an offline one here)")
    parser.add_argument("--token", help="its bearer token")
    parser.add_argument("--video", default=VIDEO, help="gs:// URI, TikTok URL or sha256 of a stored video")
    args = parser.parse_args()
    if args.url:
        demo(args.url.rstrip("/"), args.token or "", args.video)
        return
    with offline_server() as (base, token):
        demo(base, token, args.video)


if __name__ == "__main__":
    main()
