"""The ``humortune`` command line: thin commands over the public API, rendered with rich.

Each area's commands live in their own module in this package (``core``, ``ingest``, ``dataset``, …) and
register themselves on `app` when imported. `main` imports only the module of the command being run; the
root help (``humortune`` or ``humortune --help``) is drawn from the tables in `humortune.cli._commands` by
`humortune.cli._root_help` without importing typer or any command module, so start-up stays fast. Modules
import heavy dependencies inside their command functions.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from humortune.cli._commands import COMMANDS, ROOT_OPTIONS

if TYPE_CHECKING:  # imported on first use: the typer app is not needed to print the root help
    from humortune.cli._app import app, console, err_console

__all__ = ["app", "console", "err_console", "main"]


# Help lists commands in registration order: follow the data flow, then anything new alphabetically.
_ORDER = ["core", "prepare", "ingest", "dataset", "tune", "analyze", "evaluate", "review"]
# global options that take the next argument as their value, and those that are plain flags
_VALUED_OPTIONS = {flag for option in ROOT_OPTIONS if option.metavar for flag in option.flags}
_FLAGS = {flag for option in ROOT_OPTIONS if not option.metavar for flag in option.flags} - {"--help"}
_listed: set[str] = set()


def __getattr__(name: str) -> Any:
    if name in {"app", "console", "err_console"}:
        from humortune.cli import _app

        return getattr(_app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _register_commands() -> None:
    import pkgutil

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
    """Stand-ins for typer's root usage errors: the real command, once its module is imported, replaces each in
    place. A command whose module is already imported keeps its real registration (a later stand-in would win)."""
    from humortune.cli._app import app

    for name, (modules, help_text) in COMMANDS.items():
        loaded = any(f"{__name__}.{module}" in sys.modules for module in modules)  # the first registers the name
        if name not in _listed and not loaded:
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


def _asks_root_help(argv: list[str]) -> bool:
    """Whether ``argv`` is only a request for the root help: nothing, or ``--help`` among global options."""
    args = iter(argv)
    asked = not argv  # the app has no_args_is_help
    for arg in args:
        if arg == "--help":
            asked = True
        elif arg in _VALUED_OPTIONS:
            if next(args, None) is None:
                return False  # a missing value: typer's usage error
        elif not (arg in _FLAGS or _has_attached_value(arg)):
            return False  # a command, "--", or an unknown option: typer decides
    return asked


def _has_attached_value(arg: str) -> bool:
    """``--workspace=DIR`` or ``-wDIR``."""
    prefixes = (f"{flag}=" if flag.startswith("--") else flag for flag in _VALUED_OPTIONS)
    return arg not in _VALUED_OPTIONS and arg.startswith(tuple(prefixes))


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the app, print errors as one line, return the exit code."""
    args = argv if argv is not None else sys.argv[1:]
    if _asks_root_help(args):
        from humortune.cli._root_help import print_root_help

        print_root_help()
        return 0
    from humortune.cli._app import run

    _register_for(args)
    return run(args)
