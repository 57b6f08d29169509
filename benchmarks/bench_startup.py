"""Benchmark: how fast ``import humortune`` and ``humortune --help`` start, against bare Python (issue 13).

Each command runs in a fresh interpreter, interleaved with the baseline (``python -c pass``) so load on a
shared machine hits both alike; the figures are medians of ``--runs`` runs. ``humortune --help`` is the root
help drawn with rich alone (no typer, no command module); ``humortune import --help`` is typer's, with the
command's module. For reference it also times the root help as typer renders it (the path before issue 13's
last fix: typer, its click and ``typer.rich_utils``' markdown and pygments imports) and importing what
``import humortune`` used to load eagerly (pydantic models, settings, the corpus): that is now paid on first
use only, by the commands that need it.

Targets: ``humortune --help`` ≤ 8× ``python -c pass``; ``import humortune`` ≤ 100 ms over bare Python.

The interpreters write and reuse .pyc files (in a temporary ``PYTHONPYCACHEPREFIX``, even when the environment
sets ``PYTHONDONTWRITEBYTECODE``), as an installed package does. ``--no-site`` runs them with ``-S`` and this
one's ``sys.path``: a machine's ``.pth`` start-up hooks (which may import whole packages before ``pass``) then
count neither in the baseline nor in the cases — a stricter ratio than a plain install's, whose baseline
includes ``site``.

    python benchmarks/bench_startup.py [--runs 9] [--no-site]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HELP = "import sys; from humortune.cli import main; sys.exit(main(['--help']))"  # what the console script runs
TYPER_HELP = (  # the root help as typer draws it, from the same stand-in commands
    "import sys; from humortune.cli import _list_without_importing; from humortune.cli._app import run; "
    "_list_without_importing(); sys.exit(run(['--help']))"
)
CASES: dict[str, list[str]] = {
    "python -c pass (baseline)": ["-c", "pass"],
    "import humortune": ["-c", "import humortune"],
    "humortune --help": ["-c", HELP],
    "humortune import --help": ["-c", HELP.replace("'--help'", "'import', '--help'")],
    "  (root help via typer, for reference)": ["-c", TYPER_HELP],
    "  (old eager core, for reference)": [
        "-c",
        "import humortune.schema, humortune.prompts, humortune.settings, humortune.storage, humortune.workspace",
    ],
}


def _interpreter(no_site: bool, pycache: str) -> tuple[list[str], dict[str, str]]:
    """The command prefix and environment every case runs with."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": pycache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its .pyc files: compile once, not per run
    if not no_site:
        return [sys.executable], env
    env["PYTHONPATH"] = os.pathsep.join(sys.path[1:])  # the paths site would have added (sys.path[0]: this folder)
    return [sys.executable, "-S"], env


def _once(interpreter: tuple[list[str], dict[str, str]], args: list[str]) -> float:
    command, env = interpreter
    start = time.perf_counter()
    subprocess.run([*command, *args], check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--no-site", action="store_true", help="run with python -S (no .pth start-up hooks)")
    options = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in CASES}
    with tempfile.TemporaryDirectory() as pycache:  # .pyc files outside the source tree
        interpreter = _interpreter(options.no_site, pycache)
        for name in CASES:  # warm the OS file cache and .pyc files first
            _once(interpreter, CASES[name])
        for _ in range(options.runs):
            for name, args in CASES.items():
                times[name].append(_once(interpreter, args))
    median = {name: statistics.median(values) for name, values in times.items()}
    base = median["python -c pass (baseline)"]
    print(f"{'command':<36}{'median ms':>10}{'× bare':>8}{'over bare':>11}")
    for name, seconds in median.items():
        print(f"{name:<36}{seconds * 1000:>10.0f}{seconds / base:>8.1f}{(seconds - base) * 1000:>9.0f} ms")
    help_ratio = median["humortune --help"] / base
    import_over = (median["import humortune"] - base) * 1000
    print(f"humortune --help: {help_ratio:.1f}× bare Python — {'OK' if help_ratio <= 8 else 'OVER'} (target ≤ 8×)")
    print(f"import humortune: {import_over:.0f} ms over bare Python — "
          f"{'OK' if import_over <= 100 else 'OVER'} (target ≤ 100 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
