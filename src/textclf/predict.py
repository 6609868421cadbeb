"""`textclf predict`: classify new reviews with a model the pipeline exported.

Inputs are numbered from 1 in the order given (command-line texts, or the lines
/ rows of a file or of stdin), and every output row carries that number, so a
skipped empty input never shifts the rows after it.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable

import numpy as np
import yaml

from textclf.errors import TextclfError

MAX_CHARS = 100_000  # about 20k words; the longest IMDB review has 13.7k characters
FILE_KINDS = {".txt": "txt", ".csv": "csv", ".jsonl": "jsonl"}
INPUT_FORMATS = ("txt", "csv", "jsonl")


@dataclass
class Inputs:
    numbers: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _listed(numbers: list[int], limit: int = 5) -> str:
    shown = ", ".join(map(str, numbers[:limit]))
    return shown + (f" and {len(numbers) - limit} more" if len(numbers) > limit else "")


def _decoded(data: bytes, source: str) -> tuple[str, list[str]]:
    """Text of ``data``; undecodable bytes become U+FFFD, with a warning naming their lines.

    Replacing rather than stopping is deliberate: one stray byte in a review
    should not cost the prediction of the other thousands.
    """
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        bad = [number for number, line in enumerate(data.split(b"\n"), 1) if not _is_utf8(line)]
        text = data.decode("utf-8-sig", errors="replace")
        return text, [f"{source}: line(s) {_listed(bad)} are not valid UTF-8; bad bytes were replaced with U+FFFD"]


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _lines(text: str) -> list[str]:
    """Lines ended by \n or \r\n only: str.splitlines() would also cut a review at
    \x85, \u2028 or a lone \r, which real reviews contain."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return lines[:-1] if lines and lines[-1] == "" else lines


def _rows(text: str, kind: str, column: str | None, source: str) -> list[str]:
    if kind == "txt":
        return _lines(text)
    if kind == "csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        name = column or "text"
        if name not in header:
            raise TextclfError(f"{source} has no column '{name}' (columns: {', '.join(header) or 'none'}); pick one with --column")
        return [row[name] or "" for row in reader]
    values = []
    for number, line in enumerate(_lines(text), 1):
        if not line.strip():
            values.append("")
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise TextclfError(f"{source}: line {number} is not JSON ({error.msg})") from None
        name = column or "text"
        if not isinstance(record, dict) or name not in record:
            raise TextclfError(f"{source}: line {number} has no field '{name}'; pick one with --column")
        values.append(str(record[name]))
    return values


def read_inputs(texts: Iterable[str], file: str | None, column: str | None, stdin: BinaryIO | None = None,
                input_format: str | None = None, max_chars: int = MAX_CHARS) -> Inputs:
    """Gather the reviews to classify, dropping empty ones and cutting overlong ones, with warnings.

    ``file`` "-" reads ``stdin``; the format comes from ``input_format`` or the
    file's suffix (stdin defaults to one review per line).
    """
    inputs = Inputs()
    if file is not None:
        source = "stdin" if file == "-" else file
        kind = input_format or ("txt" if file == "-" else FILE_KINDS.get(Path(file).suffix.lower()))
        if kind is None:
            raise TextclfError(f"{file}: unknown file type (use .txt, .csv or .jsonl, or --input-format)")
        try:
            data = stdin.read() if file == "-" else Path(file).read_bytes()
        except OSError as error:
            raise TextclfError(f"cannot read {file}: {error.strerror or error}") from None
        text, inputs.warnings = _decoded(data, source)
        values = _rows(text, kind, column, source)
    else:
        values = list(texts)
    empty, cut = [], []
    for number, value in enumerate(values, 1):
        if not value.strip():
            empty.append(number)
            continue
        if len(value) > max_chars:
            cut.append(number)
            value = value[:max_chars]
        inputs.numbers.append(number)
        inputs.texts.append(value)
    if empty:
        inputs.warnings.append(f"skipped {len(empty)} empty or whitespace-only input(s): {_listed(empty)}")
    if cut:
        inputs.warnings.append(f"input(s) {_listed(cut)} longer than {max_chars:,} characters were cut to that length")
    if not inputs.texts:
        raise TextclfError("no review to classify: give texts, --file PATH, or pipe lines to stdin")
    return inputs


# The params.yaml blocks that hold models, and the dvc.yaml stage that exports each kind.
EXPORT_STAGES = {"models": "export", "hub_models": "export_hub"}


def export_stages(project: Path) -> dict[str, str]:
    """Every model name in the project's params.yaml, in order, with the stage that exports it."""
    params_path = project / "params.yaml"
    if not params_path.is_file():
        raise TextclfError(f"{params_path} not found: run textclf from the project directory or pass --project")
    params = yaml.safe_load(params_path.read_text(encoding="utf-8")) or {}
    return {name: stage for block, stage in EXPORT_STAGES.items() for name in (params.get(block) or {})}


def best_model(project: Path) -> str:
    path = project / "metrics" / "leaderboard.json"
    if not path.is_file():
        raise TextclfError(f"{path} not found: run `dvc repro leaderboard` to rank the models")
    board = json.loads(path.read_text(encoding="utf-8"))
    return max(sorted(board), key=lambda name: board[name]["accuracy"])


def model_path(name: str, project: Path) -> tuple[str, Path]:
    """(model name, exported model directory) for a zoo name, ``best``, or a path to an export."""
    if (Path(name) / "saved_model.pb").is_file():
        path = Path(name).resolve()
        return (path.parent.name if path.name == "serving" else path.name), Path(name)
    if name == "best":
        name = best_model(project)
    stages = export_stages(project)
    if name not in stages:
        raise TextclfError(f"unknown model '{name}' (known: {', '.join(stages)}, or best)")
    path = project / "models" / name / "serving"
    if not (path / "saved_model.pb").is_file():
        raise TextclfError(f"model '{name}' is not built yet: run `dvc repro {stages[name]}@{name}` (or `dvc pull` it)")
    return name, path


def classify(predictor, texts: list[str], batch_size: int, progress: str | None = None) -> np.ndarray:
    """Probabilities for ``texts``, ``batch_size`` at a time; with ``progress``, a bar of that
    name on a terminal, once there is something to wait for."""
    from tqdm import tqdm

    starts = range(0, len(texts), batch_size)
    quiet = progress is None or len(starts) <= 4
    batches = [predictor(texts[start : start + batch_size])
               for start in tqdm(starts, desc=progress, unit="batch", disable=True if quiet else None, file=sys.stderr)]
    return np.concatenate(batches) if batches else np.zeros(0, np.float32)


def table(numbers: list[int], texts: list[str], probabilities, labels: list[str], width: int = 60) -> str:
    lines = [f"{'#':>5}  {'label':<8}  {'P(pos)':>6}  text"]
    for number, text, probability, label in zip(numbers, texts, probabilities, labels):
        flat = " ".join(text.split())
        preview = flat if len(flat) <= width else flat[: width - 1] + "…"
        lines.append(f"{number:>5}  {label:<8}  {probability:6.3f}  {preview}")
    return "\n".join(lines) + "\n"


def json_lines(numbers: list[int], texts: list[str], probabilities, labels: list[str], model: str) -> str:
    return "".join(
        json.dumps({"input": number, "model": model, "label": label, "probability": round(float(probability), 6), "text": text},
                   ensure_ascii=False) + "\n"
        for number, text, probability, label in zip(numbers, texts, probabilities, labels)
    )
