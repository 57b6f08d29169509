"""Every command of the Getting started page's offline loop runs as written, in order, in a fresh folder."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from humortune.cli import main
from tests._workspace_support import has_database

from .conftest import REPO

PAGE = REPO / "docs" / "index.md"


def offline_commands() -> list[tuple[str, str]]:
    """(command, comment) for each line of the bash blocks between the offline heading and "## Online"."""
    text = PAGE.read_text("utf-8")
    section = text[text.index("## The whole loop, offline") : text.index("## Online")]
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", section, re.DOTALL):
        for line in block.splitlines():
            command, _, comment = line.partition("#")
            if command.strip():
                commands.append((command.strip(), comment.strip()))
    return commands


def test_the_page_walks_the_whole_loop() -> None:
    verbs = [shlex.split(command)[1] for command, _ in offline_commands()]
    for step in ("prepare", "tune", "analyze", "eval", "promote", "review", "retrain"):
        assert step in verbs, step
    assert any("--force" in command for command, _ in offline_commands())
    assert "humortune doctor" in PAGE.read_text("utf-8").split("## Online", 1)[1]


def test_every_offline_command_runs(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    (Path.cwd() / "datasets").symlink_to(REPO / "datasets")  # the page uses checkout-relative paths
    served: list[Any] = []
    # `humortune review` serves until Ctrl-C: record the app it would serve instead of blocking.
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.append(app))
    for command, comment in offline_commands():
        argv = shlex.split(command)
        assert argv[0] == "humortune"
        code = main(argv[1:])
        out, err = capsys.readouterr()
        expected = 1 if comment.startswith("refused") else 0
        assert code == expected, f"{command}: exit {code}\n{out}\n{err}"
        if argv[1] == "models":  # the short id the page quotes is the one the sample really gives
            short_id = re.search(r"short id: (\S+)", comment)
            assert short_id is not None and short_id.group(1) in out
        if "--force" in argv:
            assert "promoted" in out
    assert len(served) == 1
    assert not list(Path.cwd().glob("*.db"))  # everything went to the workspace
    assert has_database(Path.cwd() / ".humortune")
