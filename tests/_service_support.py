"""Start ``humortune serve`` exactly as the Dockerfile does, offline, on a loopback port.

The Dockerfile is parsed (ENV, ENTRYPOINT, HEALTHCHECK) so the tests run the image's own command with the
image's own environment; only the workspace, the port, the interface (loopback) and offline mode are set on
top, all through environment variables, as a deployment would.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "Dockerfile"


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for every instruction, line continuations joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for raw in path.read_text("utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in joined]


def last(name: str) -> str:
    """The arguments of the last ``name`` instruction (the one that takes effect)."""
    found = [args for instr, args in instructions() if instr == name]
    assert found, f"no {name} in the Dockerfile"
    return found[-1]


def entrypoint() -> list[str]:
    """The ENTRYPOINT, which must be in exec (JSON) form so signals reach the server."""
    value = json.loads(last("ENTRYPOINT"))
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


def image_env() -> dict[str, str]:
    """Every ``ENV key=value`` of the Dockerfile."""
    env: dict[str, str] = {}
    for instr, args in instructions():
        if instr == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def healthcheck() -> list[str]:
    """The HEALTHCHECK's command (exec form), without its options."""
    _, _, command = last("HEALTHCHECK").partition("CMD ")
    value = json.loads(command)
    assert isinstance(value, list)
    return value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running server: its URL, token, the environment it was started with, and its stderr so far."""

    url: str
    token: str
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path

    def stderr(self) -> str:
        return self.log.read_text("utf-8", errors="replace")


def container_command() -> list[str]:
    """The ENTRYPOINT with ``humortune`` resolved to this environment's console script."""
    command = entrypoint()
    assert command[0] == "humortune", command
    return [str(Path(sys.executable).parent / "humortune"), *command[1:]]


@contextmanager
def serve_like_the_container(workspace: Path, **extra_env: str) -> Iterator[Served]:
    """The Dockerfile's ENTRYPOINT with its ENV, offline, on 127.0.0.1; stopped (SIGTERM) afterwards."""
    port, token = free_port(), secrets.token_urlsafe(24)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HUMORTUNE_")},
        **image_env(),
        # the workspace's database goes along, as a deployment passes it (HUMORTUNE_TEST_ENGINE=postgresql)
        **{k: v for k, v in os.environ.items() if k == "HUMORTUNE_DATABASE_URL"},
        "HUMORTUNE_WORKSPACE": str(workspace),
        "HUMORTUNE_HOST": "127.0.0.1",  # the image binds 0.0.0.0; tests stay on loopback
        "PORT": str(port),
        "HUMORTUNE_OFFLINE": "true",
        "HUMORTUNE_API_TOKEN": token,
        "NO_GCE_CHECK": "true",
        **extra_env,
    }
    log = workspace.parent / f"serve-{port}.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(container_command(), stdout=subprocess.DEVNULL, stderr=err, env=env)
    served = Served(f"http://127.0.0.1:{port}", token, env, proc, log)
    try:
        _wait_until_healthy(served)
        yield served
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _wait_until_healthy(served: Served, timeout_s: float = 90) -> None:
    # Polling is the only readiness signal a separate process gives us (the container's HEALTHCHECK polls too).
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{served.url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert served.proc.poll() is None, f"the server exited:\n{served.stderr()}"
        assert time.monotonic() < deadline, f"the server did not become healthy:\n{served.stderr()}"
        time.sleep(0.2)
