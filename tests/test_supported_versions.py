"""The dependency ranges in pyproject.toml are the ones the docs state, and the schema oracle does not pin genai."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

REPO = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
DOCS = (REPO / "docs" / "tuning.md").read_text("utf-8")


def _requirements() -> dict[str, Requirement]:
    lines = [*PROJECT["dependencies"], *(d for group in PROJECT["optional-dependencies"].values() for d in group)]
    found = [Requirement(line) for line in lines]
    return {r.name: r for r in found}


def test_google_genai_3_is_allowed_and_2_34_still_is() -> None:
    spec = _requirements()["google-genai"].specifier
    assert spec.contains("3.6.1") and spec.contains("2.34.0") and not spec.contains("4.0.0")


def test_yt_dlp_has_no_upper_bound_and_pyav_19_is_allowed() -> None:
    reqs = _requirements()
    assert not any(s.operator in ("<", "<=", "==", "~=") for s in reqs["yt-dlp"].specifier)
    assert reqs["av"].specifier.contains("19.0.2")


def test_aiplatform_is_gone_and_nothing_imports_it() -> None:
    assert "google-cloud-aiplatform" not in _requirements()
    assert "google-api-python-client" in _requirements()  # the discovery documents
    pattern = re.compile(r"^\s*(from|import) google\.cloud\.aiplatform", re.MULTILINE)
    sources = [*REPO.glob("src/**/*.py"), *REPO.glob("tests/**/*.py"), *REPO.glob("examples/**/*.py")]
    assert [p.name for p in sources if pattern.search(p.read_text("utf-8"))] == []


def test_docs_state_the_ranges_of_pyproject() -> None:
    section = DOCS.split("## Supported versions", 1)[1].split("\n## ", 1)[0]
    for name in ("google-genai", "av", "google-api-python-client"):
        row = next(line for line in section.splitlines() if line.startswith(f"| `{name}`"))
        stated = SpecifierSet(row.split("|")[2].strip().split("`")[1])
        assert stated == _requirements()[name].specifier, (name, row)
    assert "no upper bound" in next(line for line in section.splitlines() if line.startswith("| `yt-dlp`"))
