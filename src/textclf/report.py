"""A pull-request report: what the workspace changed against a git ref, as one markdown file.

It asks DVC for the metrics and params diffs and for every declared plot at
both revisions, keeps the plots whose data changed, and renders DVC's
Vega-Lite specs to PNG with vl-convert, so no browser (and no network) is
needed: the report builds the same on a laptop and in CI, and CML can post it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from textclf.errors import TextclfError


def dvc(project: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=project, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()] or ["(no message)"]
        raise TextclfError(f"`dvc {' '.join(args)}` failed: {lines[-1]}")
    return result.stdout


def _rows_by_revision(spec: dict) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for row in spec.get("data", {}).get("values", []):
        rows.setdefault(row.get("rev"), []).append({key: value for key, value in row.items() if key != "rev"})
    return rows


def changed_plots(plots: dict, ref: str) -> tuple[list[tuple[str, dict]], list[str]]:
    """(changed plots as (name, entry), unchanged plot names) from ``dvc plots diff --json``'s data.

    A Vega plot changed when its data rows differ between ``ref`` and the
    workspace; an image plot when its bytes do.
    """
    changed, unchanged = [], []
    for name, entries in plots.items():
        if entries and entries[0]["type"] == "vega":
            rows = _rows_by_revision(entries[0]["content"])
            differs = rows.get(ref) != rows.get("workspace")
            entry = entries[0]
        else:
            by_revision = {entry["revisions"][0]: Path(entry["url"]).read_bytes() for entry in entries}
            differs = by_revision.get(ref) != by_revision.get("workspace")
            entry = {"type": "image", "urls": {entry["revisions"][0]: entry["url"] for entry in entries}}
        (changed.append((name, entry)) if differs else unchanged.append(name))
    return changed, unchanged


def render_vega_lite(spec: dict) -> bytes:
    import vl_convert

    return vl_convert.vegalite_to_png(spec, scale=1.5)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def build(project: Path, ref: str, out: Path) -> Path:
    """Write ``out`` (markdown) and its images in a folder beside it, named after it; return ``out``."""
    images = out.with_suffix("")
    if images.exists():
        shutil.rmtree(images)
    images.mkdir(parents=True)
    metrics = dvc(project, "metrics", "diff", ref, "--md", "--precision", "4")
    all_metrics = dvc(project, "metrics", "diff", ref, "--all", "--md", "--precision", "4")
    params = dvc(project, "params", "diff", ref, "--md")
    plots = json.loads(dvc(project, "plots", "diff", ref, "--json", "-o", str(images / "dvc")))
    changed, unchanged = changed_plots(plots.get("data", {}), ref)

    lines = [f"# Experiment report: workspace against `{ref}`", "", "## Metrics that changed", "",
             metrics.strip() or "No metric changed.", "", "<details><summary>Every metric</summary>", "",
             all_metrics.strip() or "No metrics.", "", "</details>", "", "## Params that changed", "",
             params.strip() or "No param changed.", "", "## Plots that changed", ""]
    if not changed:
        lines.append("No plot changed.")
    for name, entry in changed:
        lines += [f"### {name}", ""]
        if entry["type"] == "vega":
            image = images / f"{_slug(name)}.png"
            image.write_bytes(render_vega_lite(entry["content"]))
            lines += [f"![{name}]({image.relative_to(out.parent).as_posix()})", ""]
            continue
        cells = []
        for revision in (ref, "workspace"):
            url = entry["urls"].get(revision)
            if url is None:
                cells.append("(absent)")
                continue
            image = images / f"{_slug(name)}-{_slug(revision)}.png"
            shutil.copyfile(url, image)
            cells.append(f"![{name} at {revision}]({image.relative_to(out.parent).as_posix()})")
        lines += [f"| `{ref}` | workspace |", "|---|---|", f"| {cells[0]} | {cells[1]} |", ""]
    if unchanged:
        lines += ["", f"Unchanged plots: {', '.join(unchanged)}."]
    shutil.rmtree(images / "dvc", ignore_errors=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
