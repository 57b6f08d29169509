"""examples/review_and_retrain.py runs offline, as docs/reviewing.md promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests._workspace_support import open_workspace
from tests.conftest import subprocess_env

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "review_and_retrain.py"


def test_example_reviews_retrains_and_promotes(tmp_path: Path) -> None:
    env = subprocess_env() | {"NO_GCE_CHECK": "true"}
    ws = tmp_path / "ws"
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--workspace", str(ws), "--yes"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "review queue: 24 outputs" in out and "undid the last skip" in out
    assert "4 blind A/B choice(s) stored" in out
    assert "rerun (as cron would): proposed:" in out and "already proposed" in out
    assert out.count("is now 'current'") == 2
    with open_workspace(ws) as corpus:
        assert len(corpus.corrections(source="review")) == 6  # 2 accepted + 4 edited
        history = [r["action"] for r in corpus.db.query("SELECT action FROM alias_history ORDER BY id")]
        assert history == ["propose", "promote", "propose", "promote"]
        current = corpus.db.query_one("SELECT model_id FROM aliases WHERE name = 'current'")
        parent = corpus.db.query_one("SELECT base_model FROM tuning_jobs ORDER BY created_at DESC LIMIT 1")
        assert current is not None and parent is not None and parent[0].startswith("projects/")  # continued tuning
