"""Reports: the JSON (the record) and a self-contained HTML page rendered from exactly that JSON.

The terminal summary of the same JSON is drawn by the CLI (`humortune.cli._render.print_summary`).

The HTML has no scripts and loads nothing: charts are inline SVG, styles inline. Every figure in it carries
``data-key`` (a JSON Pointer into the JSON report), so a test — or a reader — can check that the page shows
what the JSON says.

A report is written only when what it shows changed (`report_digest`: everything but when it ran and what that
run's judges spent), so a warm rerun leaves the files alone. With a `humortune.storage.Storage`, both files are
also stored under ``evaluations/reports/<id>/<digest>/`` (put-if-absent), where the review app reads them on
any machine that shares the workspace's storage.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from humortune._util import atomic_write
from humortune._version import __version__
from humortune.errors import EvaluationError, HumortuneError
from humortune.evaluator import charts
from humortune.evaluator.metrics import ENUM_FIELDS, TEXT_FIELDS
from humortune.evaluator.results import ROLE_LABELS, EvaluationReport

if TYPE_CHECKING:  # pragma: no cover
    from humortune.storage.base import Storage

__all__ = [
    "REPORT_PREFIX",
    "SavedReport",
    "json_pointer",
    "load_report",
    "render_html",
    "report_digest",
    "report_key",
    "report_title",
    "save_report",
    "shows_report",
    "write_report",
]

REPORT_PREFIX = "evaluations/reports/"
_LAYOUT = "1"
"""Part of every report digest: bump it when the page changes for the same JSON (template, charts)."""
_DIGEST_FILE = ".digest"  # beside report.json/report.html: the digest of what they show, written last

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


def report_digest(data: dict[str, Any]) -> str:
    """What a report shows, as a sha256: its JSON without ``created_at`` and without the judges' spend of
    the run that made it (a rerun served from the caches shows the same figures, so its files stay)."""
    content = {k: v for k, v in data.items() if k != "created_at"}
    judges = content.get("judges")
    if isinstance(judges, dict):
        content["judges"] = {k: _unspent(v) for k, v in judges.items()}
    # The C encoder (no indent, NaN allowed): cheap next to rendering. Keys keep their order (the report is
    # built in one order; another order only costs a rewrite), sorting them tripled the cost.
    text = json.dumps([__version__, _LAYOUT, content], ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _unspent(value: Any) -> Any:
    return {k: v for k, v in value.items() if k not in ("usage", "cost_usd")} if isinstance(value, dict) else value


def report_key(evaluation_id: str, digest: str, name: str = "report.html") -> str:
    """``evaluations/reports/<evaluation id>/<digest>/<name>``: where a report's files are stored."""
    return f"{REPORT_PREFIX}{evaluation_id}/{digest[:32]}/{name}"


@dataclass(frozen=True, slots=True)
class SavedReport:
    """Where a report's HTML is: the local file, and its storage key (with a storage); whether anything
    was written this time."""

    html_path: Path
    digest: str
    storage_key: str | None = None
    written: bool = False
    problem: str | None = None
    """Why the report is not in storage, when storing it failed (the local files are written all the same)."""


def save_report(
    report: EvaluationReport | dict[str, Any], directory: str | Path, *, storage: Storage | None = None
) -> SavedReport:
    """Write ``report.json`` and ``report.html`` into ``directory`` (atomically) unless they already show
    this report, and store both in ``storage`` unless they are there."""
    data = report.as_dict() if isinstance(report, EvaluationReport) else report
    digest = report_digest(data)
    folder = Path(directory)
    html_path, html = folder / "report.html", None
    written = not shows_report(folder, digest)
    if written:
        clean = _clean(data)
        html = render_html(clean)
        with atomic_write(folder / "report.json", "w") as fh:
            fh.write(json.dumps(clean, ensure_ascii=False, indent=1))
        with atomic_write(html_path, "w") as fh:
            fh.write(html)
        with atomic_write(folder / _DIGEST_FILE, "w") as fh:
            fh.write(digest)
    if storage is None:
        return SavedReport(html_path, digest, None, written)
    key = report_key(str(data["id"]), digest)
    try:
        if not storage.exists(key):
            json_bytes = (folder / "report.json").read_bytes()
            storage.put_bytes(report_key(str(data["id"]), digest, "report.json"), json_bytes, content_type=_JSON)
            page = html.encode("utf-8") if html is not None else html_path.read_bytes()
            storage.put_bytes(key, page, content_type=_HTML)  # last: the page is what readers look for
            written = True
    except HumortuneError as exc:  # the evaluation is not lost for it: the local report is there
        problem = f"the report could not be stored in {storage.root_uri}: {exc.message}"
        return SavedReport(html_path, digest, None, written, problem)
    return SavedReport(html_path, digest, key, written)


_JSON, _HTML = "application/json", "text/html; charset=utf-8"


def shows_report(folder: Path, digest: str) -> bool:
    """Whether the report files in ``folder`` are there and show the report with this digest."""
    try:
        recorded = (folder / _DIGEST_FILE).read_text("utf-8")
    except OSError:
        return False
    return recorded == digest and (folder / "report.json").is_file() and (folder / "report.html").is_file()


def write_report(
    report: EvaluationReport | dict[str, Any], directory: str | Path, *, storage: Storage | None = None
) -> Path:
    """Write ``report.json`` and ``report.html`` into ``directory`` (see `save_report`); returns the HTML path."""
    return save_report(report, directory, storage=storage).html_path


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
