"""Lazy command registration, and the root help drawn without typer or any command module (issue 13).

Each check runs in a fresh interpreter: command modules register on the shared app when imported, so only a
new process shows what one invocation loads.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from humortune.cli import _asks_root_help, _command_name
from humortune.cli._commands import COMMANDS, ROOT_HELP, ROOT_OPTIONS, ROOT_USAGE

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


_HELP_IN_A_CHILD = """
import json, sys, contextlib, io
{setup}
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    code = {call}
print(json.dumps({{"code": code, "help": buf.getvalue(), "modules": sorted(sys.modules)}}))
"""


def _help_in_a_child(setup: str, call: str) -> dict[str, Any]:
    """Render a help in a fresh interpreter, wide enough that no line wraps: its text, exit code, modules."""
    code = _HELP_IN_A_CHILD.format(setup=setup, call=call)
    env = {**os.environ, "COLUMNS": "250"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def _sections(help_text: str) -> list[tuple[str, list[list[str]]]]:
    """A rendered help as (panel title, rows of cells); text outside panels is a section with no title."""
    sections: list[tuple[str, list[list[str]]]] = []
    for line in help_text.splitlines():
        if line.startswith("╭"):
            sections.append((line.strip("╭─╮ "), []))
        elif line.startswith("│"):
            sections[-1][1].append(re.split(r"\s{2,}", line.strip("│ ")))
        elif line.strip() and not line.startswith("╰"):
            sections.append(("", [[line.strip()]]))
    return sections


@pytest.fixture(scope="module")
def fast_help() -> dict[str, Any]:
    return _help_in_a_child("from humortune.cli import main", "main(['--help'])")


def test_the_fast_root_help_lists_what_typers_full_help_lists(fast_help: dict[str, Any]) -> None:
    typer_help = _help_in_a_child(  # typer's own rendering, every command module imported
        "from humortune.cli import _register_commands\nfrom humortune.cli._app import run\n_register_commands()",
        "run(['--help'])",
    )
    fast, full = _sections(fast_help["help"]), _sections(typer_help["help"])
    assert fast_help["code"] == typer_help["code"] == 0
    assert [title for title, _ in fast] == ["", "", "Options", "Commands"]  # usage, description, the panels
    assert fast == full  # same usage, description, option names, metavars, commands, help texts, order
    options, commands = fast[2][1], fast[3][1]
    assert commands == [[name, help_text] for name, (_, help_text) in COMMANDS.items()]
    assert [row[0] for row in options] == [option.flags[0] for option in ROOT_OPTIONS]
    assert [row[-1] for row in options] == [option.help for option in ROOT_OPTIONS]


def test_the_root_options_table_matches_the_root_callback() -> None:
    from humortune.cli._app import command

    root = command()
    ctx = root.make_context("humortune", [], resilient_parsing=True)
    real = [(tuple(param.opts), param.help, not param.is_flag) for param in root.get_params(ctx)]
    assert real == [(option.flags, option.help, bool(option.metavar)) for option in ROOT_OPTIONS]
    assert (root.get_usage(ctx), root.help) == (f"Usage: {ROOT_USAGE}", ROOT_HELP)


def test_the_root_help_loads_neither_typer_nor_any_command_module(fast_help: dict[str, Any]) -> None:
    loaded = fast_help["modules"]
    heavy = {"typer", "click", "markdown_it", "pygments", "pydantic"}
    assert sorted({name.split(".")[0] for name in loaded} & heavy) == []
    assert "rich._emoji_codes" not in loaded  # no help text names an emoji: rich's table stays unloaded
    assert [name for name in loaded if name.startswith("humortune")] == [
        "humortune", "humortune._lazy", "humortune._version", "humortune.cli", "humortune.cli._commands",
        "humortune.cli._root_help", "humortune.errors",
    ]  # fmt: skip


@pytest.mark.parametrize("text", ["Plain text, niche:… and /v1/analyses/{id}.", "A :thumbs_up: [bold]and[/] --flag"])
def test_help_texts_render_as_typer_renders_them(text: str) -> None:
    from rich.text import Text

    from humortune.cli._root_help import _markup

    rendered, typers = _markup(text), Text.from_markup(text)  # rich markup and emoji codes, as typer's "rich" mode
    assert (rendered.plain, rendered.spans[: len(typers.spans)]) == (typers.plain, typers.spans)


@pytest.mark.parametrize(
    "argv",
    [[], ["--help"], ["--offline", "--help"], ["-w", "ws", "--help"], ["--workspace=ws", "--debug", "--help"],
     ["-wws", "--help"], ["--help", "--offline"]],
)  # fmt: skip
def test_the_root_help_exits_0_with_or_without_global_options(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from humortune.cli import main

    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out.lstrip().startswith(f"Usage: {ROOT_USAGE}") and err == ""
    assert all(name in out for name in COMMANDS) and "Global options" not in out


@pytest.mark.parametrize(
    ("argv", "asks"),
    [
        ([], True),
        (["--help"], True),
        (["-w", "ws", "--offline", "--help"], True),
        (["--workspace=ws", "--help"], True),
        (["-wws", "--help"], True),
        (["--offline"], False),  # no command: typer's "Missing command"
        (["-w", "--help"], False),  # --help is the workspace's value
        (["--help", "-w"], False),  # -w without a value: typer's usage error
        (["status", "--help"], False),
        (["--", "--help"], False),
        (["-h"], False),  # not an option of this app: typer's "No such option"
        (["--debug=1", "--help"], False),
    ],
)
def test_only_a_root_help_request_takes_the_fast_path(argv: list[str], asks: bool) -> None:
    assert _asks_root_help(argv) is asks


def test_a_missing_command_and_a_missing_value_are_still_typers_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from humortune.cli import main

    assert main(["--offline"]) == 2
    assert "Missing command" in capsys.readouterr().err
    assert main(["--help", "-w"]) == 2
    assert "requires an argument" in capsys.readouterr().err


def test_a_command_still_runs_after_an_invocation_without_one(tmp_path: Path) -> None:
    import humortune.cli.core  # noqa: F401  # the real commands are registered first (as by an earlier call)
    from humortune.cli import main

    assert main(["--offline"]) == 2  # no command: the stand-ins are listed for typer's usage error
    assert main(["init", "-w", str(tmp_path / "ws")]) == 0  # the real `init`, not its stand-in


def test_the_typer_app_and_consoles_are_still_reachable_from_the_package() -> None:
    import humortune.cli
    from humortune.cli import _app

    assert (humortune.cli.app, humortune.cli.console, humortune.cli.err_console) == (
        _app.app, _app.console, _app.err_console
    )  # fmt: skip
    with pytest.raises(AttributeError):
        humortune.cli.no_such_name  # noqa: B018


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
