"""The typer app, the shared options, and the one place errors become an exit code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from humortune.errors import HumortuneError
from humortune.settings import Settings
from humortune.workspace import Corpus

__all__ = ["State", "app", "console", "err_console", "run", "state"]

app = typer.Typer(
    name="humortune",
    help="Teach Gemini to read short-form video the way its owner does.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@dataclass
class State:
    """Options given before the command, shared by every command."""

    workspace: Path | None = None
    debug: bool = False
    offline: bool | None = None

    def settings(self, **overrides: Any) -> Settings:
        """Effective settings: command-line options win over env, toml and defaults."""
        if self.workspace is not None:
            overrides.setdefault("workspace", self.workspace)
        if self.offline is not None:
            overrides.setdefault("offline", self.offline)
        return Settings(**overrides)

    def corpus(self, settings: Settings | None = None) -> Corpus:
        """Open the workspace's corpus."""
        return Corpus.open(settings=settings or self.settings())


_STATE = State()


def state() -> State:
    """The options of the current invocation."""
    return _STATE


@app.callback()
def _root(
    workspace: Annotated[
        Path | None,
        typer.Option("--workspace", "-w", help="Workspace directory (env HUMORTUNE_WORKSPACE; default .humortune)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Teach Gemini to read short-form video the way its owner does."""
    _STATE.workspace = workspace
    _STATE.debug = debug


def run(argv: list[str]) -> int:
    """Run the CLI; a `HumortuneError` prints as one line (traceback only with ``--debug``)."""
    _STATE.__init__()  # type: ignore[misc]  # fresh state per invocation (tests call main() repeatedly)
    debug = "--debug" in argv
    try:
        result = app(args=argv, prog_name="humortune", standalone_mode=False)
    except HumortuneError as exc:
        if debug:
            err_console.print_exception()
        from humortune.urls import redact  # an error may name a signed URL or one with credentials

        err_console.print(f"[bold red]error:[/] {type(exc).__name__}: {redact(str(exc))}", soft_wrap=True)
        return 1
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        return 130
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    except typer.TyperException as exc:  # usage errors: typer shows them the usual way
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        return int(getattr(exc, "exit_code", 2))
    return result if isinstance(result, int) else 0
