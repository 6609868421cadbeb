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

from textclf.core.errors import TextclfError
from textclf.core.params import read_params
from textclf.core.terminal import json_safe, visible
from textclf.data import jsonl
from textclf.pipeline import layout

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


def _argument_values(texts: Iterable[str]) -> tuple[list[str], list[str]]:
    """Command-line reviews, with undecodable bytes replaced as in files.

    Python hands over an argument's invalid UTF-8 bytes as lone surrogates,
    which no model input or output stream can encode.
    """
    values, bad = [], []
    for number, text in enumerate(texts, 1):
        data = text.encode("utf-8", errors="surrogateescape")
        values.append(data.decode("utf-8", errors="replace"))
        bad += [] if _is_utf8(data) else [number]
    warnings = [f"argument(s) {_listed(bad)} are not valid UTF-8; bad bytes were replaced with U+FFFD"] if bad else []
    return values, warnings


def _lines(text: str) -> list[str]:
    """Lines ended by \n or \r\n only: str.splitlines() would also cut a review at
    \x85, \u2028 or a lone \r, which real reviews contain."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return lines[:-1] if lines and lines[-1] == "" else lines


def _txt_values(text: str, column: str | None, source: str) -> list[str]:
    if column is not None:
        raise TextclfError(f"--column applies to .csv and .jsonl input; {source} is read as one review per line")
    return _lines(text)


def _csv_values(text: str, column: str | None, source: str) -> list[str]:
    """The ``column`` field of every record; a record that does not parse is an error naming its line.

    Strict parsing turns a quote that is never closed into an error instead of
    one review that swallows the rest of the file.
    """
    name = column or "text"
    # The default 128 KiB field limit would turn one long review into a crash; the
    # file is in memory already, and overlong reviews are cut later with a warning.
    csv.field_size_limit(sys.maxsize)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    values: list[str] = []
    first_line = 1
    try:
        header = next(reader, None)
        if header is None:
            raise TextclfError(f"{source} is empty: a CSV file needs a header row naming its columns")
        if name not in header:
            raise TextclfError(f"{source} has no column '{name}' (columns: {', '.join(header) or 'none'}); pick one with --column")
        if header.count(name) > 1:
            raise TextclfError(f"{source} has {header.count(name)} columns named '{name}'; rename all but one")
        index = header.index(name)
        first_line = reader.line_num + 1
        for row in reader:
            if row:  # a blank line is no record
                if len(row) != len(header):
                    raise TextclfError(f"{source}: line {first_line} has {len(row)} field(s), but the header has {len(header)}")
                values.append(row[index])
            first_line = reader.line_num + 1
    except csv.Error as error:
        problem = ("a quoted field opens here and is never closed" if "unexpected end of data" in str(error)
                   else f"not valid CSV ({error})")
        raise TextclfError(f"{source}: line {first_line}: {problem}") from None
    return values


def _json_type(value: object) -> str:
    names = {type(None): "null", bool: "a boolean", int: "a number", float: "a number", str: "a string",
             list: "an array", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _jsonl_values(text: str, column: str | None, source: str) -> list[str]:
    """The string in field ``column`` of each line's JSON object; a blank line is an empty input."""
    name = column or "text"
    values = []
    for number, line in enumerate(_lines(text), 1):
        if not line.strip():
            values.append("")
            continue
        record = jsonl.parse_line(line, number, source)
        if not isinstance(record, dict):
            raise TextclfError(f"{source}: line {number} is {_json_type(record)}, not a JSON object with a '{name}' field")
        if name not in record:
            raise TextclfError(f"{source}: line {number} has no field '{name}'; pick one with --column")
        if not isinstance(record[name], str):
            raise TextclfError(f"{source}: line {number}: field '{name}' is {_json_type(record[name])}, not a string")
        values.append(record[name])
    return values


# One reader per input format: file text -> one value per input, in order.
READERS = {"txt": _txt_values, "csv": _csv_values, "jsonl": _jsonl_values}


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
        values = READERS[kind](text, column, source)
    else:
        if column is not None:
            raise TextclfError("--column applies to --file input, not to reviews given as arguments")
        values, inputs.warnings = _argument_values(texts)
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
        if file is None:
            raise TextclfError("no review to classify: give texts, --file PATH, or pipe lines to stdin")
        raise TextclfError(f"no review to classify in {source}: " + (f"all {len(values)} input(s) are empty" if values else "it holds none"))
    return inputs


def project_layout(project: Path):
    """The project's pipeline layout (textclf.pipeline.layout), read from its params.yaml."""
    params_path = project / "params.yaml"
    if not params_path.is_file():
        raise TextclfError(f"{params_path} not found: run textclf from the project directory or pass --project")
    return layout.resolve(read_params(params_path))


