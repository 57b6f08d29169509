"""Feedback commands: ``review`` (the browser UI), ``retrain`` (the retraining policy), ``niches``."""

from __future__ import annotations

import socket
from typing import Annotated

import typer

from humortune.cli._app import app, console, err_console, state

_WILDCARD = {"0.0.0.0", "::", ""}


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@app.command()
def review(
    host: Annotated[
        str, typer.Option("--host", help="Interface to bind. Keep 127.0.0.1 unless you know why not.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: pick a free one).", min=0, max=65535)] = 8765,
    offline: Annotated[bool, typer.Option("--offline", help="Use FakeGemini for any analysis the app runs.")] = False,
) -> None:
    """Open the review UI: correct the model's readings of clips in the browser, with the keyboard.

    Prints a URL with a fresh random token; every request (pages, video bytes) needs it. The same app serves
    the JSON API of `humortune serve` under /v1 (same token).
    """
    import uvicorn

    from humortune.feedback import ReviewSecurity, create_review_app
    from humortune.feedback.security import loopback_hosts

    settings = state().settings(**({"offline": True} if offline else {}))
    loopback = host in loopback_hosts()
    allowed = None if host in _WILDCARD else loopback_hosts() | {host}
    security = ReviewSecurity(allowed_hosts=allowed)
    if not loopback:
        err_console.print(
            f"[yellow]warning:[/] binding to {host}: the review UI is reachable from the network, protected only by"
            " the token, over plain HTTP. Prefer 127.0.0.1 and an SSH tunnel."
        )
    if port == 0:
        port = _free_port("127.0.0.1" if host in _WILDCARD else host)
    app_ = create_review_app(settings, security=security)
    shown = "127.0.0.1" if host in _WILDCARD else (f"[{host}]" if ":" in host else host)
    console.print(f"review UI for workspace [bold]{settings.workspace}[/]")
    console.print(f"open: http://{shown}:{port}/review/?token={security.token}", soft_wrap=True)
    console.print("press ? in the page for keyboard shortcuts; Ctrl+C here to stop")
    # No access log: the first request carries the token in its query string.
    uvicorn.run(app_, host=host, port=port, log_level="warning", access_log=False)
