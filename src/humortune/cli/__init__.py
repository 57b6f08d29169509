"""The ``humortune`` command line: thin commands over the public API, rendered with rich.

Each area's commands live in their own module in this package (``core``, ``ingest``, ``dataset``, …) and
register themselves on `app` when imported. `main` imports only the module of the command being run; the
root help (``humortune`` or ``humortune --help``) lists every command from `humortune.cli._commands` without
importing any, so start-up stays fast. Modules import heavy dependencies inside their command functions.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

from humortune.cli._app import app, console, err_console, run
from humortune.cli._commands import COMMANDS

__all__ = ["app", "console", "err_console", "main"]


# Help lists commands in registration order: follow the data flow, then anything new alphabetically.
_ORDER = ["core", "prepare", "ingest", "dataset", "tune", "analyze", "evaluate", "review"]
_VALUED_OPTIONS = {"--workspace", "-w"}  # global options that take the next argument as their value
_listed: set[str] = set()


def _register_commands() -> None:
    found = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    for module in sorted(found, key=lambda name: (_ORDER.index(name) if name in _ORDER else len(_ORDER), name)):
        importlib.import_module(f"{__name__}.{module}")


def _command_name(argv: list[str]) -> str | None:
    """The subcommand ``argv`` asks for (the first argument that is not a global option), if any."""
    args = iter(argv)
    for arg in args:
        if arg in _VALUED_OPTIONS:
            next(args, None)
        elif arg == "--" or not arg.startswith("-"):
            return arg if arg != "--" else next(args, None)
    return None


def _not_loaded() -> None:  # pragma: no cover - main imports a command's module before running it
    raise RuntimeError("internal error: a command ran before its module was imported")


def _list_without_importing() -> None:
    """Stand-ins for the root help: the real command, once its module is imported, replaces each in place."""
    for name, (_, help_text) in COMMANDS.items():
        if name not in _listed:
            app.command(name, help=help_text)(_not_loaded)
            _listed.add(name)


def _register_for(argv: list[str]) -> None:
    name = _command_name(argv)
    if name is None:
        _list_without_importing()
    elif name in COMMANDS:
        for module in COMMANDS[name][0]:
            importlib.import_module(f"{__name__}.{module}")
    else:  # an unknown name: load everything so the usual "no such command" error can suggest one
        _register_commands()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the app, print errors as one line, return the exit code."""
    args = argv if argv is not None else sys.argv[1:]
    _register_for(args)
    return run(args)
