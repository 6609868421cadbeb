"""A pull-request report: what the workspace changed against a git ref, summary first.

It opens with each dataset's models, their main metric at both revisions and
whether the change is beyond noise (``textclf.reporting.comparison``), then the
other metrics that moved, the params that changed, the plots whose data
changed (DVC's Vega-Lite specs rendered to PNG with vl-convert, so no browser
and no network are needed) and, collapsed, the metrics tables. It fits a
pull-request comment: the last sections are left out, with a line saying so,
until it does, and the uncut report is written beside it. ``textclf report``
without ``--out`` prints the summary (or, with ``--json``, its data).

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
from dataclasses import dataclass
from pathlib import Path

from textclf.core import outputs
from textclf.core.errors import TextclfError
from textclf.reporting import comparison

# A report only ever replaces a report: its markdown starts with this line and
# its image folder holds this file, so `--out metrics.md` cannot wipe metrics/.
MARKER_LINE = "<!-- textclf report -->"
MARKER_FILE = ".textclf-report"


def dvc(project: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=project, capture_output=True, text=True, check=False)
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


# The summary ----------------------------------------------------------------------------------------------------

MARKS = {comparison.BETTER: "▲ better", comparison.WORSE: "▼ worse", comparison.NOISE: "≈ within noise",
         comparison.UNCHANGED: "= unchanged", comparison.ADDED: "+ added", comparison.REMOVED: "− removed",
         comparison.UNTESTED: "? not tested"}


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _rank(change: comparison.ModelChange) -> str:
    if change.base_rank is None or change.head_rank is None or change.base_rank == change.head_rank:
        return str(change.head_rank or change.base_rank)
    return f"{change.base_rank} → {change.head_rank}"


def _verdict(change: comparison.ModelChange) -> str:
    found = change.difference
    return MARKS[change.verdict] + (f" (p {found.p_value:.2g})" if found else "")


def _interval(change: comparison.ModelChange) -> str:
    found = change.difference
    if found is None:
        return "-" if change.base is None or change.head is None else f"{change.head - change.base:+.4f}"
    return f"{found.change:+.4f} [{found.low:+.4f}, {found.high:+.4f}]"


def _counts(dataset: comparison.DatasetChange) -> str:
    counts = dataset.counts()
    return ", ".join(f"{counts[verdict]} {verdict}" for verdict in MARKS if verdict in counts)


def summary_markdown(changes: list[comparison.DatasetChange], level: float) -> str:
    """Per dataset: each model's main metric at both revisions, the change and its interval, the verdict, the rank."""
    lines = []
    for dataset in changes:
        table = [f"| model | base | head | change [{level:.0%} interval] | verdict | rank |", "|---|---|---|---|---|---|"]
        table += [f"| `{change.model}` | {_figure(change.base)} | {_figure(change.head)} | {_interval(change)} | "
                  f"{_verdict(change)} | {_rank(change)} |" for change in dataset.models]
        lines += [f"### {dataset.dataset}: {dataset.metric}", "", _counts(dataset) + ".", ""]
        # Nothing to review on a dataset whose models are all unchanged: its table is folded.
        if set(dataset.counts()) == {comparison.UNCHANGED}:
            table = ["<details><summary>Its models</summary>", "", *table, "", "</details>"]
        lines += [*table, ""]
    return "\n".join(lines)


def moved_markdown(changes: list[comparison.DatasetChange]) -> str:
    """The leaderboard's other metrics that moved beyond noise."""
    lines = [f"- {dataset.dataset} `{change.model}` {metric}: {found.base:.4f} → {found.head:.4f} "
             f"({found.change:+.4f} [{found.low:+.4f}, {found.high:+.4f}], p {found.p_value:.2g})"
             for dataset in changes for change in dataset.models for metric, found in change.moved.items()]
    return "\n".join(lines) if lines else "None."


def summary_text(changes: list[comparison.DatasetChange], ref: str, level: float) -> str:
    """The summary for a terminal: one aligned table per dataset."""
    out = [f"Workspace against {ref} (changes tested at {level:.0%} on the same test texts)"]
    for dataset in changes:
        rows = [("model", "base", "head", "change [interval]", "verdict", "rank")]
        rows += [(change.model, _figure(change.base), _figure(change.head), _interval(change), _verdict(change),
                  _rank(change)) for change in dataset.models]
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        out += ["", f"{dataset.dataset} ({dataset.metric}): {_counts(dataset)}"]
        out += ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        out += [f"  {metric} of {change.model} moved: {found.change:+.4f} [{found.low:+.4f}, {found.high:+.4f}]"
                for change in dataset.models for metric, found in change.moved.items()]
    return "\n".join(out) + "\n"


