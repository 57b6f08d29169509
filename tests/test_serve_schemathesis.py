"""schemathesis (``--checks all``, bounded examples) against the offline server, started as the container starts it.

Every response must match the served schema (status, body, headers), schema-valid requests must be accepted
(or answered with a documented state-dependent 404/422, see schemathesis.toml) and invalid ones refused, and
nothing may be a server error. The seed is fixed so CI is reproducible; run it with other seeds by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests._service_support import REPO, serve_like_the_container

MAX_EXAMPLES = 20


def test_schemathesis_all_checks_pass_against_the_served_schema(tmp_path: Path) -> None:
    schemathesis = str(Path(sys.executable).parent / "schemathesis")
    with serve_like_the_container(tmp_path / "ws") as served:
        command = [
            schemathesis,
            "--config-file",
            str(REPO / "schemathesis.toml"),
            "run",
            f"{served.url}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            "1",
            "--header",
            f"Authorization: Bearer {served.token}",
            "--request-timeout",
            "60",
            "--no-color",
        ]
        result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    assert " passed" in output and "generated" in output
    assert served.token not in output
