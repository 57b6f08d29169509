"""The public API imports, and `import humortune` stays light."""

from __future__ import annotations

import json
import subprocess
import sys

import humortune

HEAVY = ("google.genai", "google.cloud.storage", "google.cloud.aiplatform", "yt_dlp", "av", "fastapi")


def test_every_public_name_imports() -> None:
    for name in humortune.__all__:
        assert getattr(humortune, name) is not None, name


def test_all_is_sorted_and_unique() -> None:
    names = [n for n in humortune.__all__ if n != "__version__"]
    assert len(names) == len(set(names))


def test_unknown_attribute_raises() -> None:
    try:
        humortune.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_does_not_load_heavy_dependencies() -> None:
    code = (
        "import sys, json, time; before = set(sys.modules); t = time.perf_counter(); import humortune; "
        "dt = time.perf_counter() - t; print(json.dumps({'new': sorted(set(sys.modules) - before), 'dt': dt}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out)["new"]
    heavy = [m for m in loaded if m.startswith(HEAVY)]
    assert heavy == [], heavy


def test_import_loads_only_the_errors_until_a_name_is_used() -> None:
    # Start-up (issue 13): the catalog (dataclasses, inspect, datetime) and _util (hashlib, json, tempfile) wait.
    code = (
        "import sys, json; before = set(sys.modules); import humortune; after = set(sys.modules); "
        "module = humortune.catalog; from humortune import CatalogModel; "
        "print(json.dumps([sorted(after - before), module is sys.modules['humortune.catalog'], "
        "CatalogModel is module.CatalogModel]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded, catalog_is_the_module, same_class = json.loads(out)
    assert [m for m in loaded if m.startswith("humortune")] == [
        "humortune", "humortune._lazy", "humortune._version", "humortune.errors",
    ]  # fmt: skip
    assert sorted({"dataclasses", "datetime", "hashlib", "inspect", "shutil", "tempfile"} & set(loaded)) == []
    assert catalog_is_the_module and same_class


def test_import_builds_no_pydantic_model_until_first_use() -> None:
    # Start-up (issue 13): the pydantic models, pydantic-settings and asyncio load when a name is first used.
    code = (
        "import sys, json; before = set(sys.modules); import humortune; after = set(sys.modules); "
        "humortune.Correction; print(json.dumps([sorted(after - before), 'humortune.schema' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded, schema_after_use = json.loads(out)
    early = [m for m in loaded if m.startswith(("pydantic", "pydantic_settings", "asyncio", "humortune.schema"))]
    assert early == [] and schema_after_use


def test_the_cli_runs_without_the_click_package() -> None:
    """`pip install humortune` alone brings typer, which ships its own click: the CLI must not import `click`."""
    code = (
        "import sys\nsys.modules['click'] = None  # any `import click` now raises ImportError\n"
        "from humortune.cli import main\n"
        "try:\n    main(['status', '--help'])\nexcept SystemExit as exc:\n    sys.exit(exc.code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "status" in done.stdout