def difference_chart(changes: list[comparison.DatasetChange], level: float) -> dict | None:
    """A Vega-Lite chart: each tested model's change of its dataset's main metric, with its interval."""
    rows = [{"dataset": f"{dataset.dataset} ({dataset.metric})", "model": change.model, "verdict": change.verdict,
             "change": change.difference.change, "low": change.difference.low, "high": change.difference.high}
            for dataset in changes for change in dataset.models if change.difference]
    if not rows:
        return None
    colors = {comparison.BETTER: "#1a9850", comparison.WORSE: "#d73027", comparison.NOISE: "#878787"}
    encoding = {"y": {"field": "model", "type": "nominal", "title": None, "sort": None}}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"Change of each model's main metric, with its {level:.0%} interval",
        "data": {"values": rows},
        "facet": {"row": {"field": "dataset", "type": "nominal", "title": None, "sort": None}},
        "resolve": {"scale": {"y": "independent", "x": "independent"}},
        "spec": {"width": 420, "encoding": encoding, "layer": [
            {"mark": {"type": "rule", "color": "#bbbbbb"}, "encoding": {"x": {"datum": 0, "type": "quantitative"}}},
            {"mark": "rule", "encoding": {"x": {"field": "low", "type": "quantitative", "title": "head - base"},
                                          "x2": {"field": "high"},
                                          "color": {"field": "verdict", "scale": {"domain": list(colors),
                                                                                  "range": list(colors.values())}}}},
            {"mark": {"type": "point", "filled": True, "size": 60},
             "encoding": {"x": {"field": "change", "type": "quantitative"}, "color": {"field": "verdict"}}},
        ]},
    }


# The report -----------------------------------------------------------------------------------------------------

COMMENT_LIMIT = 65_536  # GitHub refuses a comment body longer than this (characters)
FULL_REPORT = "full.md"  # the report uncut, in the image folder (a workflow artifact in CI)


@dataclass
class Section:
    title: str
    body: str
    collapsed: bool = False

    def markdown(self) -> str:
        if self.collapsed:
            return f"<details><summary>{self.title}</summary>\n\n{self.body}\n\n</details>\n"
        return f"## {self.title}\n\n{self.body}\n"

    def cut(self, size: int) -> Section | None:
        """The section with as many of its first lines as fit in ``size`` characters (a table keeps its header),
        its title saying so; None if not even one line fits."""
        lines = self.body.splitlines()
        header = 2 if lines and lines[0].startswith("|") else 0
        unit = "rows" if header else "lines"

        def kept(count: int) -> Section:
            return Section(f"{self.title} (the first {count:,} of {len(lines) - header:,} {unit})",
                           "\n".join(lines[:header + count]), self.collapsed)

        low, high = 0, len(lines) - header  # the most lines that fit lies in [low, high]
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if len(kept(middle).markdown()) <= size else (low, middle - 1)
        return kept(low) if low else None


NOTE_ROOM = 1000  # kept free for the line saying what was cut or left out: section titles are short


def fitted(header: str, sections: list[Section], limit: int, full: str) -> str:
    """``header`` and the sections (in order of importance) in at most ``limit`` characters: whole while they fit,
    then the first that does not cut to its first lines, the rest left out, and a line saying so and where the
    full report is."""
    text = header
    for index, section in enumerate(sections):
        rest = sections[index + 1:]
        whole = text + "\n" + section.markdown()
        if len(whole) <= limit - (NOTE_ROOM if rest else 0):
            text = whole
            continue
        shortened = section.cut(limit - len(text) - 1 - NOTE_ROOM)
        cut, left_out = (section.title, rest) if shortened else (None, sections[index:])
        if shortened:
            text += "\n" + shortened.markdown()
        parts = ([f"{cut} shows its first lines"] if cut else []) + (
            ["left out: " + "; ".join(found.title for found in left_out)] if left_out else [])
        note = (f"\n_To fit a pull-request comment ({limit:,} characters), {', '.join(parts)}. "
                f"Everything is in the full report, {full}._\n")
        return (text + note)[:limit]
    return text


def metric_rows(diff: dict) -> str:
    """A compact table of ``dvc metrics diff --json``: numbers only (no hashes), no padding."""
    lines = ["| file | metric | base | head | change |", "|---|---|---|---|---|"]
    for path, found in sorted(diff.items()):
        for key, values in sorted(found.items()):
            old, new = values.get("old"), values.get("new")
            if not all(isinstance(value, (int, float)) or value is None for value in (old, new)):
                continue
            change = f"{values['diff']:+.4g}" if isinstance(values.get("diff"), (int, float)) else "-"
            lines.append(f"| {path} | {key} | {_figure(old)} | {_figure(new)} | {change} |")
    return "\n".join(lines) if len(lines) > 2 else "None."


def _table_or(markdown_table: str, nothing: str) -> str:
    """DVC's ``--md`` table, or ``nothing`` when it has no rows: DVC prints the header alone when nothing changed."""
    lines = markdown_table.strip().splitlines()
    return "\n".join(lines) if len(lines) > 2 else nothing


