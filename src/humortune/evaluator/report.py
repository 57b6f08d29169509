"""Reports: the JSON (the record) and a self-contained HTML page rendered from exactly that JSON.

The terminal summary of the same JSON is drawn by the CLI (`humortune.cli._render.print_summary`).

The HTML has no scripts and loads nothing: charts are inline SVG, styles inline. Every figure in it carries
``data-key`` (a JSON Pointer into the JSON report), so a test — or a reader — can check that the page shows
what the JSON says.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from humortune._util import atomic_write
from humortune._version import __version__
from humortune.errors import EvaluationError
from humortune.evaluator import charts
from humortune.evaluator.metrics import ENUM_FIELDS, TEXT_FIELDS
from humortune.evaluator.results import ROLE_LABELS, EvaluationReport

__all__ = ["json_pointer", "load_report", "render_html", "report_title", "write_report"]

_ENV: Environment | None = None


def _env() -> Environment:
    global _ENV
    if _ENV is None:
        env = Environment(
            loader=PackageLoader("humortune.evaluator", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.globals.update(num=_num, ptr=json_pointer, heat=_heat)
        _ENV = env
    return _ENV


def json_pointer(*parts: object) -> str:
    """RFC 6901 pointer to a value in the JSON report, e.g. ``/comparison/win_rate/low``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _num(value: Any, key: str, digits: int = 3) -> Markup:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Markup(f'<span class="num" data-key="{escape(key)}" data-null="true">—</span>')
    text = f"{value:.{digits}f}" if digits else f"{round(value):d}"
    return Markup(f'<span class="num" data-key="{escape(key)}" data-digits="{digits}">{text}</span>')


def _heat(value: int, total: int, diagonal: bool) -> str:
    if not value or not total:
        return "transparent"
    alpha = min(0.85, 0.15 + 2.5 * value / total)
    return f"rgba(26,138,122,{alpha:.2f})" if diagonal else f"rgba(192,80,77,{alpha:.2f})"


def _clean(value: Any) -> Any:
    # NaN is not JSON: an empty slice's interval becomes null.
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def report_title(data: dict[str, Any]) -> str:
    """The report's heading: what was evaluated, or which two models were compared."""
    if data["kind"] == "compare":
        return f"Comparison: {data['model']} vs {data['reference_model']}"
    return f"Evaluation of {data['model']}"


def render_html(data: dict[str, Any]) -> str:
    """The self-contained HTML page for a JSON report (`EvaluationReport.as_dict`)."""
    data = _clean(data)
    roles = [(s["role"], s["label"]) for s in data["systems"]]
    rendered: dict[str, Markup] = {"histogram": charts.histogram(data["systems"])}
    if data.get("comparison"):
        rendered["win_rate"] = charts.win_rate_chart(data["comparison"])
    for dim, groups in data.get("slices", {}).items():
        rendered[f"slices_{dim}"] = charts.slice_win_rates(groups, title=f"Win rate by {dim}")
    for dim, groups in data.get("slice_means", {}).items():
        rendered[f"means_{dim}"] = charts.slice_means_chart(groups, roles, title=f"Mean score by {dim}")
    template = _env().get_template("report.html.j2")
    return template.render(
        d=data,
        title=report_title(data),
        version=__version__,
        charts=rendered,
        columns=roles,
        records=[(i, s) for i, s in enumerate(data["systems"]) if s.get("record")],
        enum_fields=ENUM_FIELDS,
        text_fields=TEXT_FIELDS,
        subject_label=ROLE_LABELS.get(data["subject"], data["subject"]),
        reference_label=ROLE_LABELS.get(data.get("reference_role") or "", data.get("reference_role") or ""),
    )


def write_report(report: EvaluationReport | dict[str, Any], directory: str | Path) -> Path:
    """Write ``report.json`` and ``report.html`` into ``directory`` (atomically); returns the HTML path."""
    data = _clean(report.as_dict() if isinstance(report, EvaluationReport) else report)
    folder = Path(directory)
    with atomic_write(folder / "report.json", "w") as fh:
        fh.write(json.dumps(data, ensure_ascii=False, indent=1))
    html_path = folder / "report.html"
    with atomic_write(html_path, "w") as fh:
        fh.write(render_html(data))
    return html_path


def load_report(path: str | Path) -> dict[str, Any]:
    """Read a JSON report (the file, or the folder holding ``report.json``)."""
    file = Path(path)
    if file.is_dir() or file.suffix == ".html":
        file = (file if file.is_dir() else file.parent) / "report.json"
    try:
        data: dict[str, Any] = json.loads(file.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise EvaluationError(
            f"cannot read the report: {exc}", hint="run humortune eval or compare again", item=str(file)
        ) from exc
    return data
