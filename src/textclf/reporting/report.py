"""A pull-request report: what the workspace changed against a git ref, as one markdown file.

It asks DVC for the metrics and params diffs and for every declared plot at
both revisions, keeps the plots whose data changed, and renders DVC's
Vega-Lite specs to PNG with vl-convert, so no browser (and no network) is
needed: the report builds the same on a laptop and in CI, and CML can post it.

A new report is built beside the old one and swapped in only when complete,
and it only ever replaces a report: never a file or folder someone else made.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from textclf.core import outputs
from textclf.core.errors import TextclfError

# A report only ever replaces a report: its markdown starts with this line and
# its image folder holds this file, so `--out metrics.md` cannot wipe metrics/.
MARKER_LINE = "<!-- textclf report -->"
MARKER_FILE = ".textclf-report"


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


def _table_or(markdown_table: str, nothing: str) -> str:
    """DVC's ``--md`` table, or ``nothing`` when it has no rows: DVC prints the header alone when nothing changed."""
    lines = markdown_table.strip().splitlines()
    return "\n".join(lines) if len(lines) > 2 else nothing


def _write_report(project: Path, ref: str, markdown: Path, images: Path, dvc_plots: Path) -> None:
    """Write the report to ``markdown``, its images to ``images`` (a sibling); ``dvc_plots`` is scratch space."""
    images.mkdir()
    (images / MARKER_FILE).write_text("Written by `textclf report`: the next report replaces this folder.\n")
    metrics = dvc(project, "metrics", "diff", ref, "--md", "--precision", "4")
    all_metrics = dvc(project, "metrics", "diff", ref, "--all", "--md", "--precision", "4")
    params = dvc(project, "params", "diff", ref, "--md")
    plots = json.loads(dvc(project, "plots", "diff", ref, "--json", "-o", str(dvc_plots)))
    changed, unchanged = changed_plots(plots.get("data", {}), ref)

    lines = [MARKER_LINE, f"# Experiment report: workspace against `{ref}`", "", "## Metrics that changed", "",
             _table_or(metrics, "No metric changed."), "", "<details><summary>Every metric</summary>", "",
             _table_or(all_metrics, "No metrics."), "", "</details>", "", "## Params that changed", "",
             _table_or(params, "No param changed."), "", "## Plots that changed", ""]
    if not changed:
        lines.append("No plot changed.")
    for name, entry in changed:
        lines += [f"### {name}", ""]
        if entry["type"] == "vega":
            image = images / f"{_slug(name)}.png"
            image.write_bytes(render_vega_lite(entry["content"]))
            lines += [f"![{name}]({image.relative_to(markdown.parent).as_posix()})", ""]
            continue
        cells = []
        for revision in (ref, "workspace"):
            url = entry["urls"].get(revision)
            if url is None:
                cells.append("(absent)")
                continue
            image = images / f"{_slug(name)}-{_slug(revision)}.png"
            shutil.copyfile(url, image)
            cells.append(f"![{name} at {revision}]({image.relative_to(markdown.parent).as_posix()})")
        lines += [f"| `{ref}` | workspace |", "|---|---|", f"| {cells[0]} | {cells[1]} |", ""]
    if unchanged:
        lines += ["", f"Unchanged plots: {', '.join(unchanged)}."]
    markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _check_project(project: Path) -> None:
    if not project.is_dir():
        raise TextclfError(f"--project {project} is not a directory")
    if not (project / "dvc.yaml").is_file():
        raise TextclfError(f"--project {project} has no dvc.yaml; it must be a DVC project")


def _image_folder(out: Path) -> Path:
    """The folder beside ``out`` that holds its images: ``report/`` for ``report.md``."""
    # The suffix is what tells the markdown from its image folder; "..md" would make that folder ".".
    if out.suffix.lower() != ".md" or out.stem in (".", ".."):
        raise TextclfError(f"--out {out} must name a markdown file ending in .md")
    if out.is_dir():
        raise TextclfError(f"--out {out} is a directory, not a markdown file")
    return out.with_suffix("")


def _written_by_report(markdown: Path) -> bool:
    if not markdown.is_file():
        return False
    with markdown.open("rb") as file:
        return file.readline(len(MARKER_LINE) + 2).rstrip(b"\r\n") == MARKER_LINE.encode()


def _refuse_to_replace_what_is_not_a_report(out: Path, images: Path) -> None:
    """A new report replaces the old one and its image folder: only ever those a report wrote."""
    if os.path.lexists(out) and not _written_by_report(out):
        raise TextclfError(f"{out} exists and was not written by textclf report; pick another --out or remove it")
    if os.path.lexists(images) and not (images / MARKER_FILE).is_file():
        raise TextclfError(f"the images of --out {out} would go to {images}/, which exists and was not written by "
                           "textclf report; pick another --out")


def _swap_in(new: Path, out: Path, images: Path, previous_images: Path) -> None:
    """Move the report built in ``new`` to ``out`` and ``images``; the old images go to ``previous_images``.

    The markdown moves last, in one atomic replace: until then the old report
    stands, so a failure (or Ctrl-C) puts the old images back before it is raised.
    """
    try:
        if images.exists():
            images.rename(previous_images)
        (new / images.name).rename(images)
        os.replace(new / out.name, out)
    except BaseException:
        if (new / out.name).exists():  # the old markdown still stands: give it back its images
            if not (new / images.name).exists() and images.exists():
                images.rename(new / images.name)
            if previous_images.exists():
                previous_images.rename(images)
        raise


def build(project: Path, ref: str, out: Path) -> Path:
    """Write ``out`` (markdown) and its images in a folder beside it, named after it; return ``out``.

    Both are built in a temporary folder beside ``out`` and replace the previous
    report only once complete, so a failed or interrupted run leaves it whole.
    """
    _check_project(project)
    images = _image_folder(out)
    try:
        _refuse_to_replace_what_is_not_a_report(out, images)
        out.parent.mkdir(parents=True, exist_ok=True)
        # Absolute, because dvc runs in the project directory and writes its plots there.
        building = out.parent.absolute() / f"{out.stem}-report"
        outputs.remove_stale_temporaries(building)  # of report runs killed before they could clean up
        temporary = outputs.temporary_path(building)
        new = temporary / "new"
        try:
            shutil.rmtree(temporary, ignore_errors=True)
            new.mkdir(parents=True)  # inside the try: a Ctrl-C just after it must still remove it
            _write_report(project, ref, new / out.name, new / images.name, temporary / "dvc-plots")
            _swap_in(new, out, images, temporary / "previous-images")
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
    except OSError as error:
        raise TextclfError(f"could not write the report {out}: {error}") from error
    return out
