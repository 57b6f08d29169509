"""The root help (``humortune``, ``humortune --help``) drawn with rich alone: no typer, click or command module.

typer's help renderer imports typer, its click, ``rich.markdown``, ``markdown_it`` and pygments before it prints
a line, most of ``humortune --help``'s start-up (issue 13). The root help needs none of them: this draws the
same screen (usage, description, an Options panel, a Commands panel) in typer's styles from the tables in
`humortune.cli._commands`. Every other help and every error is still typer's.
"""

from __future__ import annotations

import os
import re
from typing import ClassVar

from rich.columns import Columns
from rich.console import Console
from rich.highlighter import RegexHighlighter
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.theme import Theme

from humortune.cli._commands import COMMANDS, ROOT_HELP, ROOT_OPTIONS, ROOT_USAGE

__all__ = ["print_root_help"]

# typer.rich_utils' styles, so the fast help and typer's look alike.
_THEME = Theme({"option": "bold cyan", "switch": "bold green", "types": "bold yellow", "types_sep": "dim",
                "usage": "yellow"})  # fmt: skip
_BORDER = "dim"


class _OptionHighlighter(RegexHighlighter):
    """typer's: ``--options``, ``-s`` switches, ``<types>`` and ``Usage:`` in their colours."""

    highlights: ClassVar[list[str]] = [
        r"(^|\W)(?P<switch>\-\w+)(?![a-zA-Z0-9])",
        r"(^|\W)(?P<option>\-\-[\w\-]+)(?![a-zA-Z0-9])",
        r"(?P<types>\<[^\>]+\>)",
        r"(?P<usage>Usage: )",
    ]


class _TypesHighlighter(RegexHighlighter):
    """typer's: the brackets around a value's placeholder dim."""

    highlights: ClassVar[list[str]] = [
        r"^(?P<types_sep>(\[|<))",
        r"(?P<types_sep>\|)",
        r"(?P<types_sep>(\]|>))(\.\.\.)?$",
    ]


_HIGHLIGHT = _OptionHighlighter()
_EMOJI_CODE = re.compile(r":\S*?:")  # what rich's emoji replacement looks for (its table takes ~2 ms to load)


def _markup(text: str) -> Text:
    """Help text as typer renders it (rich markup, emoji codes), highlighted; the emoji table only if needed."""
    return _HIGHLIGHT(Text.from_markup(text, emoji=_EMOJI_CODE.search(text) is not None))


def _console() -> Console:
    """A console configured from the environment variables typer's help console honours."""
    width = os.environ.get("TERMINAL_WIDTH")
    force = True if any(os.environ.get(name) for name in ("GITHUB_ACTIONS", "FORCE_COLOR", "PY_COLORS")) else None
    if os.environ.get("_TYPER_FORCE_DISABLE_TERMINAL"):
        force = False
    return Console(theme=_THEME, highlighter=_HIGHLIGHT, force_terminal=force, width=int(width) if width else None)


def _table() -> Table:
    return Table(highlight=False, show_header=False, expand=True, box=None, pad_edge=False, padding=(0, 1))


def _options_panel() -> Panel:
    table = _table()
    types = _TypesHighlighter()
    for option in ROOT_OPTIONS:
        long_names = ",".join(flag for flag in option.flags if flag.startswith("--"))
        short_names = ",".join(flag for flag in option.flags if not flag.startswith("--"))
        # typer's columns: long, short, negative long, negative short (none here), value type, help
        table.add_row(
            _HIGHLIGHT(long_names),
            _HIGHLIGHT(short_names),
            Text(),  # Text, not str: a str cell or title would go through the emoji table too
            Text(),
            types(Text(option.metavar, style="bold yellow", overflow="fold")),
            Columns([_markup(option.help)]),  # as typer: the help column takes the width
        )
    return Panel(table, border_style=_BORDER, title=Text("Options"), title_align="left")


def _commands_panel() -> Panel:
    table = _table()
    table.add_column(style="bold cyan", no_wrap=True, width=max(len(name) for name in COMMANDS))
    table.add_column("Description", justify="left", no_wrap=False, ratio=10)  # greedy, like typer's
    for name, (_, help_text) in COMMANDS.items():
        table.add_row(Text(name), _markup(help_text))
    return Panel(table, border_style=_BORDER, title=Text("Commands"), title_align="left")


def print_root_help() -> None:
    """Print the root help to stdout: what typer prints for ``humortune --help``."""
    console = _console()
    console.print(Padding(_HIGHLIGHT(f"Usage: {ROOT_USAGE}"), 1), style="bold")
    console.print(Padding(_markup(ROOT_HELP), (0, 1, 1, 1)))
    console.print(_options_panel())
    console.print(_commands_panel())
    console.print()  # typer's help option echoes the (already printed) help text: one more newline
