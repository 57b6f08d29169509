"""The README's Python example runs as written (offline), so the front page never lies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests._workspace_support import has_database

from .conftest import REPO


def test_readme_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    (Path.cwd() / "datasets").symlink_to(REPO / "datasets")  # the example uses repo-relative paths
    code = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text("utf-8"), re.DOTALL)[0]
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert out.startswith("Det roliga i detta klipp är")
    assert "category=<Category." in out
    assert has_database(Path.cwd() / ".humortune")


def test_readme_starts_with_the_two_commands() -> None:
    lines = (REPO / "README.md").read_text("utf-8").splitlines()
    block = lines[lines.index("```bash") + 1 : lines.index("```bash") + 3]
    assert block[0].startswith("pip install -e . && humortune prepare datasets/sample_battery.json")
    assert block[1].startswith("./scripts/test")
    assert "./scripts/test" in (REPO / ".ci" / "run").read_text("utf-8")
