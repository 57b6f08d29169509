"""mkdocs hook: replace ``<!-- cli-reference -->`` with the live ``--help`` of every command.

The CLI reference is generated from the typer app at build time, so it can never drift from the code.
The rich panels are unboxed (``╭─ Options ─╮`` becomes ``Options:``): a box wider than the page's code
block would be cut on the right, and the text reads the same without it.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from typing import Any

MARKER = "<!-- cli-reference -->"
WIDTH = 90  # help is laid out for this many columns; without boxes every line fits in it
_PANEL_TOP = re.compile(r"^╭─ (.+?) ─+╮$")


def _help(command: Any, ctx: Any) -> str:
    # typer prints rich help straight to stdout (get_help returns ""); capture it as plain text.
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        text = command.get_help(ctx)
    lines = [_unboxed(line.rstrip()) for line in (text or buffer.getvalue()).splitlines()]
    return "\n".join(line for line in lines if line is not None).strip("\n")


def _unboxed(line: str) -> str | None:
    """A help line without the panel's box: the title as a heading, the side bars gone, the bottom dropped."""
    top = _PANEL_TOP.match(line)
    if top:
        return f"{top.group(1)}:"
    if line.startswith("╰"):
        return ""
    if line.startswith("│") and line.endswith("│"):
        return line[1:-1].rstrip()
    return line


def _render() -> str:
    os.environ.setdefault("NO_COLOR", "1")
    os.environ["COLUMNS"] = str(WIDTH + 2)  # + the two box bars that are removed
    from humortune.cli import _register_commands
    from humortune.cli._app import command

    _register_commands()
    root = command()
    ctx = root.make_context("humortune", [], resilient_parsing=True)
    sections = ["```text", _help(root, ctx), "```"]
    commands: dict[str, Any] = getattr(root, "commands", {})
    for name in sorted(commands):
        command = commands[name]
        sub = command.make_context(name, [], parent=ctx, resilient_parsing=True)
        sections += [f"\n## humortune {name}\n", "```text", _help(command, sub), "```"]
        for child_name, child in sorted(getattr(command, "commands", {}).items()):
            child_ctx = child.make_context(child_name, [], parent=sub, resilient_parsing=True)
            sections += [f"\n### humortune {name} {child_name}\n", "```text", _help(child, child_ctx), "```"]
    return "\n".join(sections)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, _render())
    return markdown
