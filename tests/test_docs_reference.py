"""The reference docs: the CLI reference is not cut, data classes show their fields, no placeholder links."""

from __future__ import annotations

import importlib.util
import re
from types import ModuleType

import pydantic

import humortune

from .conftest import REPO


def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cli_reference", REPO / "docs" / "hooks" / "cli_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_has_no_boxes_to_cut_and_fits_its_width() -> None:
    hook = _hook()
    text = hook._render()
    assert not set("╭╮╰╯│") & set(text)
    assert max(len(line) for line in text.splitlines()) <= hook.WIDTH + 1
    prepare = text[text.index("## humortune prepare") :]
    prepare = prepare[: prepare.index("\n## ")]
    assert "Usage: humortune prepare [OPTIONS] BATTERY" in prepare
    assert "Global options:" in prepare and "--workspace" in prepare and "<bool>" not in prepare


def test_public_data_classes_show_their_fields_in_the_api_reference() -> None:
    api = (REPO / "docs" / "api.md").read_text("utf-8")
    models = [
        name
        for name in humortune.__all__
        if isinstance(getattr(humortune, name), type) and issubclass(getattr(humortune, name), pydantic.BaseModel)
    ]
    assert {"Analysis", "HumorRecord", "DatasetVersion", "TunedModel"} <= set(models)
    for name in models:
        directive = re.search(rf"^::: humortune\.{name}\n((?:    .*\n)*)", api, flags=re.M)
        if directive is None:  # documented on its guide page instead
            continue
        assert "show_if_no_docstring: true" in directive.group(1), name


def test_no_placeholder_project_links() -> None:
    for path in ("mkdocs.yml", "pyproject.toml", "README.md"):
        assert "example.invalid" not in (REPO / path).read_text("utf-8"), path
