"""The Dockerfile: its ENTRYPOINT is the command the service tests start, configured only by its ENV.

The image cannot be built here (no registry for base images), so the tests check the Dockerfile itself
(hadolint-style rules that matter for this service) and run its exact entrypoint and health check offline.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx

from humortune import catalog
from tests._service_support import (
    REPO,
    entrypoint,
    healthcheck,
    image_env,
    instructions,
    last,
    serve_like_the_container,
)

DEFAULT_BASE = catalog.default_base_model().id  # what an unpromoted service serves


def test_slim_python_base_and_a_non_root_user() -> None:
    assert re.fullmatch(r"python:3\.1[1-9]+-slim(-\w+)?", last("FROM")), last("FROM")
    user = last("USER").split(":")[0]
    assert user not in ("root", "0") and user, "the server must not run as root"
    # USER comes after every RUN (nothing runs as root once the user is set) and before the ENTRYPOINT.
    names = [name for name, _ in instructions()]
    assert max(i for i, n in enumerate(names) if n == "RUN") < names.index("USER") < names.index("ENTRYPOINT")


def test_entrypoint_is_humortune_serve_configured_only_from_the_environment() -> None:
    assert entrypoint() == ["humortune", "serve"]  # no flags: host, port and the rest come from ENV
    assert not [args for name, args in instructions() if name == "CMD"]
    env = image_env()
    assert env["HUMORTUNE_HOST"] == "0.0.0.0" and env["PORT"] == "8080"
    assert not {k for k in env if "TOKEN" in k or "CREDENTIALS" in k}, "no secrets baked into the image"
    assert "/healthz" in " ".join(healthcheck())


def test_dockerignore_sends_only_what_the_image_installs() -> None:
    lines = [ln for ln in (REPO / ".dockerignore").read_text().splitlines() if ln and not ln.startswith("#")]
    assert lines[0] == "*"
    assert {ln for ln in lines if ln.startswith("!")} == {"!pyproject.toml", "!README.md", "!src/"}
    copied = {args.split()[0] for name, args in instructions() if name == "COPY"}
    assert copied == {"pyproject.toml", "src"}


def test_the_entrypoint_serves_offline_and_passes_its_own_healthcheck(tmp_path: Path) -> None:
    # the gs:// video below must lie under the configured storage (other parties' objects are refused)
    with serve_like_the_container(tmp_path / "ws", HUMORTUNE_STORAGE="gs://my-bucket") as served:
        check = subprocess.run(healthcheck(), env=served.env, capture_output=True, timeout=30)
        assert check.returncode == 0, check.stderr.decode()

        health = httpx.get(f"{served.url}/healthz").json()
        assert health["model"] == DEFAULT_BASE and health["model_kind"] == "base"
        assert served.token not in httpx.get(f"{served.url}/healthz").text

        auth = {"Authorization": f"Bearer {served.token}"}
        video = {"video": "gs://my-bucket/training/videos/7301234567890123456.mp4"}
        assert httpx.post(f"{served.url}/v1/analyze", json=video).status_code == 401
        answer = httpx.post(f"{served.url}/v1/analyze", json=video, headers=auth, timeout=60)
        assert answer.status_code == 200 and answer.json()["narrative"].startswith("Det roliga")
    log = served.stderr()
    assert f"serving model: {DEFAULT_BASE}" in log
    assert f"WARNING: {DEFAULT_BASE} is a BASE model" in log
    assert served.token not in log  # configured through the environment: never printed
