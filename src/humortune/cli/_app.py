"""The typer app, the shared options, and the one place errors become an exit code."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from humortune.errors import HumortuneError

if TYPE_CHECKING:  # loaded by the commands that use them, not by `humortune --help` (start-up time)
    from humortune.settings import Settings
    from humortune.workspace import Corpus

if TYPE_CHECKING:  # pragma: no cover
    from humortune.app import App

__all__ = ["State", "app", "command", "console", "err_console", "print_json", "run", "state"]

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
    _app: App | None = field(default=None, repr=False)

    def settings(self, **overrides: Any) -> Settings:
        """Effective settings: command-line options win over env, toml and defaults."""
        from humortune.settings import Settings

        if self.workspace is not None:
            overrides.setdefault("workspace", self.workspace)
        if self.offline is not None:
            overrides.setdefault("offline", self.offline)
        return Settings(**overrides)

    def corpus(self, settings: Settings | None = None) -> Corpus:
        """Open the workspace's corpus."""
        from humortune.workspace import Corpus

        return Corpus.open(settings=settings or self.settings())

    def app(self, **overrides: Any) -> App:
        """The command's `App` over the effective settings: one per invocation (the first call's ``overrides``
        decide), built lazily and closed when the command ends."""
        if self._app is None:
            from humortune.app import App

            self._app = App(self.settings(**overrides))
            ctx = _current_context()
            if ctx is not None:
                ctx.find_root().call_on_close(self.close)
        return self._app

    def close(self) -> None:
        """Close the command's App, if one was built (idempotent)."""
        built, self._app = self._app, None
        if built is not None:
            built.close()


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
    offline: Annotated[
        bool, typer.Option("--offline", help="Use the bundled FakeGemini (no credentials, no cost).")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Teach Gemini to read short-form video the way its owner does."""
    if workspace is not None:
        _STATE.workspace = workspace
    if offline:
        _STATE.offline = True
    _STATE.debug = _STATE.debug or debug


_GLOBAL_PANEL = "Global options"
_GLOBAL_NAMES = ("workspace", "offline", "debug")


def print_json(value: Any) -> None:
    """Print a listing's ``--json`` output: plain JSON on stdout, never wrapped or coloured."""
    print(json.dumps(value, ensure_ascii=False, indent=1, default=str))


def _remember(name: str) -> Any:
    """A callback that records a global option given after the subcommand (unset values change nothing)."""

    def remember(_ctx: Any, _param: Any, value: Any) -> None:
        if value is not None and value is not False:
            setattr(_STATE, name, value)

    return remember


def _global_options(root: Any) -> list[Any]:
    """Copies of the root's options, so they also work (and show in --help) after the subcommand."""
    options = []
    for param in root.params:
        if param.name in _GLOBAL_NAMES:
            option = copy.copy(param)
            option.expose_value = False
            option.callback = _remember(param.name)
            option.rich_help_panel = _GLOBAL_PANEL
            options.append(option)
    return options


def _usage_name(argument: Any) -> Any:
    name = str(argument.name).upper()
    name = name if argument.required else f"[{name}]"
    return lambda _ctx: [name + ("..." if argument.nargs != 1 else "")]


def _plain_flags(cmd: Any) -> None:
    for param in cmd.params:
        if param.param_type_name == "option" and param.is_flag:
            param.metavar = ""
    make_help_option = cmd.get_help_option

    def help_option(ctx: Any) -> Any:
        option = make_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option

    cmd.get_help_option = help_option


def _polish(cmd: Any, global_options: list[Any]) -> None:
    """Add the global options to every subcommand; plain flags and argument names in conventional help.

    typer shows ``<bool>`` beside every flag and ``{name}`` for required arguments; the usual ``--flag`` and
    ``NAME`` read better and match the docs.
    """
    taken = {opt for param in cmd.params for opt in getattr(param, "opts", [])}
    cmd.params.extend(o for o in global_options if not taken.intersection(o.opts))
    _plain_flags(cmd)
    for param in cmd.params:
        if param.param_type_name == "argument":
            param.get_usage_pieces = _usage_name(param)
    for sub in getattr(cmd, "commands", {}).values():
        _polish(sub, global_options)


def command() -> Any:
    """The click command behind `app`, with the global options on every subcommand."""
    root = typer.main.get_command(app)
    _plain_flags(root)
    globals_ = _global_options(root)
    for sub in getattr(root, "commands", {}).values():
        _polish(sub, globals_)
    return root


def run(argv: list[str]) -> int:
    """Run the CLI; a `HumortuneError` prints as one line (traceback only with ``--debug``)."""
    _STATE.close()
    _STATE.__init__()  # type: ignore[misc]  # fresh state per invocation (tests call main() repeatedly)
    debug = "--debug" in argv
    try:
        result = command().main(args=argv, prog_name="humortune", standalone_mode=False)
    except HumortuneError as exc:
        if debug:
            err_console.print_exception()
        from humortune.urls import (
            redact,  # an error may name a signed URL; escaped: hints such as pip install 'humortune[ui]' are not markup
        )

        err_console.print(f"[bold red]error:[/] {type(exc).__name__}: {escape(redact(str(exc)))}", soft_wrap=True)
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
    finally:
        _STATE.close()  # the command's App (click closes it too; closing is idempotent)
    return result if isinstance(result, int) else 0


def _current_context() -> Any:
    """The running command's click context, or ``None``. typer ≥ 0.2x ships its own click (``typer._click``) and
    no longer installs the ``click`` package, so a bare ``import click`` fails on a fresh install."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # older typer: the real click package
        from click import get_current_context  # type: ignore[no-redef]
    return get_current_context(silent=True)
