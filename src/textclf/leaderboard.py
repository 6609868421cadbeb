"""Gather every model's metric files into one ranked table."""

from __future__ import annotations

import json
from pathlib import Path

from textclf.errors import TextclfError

COLUMNS = {
    "accuracy": ("evaluate", "test accuracy"),
    "roc_auc": ("evaluate", "ROC-AUC"),
    "f1": ("evaluate", "F1"),
    "train_seconds": ("timing", "train time (s)"),
    "parameters": ("train", "parameters"),
    "model_bytes": ("train", "model size"),
}


def read_numbers(path: Path, keys: list[str]) -> dict:
    """A JSON metrics file that must hold a number under each of ``keys``."""
    if not path.is_file():
        raise TextclfError(f"{path} not found (run `dvc repro` to train and evaluate every model)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise TextclfError(f"{path} is not valid JSON ({error})") from None
    missing = [key for key in keys if not isinstance(data, dict) or not isinstance(data.get(key), (int, float))]
    if missing:
        raise TextclfError(f"{path} lacks the number '{missing[0]}'")
    return data


def build(model_names: list[str], metrics_root: Path, timings_root: Path) -> list[dict]:
    """One row per model, best test accuracy first (ties keep params.yaml order)."""
    rows = []
    for name in model_names:
        sources = {
            "evaluate": metrics_root / name / "evaluate.json",
            "train": metrics_root / name / "train" / "metrics.json",
            "timing": timings_root / f"{name}.json",
        }
        row = {"model": name}
        for source, path in sources.items():
            keys = [key for key, (where, _) in COLUMNS.items() if where == source]
            data = read_numbers(path, keys)
            row.update({key: data[key] for key in keys})
        rows.append(row)
    return sorted(rows, key=lambda row: -row["accuracy"])


def metrics(rows: list[dict]) -> dict:
    """What `dvc metrics diff` compares: each model's rank and numbers, without the timings that vary run to run.

    The rank is written out so `textclf predict --model best` follows this ranking, ties included.
    """
    return {row["model"]: {"rank": rank, **{key: value for key, value in row.items() if key not in ("model", "train_seconds")}}
            for rank, row in enumerate(rows, start=1)}


def markdown(rows: list[dict]) -> str:
    header = "| rank | model | " + " | ".join(label for _, label in COLUMNS.values()) + " |"
    lines = [header, "|" + "---|" * (len(COLUMNS) + 2)]
    for rank, row in enumerate(rows, start=1):
        cells = [
            f"{row['accuracy']:.4f}", f"{row['roc_auc']:.4f}", f"{row['f1']:.4f}", f"{row['train_seconds']:.0f}",
            f"{row['parameters']:,}", human_bytes(row["model_bytes"]),
        ]
        lines.append(f"| {rank} | `{row['model']}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
