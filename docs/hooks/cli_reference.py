"""mkdocs hook: replace ``<!-- cli-reference -->`` with the live ``--help`` of every command.

The CLI reference is generated from the typer app at build time, so it can never drift from the code.
"""

from __future__ import annotations

import contextlib
import io
import os
from typing import Any

MARKER = "<!-- cli-reference -->"


def _help(command: Any, ctx: Any) -> str:
    # typer prints rich help straight to stdout (get_help returns ""); capture it as plain text.
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        text = command.get_help(ctx)
    lines = [line.rstrip() for line in (text or buffer.getvalue()).splitlines()]
    return "\n".join(lines).strip("\n")


def _render() -> str:
    os.environ.setdefault("NO_COLOR", "1")
    os.environ["COLUMNS"] = "100"
    import typer

    from humortune.cli import _register_commands, app

    _register_commands()
    root = typer.main.get_command(app)
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
