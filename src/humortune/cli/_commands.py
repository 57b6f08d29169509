"""Which module defines each top-level command, and its one-line help: root ``--help`` without importing them.

`humortune.cli.main` imports only the module(s) of the command being run; the root help is drawn from these
tables (`humortune.cli._root_help`) without importing typer or any command module (issue 13: start-up).
tests/test_cli_commands.py checks that `COMMANDS` matches the commands the modules really register, help text
included, and that `ROOT_OPTIONS` matches the root callback's options in `humortune.cli._app`.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["COMMANDS", "ROOT_HELP", "ROOT_OPTIONS", "ROOT_USAGE", "RootOption"]

ROOT_USAGE = "humortune [OPTIONS] COMMAND [ARGS]..."
ROOT_HELP = "Teach Gemini to read short-form video the way its owner does."


class RootOption(NamedTuple):
    """One option of the root command, as its help lists it."""

    flags: tuple[str, ...]  # long name first, then the short one
    metavar: str  # the value's placeholder, "" for a flag
    help: str


# In the order typer lists them: the root callback's parameters, then click's --help.
ROOT_OPTIONS: tuple[RootOption, ...] = (
    RootOption(("--workspace", "-w"), "<path>", "Workspace directory (env HUMORTUNE_WORKSPACE; default .humortune)."),
    RootOption(("--offline",), "", "Use the bundled FakeGemini (no credentials, no cost)."),
    RootOption(("--debug",), "", "Show tracebacks."),
    RootOption(("--help",), "", "Show this message and exit."),
)

COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "init": (("core",), "Create the workspace (database and local storage) if it does not exist."),
    "import": (("core",), "Import the owner's corrections from a battery file (idempotent)."),
    "status": (
        ("core",),
        "Where the workspace stands: current model, latest dataset, what is waiting, and the next command.",
    ),
    "config": (("core",), "Show the effective settings and where each value came from (secrets redacted)."),
    "prepare": (
        ("prepare",),
        "Import → ingest → build → validate → estimate: a battery becomes a tuning-ready dataset.",
    ),
    "ingest": (
        ("ingest",),
        "Download, probe and store every correction's video (idempotent; safe to interrupt and rerun).",
    ),
    "build": (("dataset",), "Build, validate and price a dataset version from the corpus (idempotent)."),
    "validate": (
        ("dataset",),
        "Check a dataset against Vertex AI's rules: per-line named errors and warnings. Exit 1 on errors.",
    ),
    "estimate": (
        ("dataset",),
        "Training tokens and cost as a low/high range, per split and in total, with the assumptions.",
    ),
    "tune": (
        ("tune",),
        "Submit a dataset version to Vertex AI supervised tuning (shows the cost; asks above the threshold).",
    ),
    "sweep": (
        ("tune",),
        "Submit a grid of jobs (epochs × lr × adapter size) under a cost cap; report them side by side.",
    ),
    "analyze": (
        ("analyze",),
        "Analyse clips with the tuned model: the owner's Swedish narrative plus a validated record.",
    ),
    "serve": (
        ("analyze",),
        "Run the JSON API (POST /v1/analyze, GET /v1/analyses/{id}, /docs) for apps that are not Python.",
    ),
    "eval": (
        ("evaluate",),
        "Score a model against the owner on the held-out clips, beside its base model and the old answers.",
    ),
    "compare": (
        ("evaluate",),
        "A/B two models on the same held-out clips: win/tie/loss, bootstrap CI, sign test, slices, gate verdict.",
    ),
    "promote": (
        ("evaluate",),
        "Compare a candidate with the alias's model, apply the promotion gate, and move the alias if you confirm.",
    ),
    "rollback": (
        ("evaluate",),
        "Restore the model that held the alias before the current one (recorded with the reason).",
    ),
    "report": (("evaluate",), "Show an evaluation's summary and (re)write its self-contained HTML report."),
    "calibrate": (("evaluate",), "Check the judges against the owner's own PASS/FAIL marks and blind A/B choices."),
    "aliases": (
        ("evaluate",),
        "Registry aliases (current, niche:…) and the recorded history of promotions, refusals and rollbacks.",
    ),
    "review": (
        ("review",),
        "Open the review UI: correct the model's readings of clips in the browser, with the keyboard.",
    ),
    "retrain": (
        ("review",),
        "Turn new corrections into an evaluated candidate model; the owner confirms it in `humortune review`.",
    ),
    "niches": (
        ("review",),
        "Per-niche models: which niches have enough corrections, their models, and where they beat the generalist.",
    ),
    "doctor": (
        ("doctor",),
        "Check settings, credentials, Vertex AI, the base model, the bucket and its IAM, disk and workspace.",
    ),
    "datasets": (("dataset",), "List, show and compare dataset versions."),
    "jobs": (("tune",), "Tuning jobs: list, show, wait, cancel."),
    "models": (("tune", "models"), "Tuned models and their lineage (no subcommand: list them)."),
    "batch": (("analyze",), "Vertex AI batch prediction jobs started with `humortune analyze --batch`."),
}