def _plot_sections(project: Path, ref: str, markdown: Path, images: Path, dvc_plots: Path) -> tuple[str, list[str]]:
    """The changed plots rendered into ``images`` as markdown, and the unchanged plots' names."""
    plots = json.loads(dvc(project, "plots", "diff", ref, "--json", "-o", str(dvc_plots)))
    changed, unchanged = changed_plots(plots.get("data", {}), ref)
    lines = []
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
    if not changed:
        lines.append("No plot changed.")
    if unchanged:
        lines += ["", f"Unchanged plots: {', '.join(unchanged)}."]
    return "\n".join(lines), unchanged


def _write_report(project: Path, ref: str, markdown: Path, images: Path, dvc_plots: Path, changes: list,
                  level: float, limit: int, full_link: str | None) -> None:
    """Write the report to ``markdown`` (at most ``limit`` characters), the full one and the images to ``images``."""
    images.mkdir()
    (images / MARKER_FILE).write_text("Written by `textclf report`: the next report replaces this folder.\n")
    sections = []
    if changes:
        sections.append(Section("Summary", summary_markdown(changes, level)))
        chart = difference_chart(changes, level)
        if chart:
            (images / "changes.png").write_bytes(render_vega_lite(chart))
            sections.append(Section("Changes and their intervals",
                                    f"![changes]({(images / 'changes.png').relative_to(markdown.parent).as_posix()})"))
        sections.append(Section("Other metrics that moved beyond noise", moved_markdown(changes)))
    sections.append(Section("Params that changed", _table_or(dvc(project, "params", "diff", ref, "--md"),
                                                             "No param changed.")))
    plots, _ = _plot_sections(project, ref, markdown, images, dvc_plots)
    sections.append(Section("Plots that changed", plots))
    diff = json.loads(dvc(project, "metrics", "diff", ref, "--json") or "{}")
    sections.append(Section("Metrics that changed", metric_rows(diff), collapsed=True))
    every = json.loads(dvc(project, "metrics", "diff", ref, "--all", "--json") or "{}")
    sections.append(Section("Every metric", metric_rows(every), collapsed=True))

    header = f"{MARKER_LINE}\n# Experiment report: workspace against `{ref}`\n"
    if changes:
        header += (f"\nEach change of a test metric is tested on the same test texts at both revisions (McNemar's "
                   f"test for accuracy, a paired bootstrap otherwise): **better** or **worse** only when it is "
                   f"beyond noise at the {level:.0%} level.\n")
    full = f"[{FULL_REPORT}]({full_link})" if full_link else f"`{(images / FULL_REPORT).relative_to(markdown.parent)}`"
    text = fitted(header, sections, limit, full)
    markdown.write_text(text, encoding="utf-8")
    # The full report sits beside the images: its links are one folder shallower.
    prefix = f"]({images.name}/"
    uncut = "\n".join([header, *(section.markdown() for section in sections)])
    (images / FULL_REPORT).write_text(uncut.replace(prefix, "]("), encoding="utf-8")


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


def compared(project: Path, ref: str, draws: int, level: float) -> list[comparison.DatasetChange]:
    """Every dataset's models at ``ref`` and in the workspace, each change tested (``textclf.reporting.comparison``)."""
    _check_project(project)
    dvc(project, "params", "diff", ref)  # one clear error line for a ref that does not exist
    return comparison.compare(project, ref, draws, level)


def build(project: Path, ref: str, out: Path, draws: int = 1000, level: float = 0.95, limit: int = COMMENT_LIMIT,
          full_link: str | None = None) -> Path:
    """Write ``out`` (markdown, at most ``limit`` characters) and its images in a folder beside it, named after it,
    with the uncut report there too; return ``out``.

    Both are built in a temporary folder beside ``out`` and replace the previous
    report only once complete, so a failed or interrupted run leaves it whole.
    """
    _check_project(project)
    images = _image_folder(out)
    try:
        _refuse_to_replace_what_is_not_a_report(out, images)
        changes = compared(project, ref, draws, level)
        out.parent.mkdir(parents=True, exist_ok=True)
        # Absolute, because dvc runs in the project directory and writes its plots there.
        building = out.parent.absolute() / f"{out.stem}-report"
        outputs.remove_stale_temporaries(building)  # of report runs killed before they could clean up
        temporary = outputs.temporary_path(building)
        new = temporary / "new"
        try:
            shutil.rmtree(temporary, ignore_errors=True)
            new.mkdir(parents=True)  # inside the try: a Ctrl-C just after it must still remove it
            _write_report(project, ref, new / out.name, new / images.name, temporary / "dvc-plots", changes, level,
                          limit, full_link)
            _swap_in(new, out, images, temporary / "previous-images")
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
    except OSError as error:
        raise TextclfError(f"could not write the report {out}: {error}") from error
    return out