def default_dataset(project: Path) -> str:
    """The first dataset of the project's params.yaml."""
    datasets = read_params(project / "params.yaml").get("datasets")
    if not isinstance(datasets, dict) or not datasets:
        raise TextclfError(f"{project / 'params.yaml'}: no 'datasets' block to pick the best model from; pass --model")
    return str(next(iter(datasets)))


def known_dataset(project: Path, dataset: str) -> str:
    datasets = read_params(project / "params.yaml").get("datasets") or {}
    if dataset not in datasets:
        raise TextclfError(f"unknown dataset '{dataset}' (known: {', '.join(map(str, datasets))})")
    return dataset


def best_model(project: Path, dataset: str) -> str:
    """The model ranked first on ``dataset`` by the leaderboard stage, which owns the ranking (and its ties)."""
    path = project / layout.leaderboard_files(dataset)["json"]
    if not path.is_file():
        raise TextclfError(f"{path} not found: run `dvc repro leaderboard@{dataset}` to rank the models of {dataset}")
    rebuild = f"run `dvc repro leaderboard@{dataset}` (or resolve the git merge conflict in it)"
    try:
        board = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise TextclfError(f"{path} is not valid JSON ({getattr(error, 'msg', error)}); {rebuild}") from None
    ranks = {name: row.get("rank") for name, row in board.items() if isinstance(row, dict)} if isinstance(board, dict) else {}
    first = [name for name, rank in ranks.items() if rank == 1 and not isinstance(rank, bool)]
    if len(first) != 1 or len(ranks) != len(board):
        raise TextclfError(f"{path} is not a leaderboard (a model name -> {{\"rank\": 1, ...}} mapping with one model "
                           f"ranked 1); {rebuild}")
    return first[0]


def model_path(name: str, project: Path, dataset: str | None = None) -> tuple[str, Path]:
    """(model name, exported model directory) for a zoo name, ``best`` (of ``dataset``), or a path to an export."""
    if (Path(name) / "saved_model.pb").is_file():
        path = Path(name).resolve()
        return (path.parent.name if path.name == "serving" else path.name), Path(name)
    if name == "best":
        name = best_model(project, known_dataset(project, dataset) if dataset else default_dataset(project))
    pipeline = project_layout(project)
    models = pipeline.models
    if f"models.{name}" in pipeline.invalid:
        pipeline.model(name)  # its block's errors
    if name not in models:
        raise TextclfError(f"unknown model '{name}' (known: {', '.join(models)}, or best)")
    if dataset is not None and models[name].dataset != known_dataset(project, dataset):
        raise TextclfError(f"model '{name}' is a model of dataset '{models[name].dataset}', not of '{dataset}' "
                           "(--dataset picks whose best model --model best means)")

    path = project / layout.export_dir(name)
    if not (path / "saved_model.pb").is_file():
        raise TextclfError(f"model '{name}' is not built yet: run `dvc repro {models[name].stage('export')}` (or `dvc pull` it)")
    return name, path


def classify(predictor, texts: list[str], batch_size: int, progress: str | None = None) -> np.ndarray:
    """[n, K] probabilities for ``texts``, ``batch_size`` at a time; with ``progress``, a bar of that
    name on a terminal, once there is something to wait for."""
    from tqdm import tqdm

    from textclf.serving.exports import (
        in_length_order,  # TensorFlow is loaded by now: the predictor holds a SavedModel
    )

    quiet = progress is None or len(texts) <= 4 * batch_size
    probabilities = in_length_order(predictor, texts, batch_size, lambda starts: tqdm(
        starts, desc=progress, unit="batch", disable=True if quiet else None, file=sys.stderr))
    return np.zeros((0, 0), np.float32) if probabilities is None else probabilities


def table(numbers: list[int], texts: list[str], predictions: list[dict], task, width: int = 60) -> str:
    """One line per text, for people: whitespace runs shown as one space, control characters as escapes."""
    # Class names come from the export, which may hold anything: shown escaped, like the texts.
    rows = [tuple(map(visible, task.cells(prediction))) for prediction in predictions]
    heading = visible(task.score_heading)
    label_width = max([len("label"), *(len(label) for label, _ in rows)])
    score_width = max([len(heading), *(len(score) for _, score in rows)])
    lines = [f"{'#':>5}  {'label':<{label_width}}  {heading:>{score_width}}  text"]
    for number, text, (label, score) in zip(numbers, texts, rows):
        flat = " ".join(text.split())
        preview = visible(flat if len(flat) <= width else flat[: width - 1] + "…")
        lines.append(f"{number:>5}  {label:<{label_width}}  {score:>{score_width}}  {preview}")
    return "\n".join(lines) + "\n"


def json_lines(numbers: list[int], texts: list[str], predictions: list[dict], model: str) -> str:
    """One JSON object per line, for programs: the text exactly as read, and every probability."""
    return "".join(
        json_safe(json.dumps({"input": number, "model": model, **prediction, "text": text}, ensure_ascii=False)) + "\n"
        for number, text, prediction in zip(numbers, texts, predictions)
    )
