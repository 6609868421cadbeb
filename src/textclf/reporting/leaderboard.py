"""Gather one dataset's model metric files into one ranked table.

The columns and the ranking follow the dataset's task: test accuracy for binary
tasks, macro F1 for multi-class, micro ROC-AUC for multi-label.
"""

from __future__ import annotations

import json
from pathlib import Path

from textclf.core.errors import TextclfError
from textclf.pipeline import layout
from textclf.tasks import Task

# Columns every task shows beside its own: key -> (source file, heading).
COMMON_COLUMNS = {
    "train_seconds": ("timing", "train time (s)"),
    "parameters": ("train", "parameters"),
    "model_bytes": ("train", "model size"),
}


def columns(task: Task) -> dict[str, tuple[str, str]]:
    return {key: ("evaluate", heading) for key, heading in task.columns.items()} | COMMON_COLUMNS


def read_json(path: Path):
    """A JSON file written by an earlier stage, or one error line saying what to run."""
    if not path.is_file():
        raise TextclfError(f"{path} not found (run `dvc repro` to train and evaluate every model)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise TextclfError(f"{path} is not valid JSON ({error})") from None


def checked_numbers(data, keys: list[str], where) -> dict:
    """``data`` itself, once it is known to hold a number under each of ``keys`` (``where`` names it in the error)."""
    missing = [key for key in keys if not isinstance(data, dict) or not isinstance(data.get(key), (int, float))]
    if missing:
        raise TextclfError(f"{where} lacks the number '{missing[0]}'")
    return data


def read_numbers(path: Path, keys: list[str]) -> dict:
    """A JSON metrics file that must hold a number under each of ``keys``."""
    return checked_numbers(read_json(path), keys, path)


def build(model_names: list[str], dataset: str, task: Task) -> list[dict]:
    """One row per model of ``dataset``, best first by the task's main metric (ties keep params.yaml order)."""
    shown = columns(task)
    rows = []
    for name in model_names:
        sources = {
            "evaluate": layout.evaluation(dataset, name),
            "train": layout.train_log(dataset, name) / "metrics.json",
            "timing": layout.timing(dataset, name),
        }
        row = {"model": name}
        for source, path in sources.items():
            keys = [key for key, (where, _) in shown.items() if where == source]
            data = read_numbers(path, keys)
            row.update({key: data[key] for key in keys})
        rows.append(row)
    return sorted(rows, key=lambda row: -row[task.main_metric])


def metrics(rows: list[dict]) -> dict:
    """What `dvc metrics diff` compares: each model's rank and numbers, without the timings that vary run to run.

    The rank is written out so `textclf predict --model best` follows this ranking, ties included.
    """
    return {row["model"]: {"rank": rank, **{key: value for key, value in row.items() if key not in ("model", "train_seconds")}}
            for rank, row in enumerate(rows, start=1)}


def markdown(rows: list[dict], task: Task) -> str:
    shown = columns(task)
    header = "| rank | model | " + " | ".join(heading for _, heading in shown.values()) + " |"
    lines = [header, "|" + "---|" * (len(shown) + 2)]
    formats = {"train_seconds": "{:.0f}".format, "parameters": "{:,}".format, "model_bytes": human_bytes}
    for rank, row in enumerate(rows, start=1):
        cells = [formats.get(key, "{:.4f}".format)(row[key]) for key in shown]
        lines.append(f"| {rank} | `{row['model']}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
