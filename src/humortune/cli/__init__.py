"""The ``humortune`` command line: thin commands over the public API, rendered with rich.

Each area's commands live in their own module in this package (``core``, ``ingest``, ``dataset``, …) and
register themselves on `app` when imported; `main` imports them all. Modules import heavy dependencies
inside their command functions so ``humortune --help`` stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

from humortune.cli._app import app, console, err_console, run

__all__ = ["app", "console", "err_console", "main"]


# Help lists commands in registration order: follow the data flow, then anything new alphabetically.
_ORDER = ["core", "prepare", "ingest", "dataset", "tune", "analyze", "evaluate", "review"]


def _register_commands() -> None:
    found = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    for module in sorted(found, key=lambda name: (_ORDER.index(name) if name in _ORDER else len(_ORDER), name)):
        importlib.import_module(f"{__name__}.{module}")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the app, print errors as one line, return the exit code."""
    _register_commands()
    return run(argv if argv is not None else sys.argv[1:])
