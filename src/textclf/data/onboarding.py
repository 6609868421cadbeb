"""`textclf init NAME FILE`: look at a labelled file, say what it holds, and add its dataset block to params.yaml.

The columns are guessed only where the guess is unambiguous (one column of a
usual name); otherwise the command names the columns and asks for --text or
--label. The block is added with ruamel.yaml's round trip, so params.yaml keeps
its comments and order, and dvc.yaml is rendered again at once.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from textclf.core.errors import TextclfError
from textclf.data import labelled_files, preparation
from textclf.pipeline import layout

TEXT_NAMES = ("text", "review", "body", "content", "sentence", "message", "overview", "document", "comment")
LABEL_NAMES = ("label", "labels", "class", "category", "target", "sentiment", "stars", "rating", "tags", "genres", "topic")


def guessed(columns: list[str], usual: tuple[str, ...], role: str, flag: str, taken: str | None = None) -> str:
    found = [column for column in columns if column.strip().lower() in usual and column != taken]
    if len(found) != 1:
        why = "no column has a usual name" if not found else f"{', '.join(found)} could each be it"
        raise TextclfError(f"cannot tell the {role} column ({why}; columns: {', '.join(columns)}): pass {flag} COLUMN")
    return found[0]


def summary(name: str, rows: labelled_files.Rows, task, block: dict) -> str:
    """What a user should know before training: size, task, classes and their counts, the smallest, duplicates."""
    counts = Counter(label for labels in rows.frame["labels"] for label in labels)
    smallest = min(task.classes, key=lambda label: (counts[label], label))
    duplicates = int(rows.frame["text"].duplicated().sum())
    lines = [f"{block['path']}: {len(rows.frame):,} labelled texts in column '{block['text_column']}', "
             f"labels in column '{block['label_column']}'",
             f"task: {task.name}, {len(task.classes)} classes (read from the labels; state `task` or `classes` to fix them)"]
    lines += [f"  {label:<24} {counts[label]:>8,}" for label in task.classes]
    lines.append(f"smallest class: {smallest!r}, {counts[smallest]:,} texts"
                 + (" (fewer than 3: prepare will refuse it)" if counts[smallest] < 3 else ""))
    lines.append(f"duplicate texts: {duplicates:,}")
    return "\n".join(lines)


# Below this share of the texts, the rarer of two classes makes accuracy a poor main metric.
RARE_SHARE = 0.25


def rare_class_settings(counts: Counter, task) -> tuple[dict, str]:
    """For a binary dataset whose rarer class is under RARE_SHARE of the texts (``counts`` per label): the keys
    ``init`` adds to its block (F1 as the main metric, the rare class second, since F1 is the second class's),
    and why; ({}, "") otherwise."""
    if task.name != "binary":
        return {}, ""
    rare = min(task.classes, key=lambda label: (counts[label], label))
    common = next(label for label in task.classes if label != rare)
    share = counts[rare] / max(sum(counts.values()), 1)
    if share >= RARE_SHARE:
        return {}, ""
    return ({"classes": [common, rare], "metric": "f1"},
            f"'{rare}' is {share:.0%} of the texts: added metric f1 (of '{rare}'), which ranks the models and picks "
            f"their thresholds, where accuracy would reward always answering '{common}'")


def add_dataset(params_path: Path, name: str, block: dict) -> None:
    """Add ``block`` under ``datasets:`` of params.yaml, keeping its comments."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    document = yaml.load(params_path.read_text(encoding="utf-8")) if params_path.is_file() else None
    if document is None:
        document = {}
    if "datasets" not in document or document["datasets"] is None:
        document["datasets"] = {}
    document["datasets"][name] = block
    with params_path.open("w", encoding="utf-8") as handle:
        yaml.dump(document, handle)


def init(name: str, file: Path, text: str | None, label: str | None, delimiter: str | None, encoding: str) -> str:
    """Add dataset ``name`` for ``file`` to params.yaml and render dvc.yaml; returns what to tell the user."""
    if not layout.SAFE_NAME.fullmatch(name):
        raise TextclfError(f"dataset name {name!r} is not allowed (names become paths and stage names: letters, digits, "
                           "'_' and '-', starting with a letter or digit)")
    params_path = layout.PARAMS
    existing = layout.load() if params_path.is_file() else None
    if existing is not None and name in existing.datasets:
        raise TextclfError(f"params.yaml already has a dataset '{name}': pick another name, or edit its block")
    columns = labelled_files.table_columns(file, encoding)
    text = text or guessed(columns, TEXT_NAMES, "text", "--text")
    label = label or guessed(columns, LABEL_NAMES, "label", "--label", taken=text)
    for column in (text, label):
        if column not in columns:
            raise TextclfError(f"{file}: no column '{column}' (columns: {', '.join(columns)})")
    path = file.resolve().relative_to(Path.cwd().resolve()) if file.resolve().is_relative_to(Path.cwd().resolve()) else file
    block = {"path": path.as_posix(), "text_column": text, "label_column": label}
    block |= {"label_delimiter": delimiter} if delimiter else {}
    block |= {"encoding": encoding} if re.sub("[-_]", "", encoding.lower()) != "utf8" else {}
    settings = preparation.checked_dataset(block, name)
    rows = labelled_files.read_table(Path(block["path"]), settings)
    found = list(dict.fromkeys(label for labels in rows.frame["labels"] for label in labels))
    task = preparation.settled_task(settings, found)
    report = summary(name, rows, task, block)
    added, why = rare_class_settings(Counter(label for labels in rows.frame["labels"] for label in labels), task)
    if added:
        block |= added
        report += f"\n{why}"
    add_dataset(params_path, name, block)
    layout.write()
    return (f"{report}\nadded datasets.{name} to {params_path} and wrote dvc.yaml; "
            f"next: dvc repro leaderboard@{name}")
