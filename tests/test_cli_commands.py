"""Lazy command registration: the root help lists every command without importing their modules (issue 13).

Each check runs in a fresh interpreter: command modules register on the shared app when imported, so only a
new process shows what one invocation loads.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from humortune.cli import _command_name
from humortune.cli._commands import COMMANDS

_TREE = """
import json
from humortune.cli._app import command
root = command()
print(json.dumps({name: {"help": (cmd.help or "").split("\\n\\n")[0],
                         "sub": sorted(getattr(cmd, "commands", {})) or None}
                  for name, cmd in root.commands.items()}))
"""


def _python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def _tree(imports: str) -> dict[str, Any]:
    tree: dict[str, Any] = json.loads(_python(imports + _TREE).splitlines()[-1])
    return tree


@pytest.fixture(scope="module")
def full_tree() -> dict[str, Any]:
    return _tree("from humortune.cli import _register_commands; _register_commands()\n")


def test_the_table_lists_every_command_in_order_with_its_help(full_tree: dict[str, Any]) -> None:
    assert list(COMMANDS) == list(full_tree)
    assert {name: help_text for name, (_, help_text) in COMMANDS.items()} == {
        name: info["help"] for name, info in full_tree.items()
    }


@pytest.mark.parametrize("modules", sorted({modules for modules, _ in COMMANDS.values()}))
def test_a_commands_modules_register_it_completely(modules: tuple[str, ...], full_tree: dict[str, Any]) -> None:
    tree = _tree("".join(f"import humortune.cli.{m}\n" for m in modules))
    for name, (needed, _) in COMMANDS.items():
        if needed == modules:
            assert tree.get(name) == full_tree[name], name  # present, with all of a group's subcommands


def test_root_help_imports_no_command_module_and_matches_the_full_help() -> None:
    code = (
        "import sys, contextlib, io\nfrom humortune.cli import main\nbuf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf): main(['--help'])\n"
        "print(repr(buf.getvalue()))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('humortune', 'pydantic'))))\n"
    )
    lazy_help, lazy_modules = _python(code).splitlines()[-2:]
    full_help = _python(
        code.replace(
            "from humortune.cli import main", "from humortune.cli import main, _register_commands\n_register_commands()"
        )
    ).splitlines()[-2]
    assert lazy_help == full_help
    assert all(name in lazy_help for name in COMMANDS)
    assert eval(lazy_modules) == ["humortune", "humortune._util", "humortune._version", "humortune.catalog",
                                  "humortune.cli", "humortune.cli._app", "humortune.cli._commands",
                                  "humortune.errors"]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        ([], None),
        (["--help"], None),
        (["--offline", "--debug"], None),
        (["import", "battery.json"], "import"),
        (["-w", "ws", "status"], "status"),
        (["--workspace", "import", "ingest"], "ingest"),  # a workspace named like a command is still a value
        (["--workspace=ws", "models", "list"], "models"),
        (["--offline", "--", "eval"], "eval"),
    ],
)
def test_command_name(argv: list[str], name: str | None) -> None:
    assert _command_name(argv) == name


def test_an_unknown_command_still_gets_the_usual_error(capsys: pytest.CaptureFixture[str]) -> None:
    from humortune.cli import main

    assert main(["statuss"]) == 2
    assert "No such command" in capsys.readouterr().err
