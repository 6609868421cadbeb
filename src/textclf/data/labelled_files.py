"""How a dataset's source file becomes labelled rows: the one place that reads them.

Two kinds of source exist:

- The Movies Dataset's ``movies_metadata.csv`` (TMDB), read as the TF Hub
  movie-genre tutorial reads it: movies with a real overview and at least one
  of the chosen genres, labelled with those genres. The export is messy, and
  nobody can fix it, so each kind of bad row is dropped on purpose and counted.
- A user's own labelled table (CSV, TSV, JSONL or parquet). Its owner can fix
  it, so a bad record is an error naming the file, the line (or parquet row)
  and the column, never a silent drop.

Every kept record carries where it sits in its source, so a later check (an
unknown label, say) can still point at the line a user would open.
"""

from __future__ import annotations

import ast
import codecs
import csv
import io
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from textclf.core.errors import TextclfError
from textclf.data import jsonl

SPLITS = ("train", "validation", "test")
FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".parquet": "parquet"}
DELIMITERS = {"csv": ",", "tsv": "\t"}
MOVIE_COLUMNS = ["id", "genres", "overview"]
# TMDB fills an unknown overview with a stock sentence; compared case-folded,
# stripped, without a final full stop. Overviews without a letter or a digit
# ("-", "...") are placeholders too (see _is_placeholder).
PLACEHOLDER_OVERVIEWS = {"no overview found", "no overview", "no movie overview available"}


@dataclass(frozen=True)
class Rows:
    """Labelled records in source order.

    ``frame`` has the columns ``line`` (1-based: the physical line a record
    starts on, header included, or the parquet row), ``text``, ``labels`` (a
    list of str; one item for a single-label column) and ``split`` (train,
    validation, test, or None when the source gives none). ``dropped`` counts
    the rows left out on purpose, by reason, in the order of the checks;
    ``location`` is how errors name a record: "line" or "row".
    """

    frame: pd.DataFrame
    dropped: dict[str, int]
    location: str


@dataclass(frozen=True)
class _Cells:
    """The raw values of the columns a reader was asked for, and where each record sits."""

    lines: list[int]
    columns: dict[str, list]


def _rows_frame(lines: list[int], texts: list[str], labels: list[list[str]], splits: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame({"line": np.array(lines, dtype=np.int64), "text": texts, "labels": labels, "split": splits})


# Reading files -----------------------------------------------------------------


def _check_file(path: Path) -> None:
    if not path.exists():
        raise TextclfError(f"{path}: file not found")
    if not path.is_file():
        raise TextclfError(f"{path}: not a file")


def _read_text(path: Path, encoding: str = "utf-8") -> str:
    """The file's text in ``encoding``; a byte that is not valid there is an error naming its line and offset.

    Unlike ``textclf predict``, nothing is replaced: a garbled label or review
    would be trained on silently.
    """
    _check_file(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise TextclfError(f"cannot read {path}: {error.strerror or error}") from None
    if codecs.lookup(encoding).name == "utf-8":
        data = data.removeprefix(codecs.BOM_UTF8)  # spreadsheets write one ahead of UTF-8 CSV
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise TextclfError(f"{path}: line {line}: not valid {encoding} ({error.reason} at byte offset {error.start}); "
                           "set the dataset's `encoding` to the file's (often latin-1 or cp1252)") from None


def _delimited_records(path: Path, kind: str, encoding: str = "utf-8") -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header, and every record with the physical line it starts on, of a ``kind`` ("csv", "tsv") file.

    Quoted fields may hold newlines, so a record's line is tracked from the
    reader, not derived from its index. Strict parsing turns a quote that is
    never closed into an error instead of one record that swallows the rest of
    the file.
    """
    # The default 128 KiB field limit would turn one long text into a crash.
    csv.field_size_limit(sys.maxsize)
    reader = csv.reader(io.StringIO(_read_text(path, encoding), newline=""), delimiter=DELIMITERS[kind], strict=True)
    records = []
    start = 1
    try:
        header = next(reader, [])
        if not header:
            raise TextclfError(f"{path}: empty file; it needs a header row naming its columns")
        start = reader.line_num + 1
        for fields in reader:
            if fields:  # a blank line is no record
                if len(fields) != len(header):
                    count = f"{len(fields)} field(s), but the header has {len(header)}"
                    raise TextclfError(f"{path}: line {start}: {count}")
                records.append((start, fields))
            start = reader.line_num + 1
    except csv.Error as error:
        problem = (
            "a quoted field opens here and is never closed"
            if "unexpected end of data" in str(error)
            else f"not valid {kind.upper()} ({error})"
        )
        raise TextclfError(f"{path}: line {start}: {problem}") from None
    if not records:
        raise TextclfError(f"{path}: no records after the header")
    return header, records


def _column_index(header: list[str], name: str, path: Path) -> int:
    if name not in header:
        raise TextclfError(f"{path}: no column '{name}' (columns: {', '.join(header)})")
    if header.count(name) > 1:
        raise TextclfError(f"{path}: {header.count(name)} columns are named '{name}'; rename all but one")
    return header.index(name)


def _picked(header: list[str], records: list[tuple[int, list[str]]], columns: list[str], path: Path) -> _Cells:
    indexes = {name: _column_index(header, name, path) for name in columns}
    return _Cells(
        lines=[line for line, _ in records],
        columns={name: [fields[index] for _, fields in records] for name, index in indexes.items()},
    )


def _delimited_cells(path: Path, columns: list[str], encoding: str, kind: str) -> _Cells:
    header, records = _delimited_records(path, kind, encoding)
    return _picked(header, records, columns, path)


def _kind(value: object) -> str:
    """What a value is, in a user's words."""
    names = {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _json_object(line: str, number: int, path: Path) -> dict:
    record = jsonl.parse_line(line, number, str(path))
    if not isinstance(record, dict):
        raise TextclfError(f"{path}: line {number}: {_kind(record)}, not a JSON object")
    return record


def _jsonl_cells(path: Path, columns: list[str], encoding: str) -> _Cells:
    """One JSON object a line; lines end at \\n only, as JSON strings may hold U+2028 and friends."""
    cells = _Cells(lines=[], columns={name: [] for name in columns})
    for number, line in enumerate(_read_text(path, encoding).split("\n"), 1):
        if not line.strip():  # a blank line (often the last) is no record
            continue
        record = _json_object(line.removesuffix("\r"), number, path)
        for name in columns:
            if name not in record:
                present = ", ".join(record) or "none"
                raise TextclfError(f"{path}: line {number}: no column '{name}' (columns: {present})")
            cells.columns[name].append(record[name])
        cells.lines.append(number)
    if not cells.lines:
        raise TextclfError(f"{path}: no records (it holds no JSON object)")
    return cells


def _parquet_cells(path: Path, columns: list[str], encoding: str) -> _Cells:  # parquet text is UTF-8 by definition
    try:
        names = pq.read_schema(path).names
    except (pa.ArrowException, OSError) as error:
        raise TextclfError(f"{path}: not a readable parquet file ({error})") from None
    for name in columns:
        _column_index(names, name, path)  # missing, or named twice: one error naming it
    try:
        table = pq.read_table(path, columns=columns)
    except (pa.ArrowException, OSError) as error:
        raise TextclfError(f"{path}: not a readable parquet file ({error})") from None
    if table.num_rows == 0:
        raise TextclfError(f"{path}: no records (the table has no rows)")
    # to_pylist gives Python values: ints, floats, lists, and None for a null.
    return _Cells(
        lines=list(range(1, table.num_rows + 1)), columns={name: table.column(name).to_pylist() for name in columns}
    )


# One reader per table format: (file, columns, encoding) -> their cells, and how errors name a record.
TABLE_READERS = {
    "csv": (partial(_delimited_cells, kind="csv"), "line"),
    "tsv": (partial(_delimited_cells, kind="tsv"), "line"),
    "jsonl": (_jsonl_cells, "line"),
    "parquet": (_parquet_cells, "row"),
}


# The Movies Dataset ------------------------------------------------------------


def _drop(movies: pd.DataFrame, unwanted: pd.Series, reason: str, dropped: dict[str, int]) -> pd.DataFrame:
    """``movies`` without the ``unwanted`` rows, counted under ``reason`` when there are any."""
    count = int(unwanted.sum())
    if count:
        dropped[reason] = count
    return movies[~unwanted]


def _is_placeholder(overview: str) -> bool:
    """A stock sentence, or no word at all ("-", "..."): nothing that describes a movie."""
    return overview.casefold().removesuffix(".") in PLACEHOLDER_OVERVIEWS or not any(c.isalnum() for c in overview)


def _genre_names(cell: str) -> list[str] | None:
    """The names in a Python-literal list of genre dicts, or None when the cell is not one.

    ``ast.literal_eval`` reads literals only: the cell is data, never code.
    """
    try:
        genres = ast.literal_eval(cell)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if not isinstance(genres, list) or not all(isinstance(g, dict) and isinstance(g.get("name"), str) for g in genres):
        return None
    return [genre["name"] for genre in genres]


def read_movies_metadata(path: Path, genres: list[str]) -> Rows:
    """Movies with a real overview and at least one of ``genres``, labelled with those (in ``genres``' order).

    Each row left out is counted under the first reason that applies, in this
    order: blank_record (every field empty; the partial offline copy blanks
    the rows it leaves out), shifted_columns (``id`` is no plain integer: a
    stray quote or newline shifted the fields), duplicate_id (the first row of
    an id stays), empty_overview, placeholder_overview, malformed_genres,
    no_listed_genre.
    """
    header, records = _delimited_records(path, "csv")
    cells = _picked(header, records, MOVIE_COLUMNS, path)
    movies = pd.DataFrame({"line": cells.lines, **cells.columns})
    dropped: dict[str, int] = {}
    movies = _drop(movies, pd.Series([not any(fields) for _, fields in records]), "blank_record", dropped)
    movies = _drop(movies, ~movies["id"].str.fullmatch("[0-9]+"), "shifted_columns", dropped)
    movies = _drop(movies, movies["id"].map(int).duplicated(), "duplicate_id", dropped)
    movies = movies.assign(overview=movies["overview"].str.strip())
    movies = _drop(movies, movies["overview"] == "", "empty_overview", dropped)
    movies = _drop(movies, movies["overview"].map(_is_placeholder), "placeholder_overview", dropped)
    names = movies["genres"].map(_genre_names)
    if len(movies) and names.isna().all():
        raise TextclfError(
            f"{path}: line {movies['line'].iloc[0]}: column 'genres' is not a Python-literal list of "
            "{'id': ..., 'name': ...} dicts, and no other row's is either"
        )
    movies = _drop(movies, names.isna(), "malformed_genres", dropped)
    labels = names.loc[movies.index].map(lambda movie_genres: [genre for genre in genres if genre in movie_genres])
    movies = _drop(movies, labels.str.len() == 0, "no_listed_genre", dropped)
    if movies.empty:
        counts = ", ".join(f"{reason} {count}" for reason, count in dropped.items())
        raise TextclfError(
            f"{path}: no movie left with an overview and one of the genres {', '.join(genres)} (dropped: {counts})"
        )
    frame = _rows_frame(
        movies["line"].tolist(), movies["overview"].tolist(), labels.loc[movies.index].tolist(), [None] * len(movies)
    )
    return Rows(frame=frame, dropped=dropped, location="line")


# A user's own table ------------------------------------------------------------


def _table_format(path: Path, chosen: str) -> str:
    if chosen != "auto":
        return chosen
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise TextclfError(
            f"{path}: cannot tell the format from the suffix '{path.suffix}' "
            "(use .csv, .tsv, .jsonl or .parquet, or set format)"
        )
    return kind


def _text(value: object, where: str, column: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise TextclfError(f"{where}: column '{column}' is empty")
    if not isinstance(value, str):
        raise TextclfError(f"{where}: column '{column}' holds {_kind(value)}, not text")
    return value


def _label(value: object, where: str, column: str) -> str:
    """A label's text: stripped text as is, whole numbers in their integer form ("3" for 3 and 3.0)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):  # before int: bool is an int to Python
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    raise TextclfError(f"{where}: column '{column}': label {value!r} is {_kind(value)}, not text or a whole number")


def _labels(value: object, delimiter: str | None, where: str, column: str) -> list[str]:
    """One label, or for a multi-label column (``delimiter`` set) the labels of a list or of delimited text."""
    if isinstance(value, list):
        if delimiter is None:
            raise TextclfError(
                f"{where}: column '{column}' holds a list; a multi-label column needs label_delimiter set"
            )
        pieces = [_label(item, where, column) for item in value]
    elif delimiter is not None and isinstance(value, str):
        pieces = [piece.strip() for piece in value.split(delimiter)]
    else:
        pieces = [_label(value, where, column)]
    labels = list(dict.fromkeys(piece for piece in pieces if piece))  # "a|a" is one label
    if not labels:
        raise TextclfError(f"{where}: column '{column}' is empty")
    return labels


def _split(value: object, where: str, column: str) -> str:
    name = value.strip() if isinstance(value, str) else value
    if name is None or name == "":
        raise TextclfError(f"{where}: column '{column}' is empty (a split is one of {', '.join(SPLITS)})")
    if name not in SPLITS:
        raise TextclfError(f"{where}: column '{column}': split {value!r} is not one of {', '.join(SPLITS)}")
    return name


def table_columns(path: Path, encoding: str = "utf-8", chosen_format: str = "auto") -> list[str]:
    """The column names of a user's table: a CSV or TSV header, the keys of a JSONL file's first record, a parquet schema."""
    _check_file(path)
    kind = _table_format(path, chosen_format)
    if kind in DELIMITERS:
        return _delimited_records(path, kind, encoding)[0]
    if kind == "jsonl":
        first = next((line for line in _read_text(path, encoding).split("\n") if line.strip()), None)
        if first is None:
            raise TextclfError(f"{path}: no records (it holds no JSON object)")
        return list(_json_object(first.removesuffix("\r"), 1, path))
    try:
        return pq.read_schema(path).names
    except (pa.ArrowException, OSError) as error:
        raise TextclfError(f"{path}: not a readable parquet file ({error})") from None


def read_table(path: Path, settings: dict) -> Rows:
    """A user's labelled CSV, TSV, JSONL or parquet file; every record must have a text and at least one label."""
    _check_file(path)
    kind = _table_format(path, settings["format"])
    text_column, label_column = settings["text_column"], settings["label_column"]
    split_column = settings["split_column"]
    # dict.fromkeys: one column may serve twice (text and split, say) but is read once.
    columns = list(dict.fromkeys(name for name in (text_column, label_column, split_column) if name is not None))
    reader, location = TABLE_READERS[kind]
    cells = reader(path, columns, settings["encoding"])
    texts, labels, splits = [], [], []
    for index, line in enumerate(cells.lines):
        where = f"{path}: {location} {line}"
        texts.append(_text(cells.columns[text_column][index], where, text_column))
        labels.append(_labels(cells.columns[label_column][index], settings["label_delimiter"], where, label_column))
        splits.append(None if split_column is None else _split(cells.columns[split_column][index], where, split_column))
    return Rows(frame=_rows_frame(cells.lines, texts, labels, splits), dropped={}, location=location)


# Checks and splits -------------------------------------------------------------


def check_labels(rows: Rows, classes: list[str], path: Path, column: str) -> None:
    """Refuse the first record holding a label outside ``classes``, naming where it is."""
    known = set(classes)
    for line, labels in zip(rows.frame["line"], rows.frame["labels"], strict=True):
        unknown = [label for label in labels if label not in known]
        if unknown:
            raise TextclfError(
                f"{path}: {rows.location} {line}: column '{column}': label {unknown[0]!r} is not one "
                f"of the configured classes ({', '.join(classes)})"
            )


def split_rows(count: int, validation: float, test: float, seed: int) -> np.ndarray:
    """The split of each of ``count`` rows: "train", "validation" or "test".

    A seeded shuffle, then round(count * test) test rows, round(count *
    validation) validation rows and the rest train: the same inputs always give
    the same splits.
    """
    sizes = {"test": round(count * test), "validation": round(count * validation)}
    sizes["train"] = count - sizes["test"] - sizes["validation"]
    empty = [name for name, size in sizes.items() if size <= 0]
    if empty:
        raise TextclfError(
            f"splitting {count} rows with validation fraction {validation} and test fraction {test} "
            f"leaves the {' and '.join(empty)} split(s) empty"
        )
    order = np.random.default_rng(seed).permutation(count)
    splits = np.full(count, "train", dtype=object)
    splits[order[: sizes["test"]]] = "test"
    splits[order[sizes["test"] : sizes["test"] + sizes["validation"]]] = "validation"
    return splits


def stratified_split_rows(strata: list[str], validation: float, test: float, seed: int) -> np.ndarray:
    """The split of each row, drawn within each stratum (a class, or a multi-label row's rarest label).

    Each stratum gives round(n * test) rows to test and round(n * validation) to
    validation, at least one each, so every class lands in every split and in
    the proportion it has overall. A stratum of fewer than three rows cannot:
    that is an error naming it and what would fix it.
    """
    keys = pd.Series(strata)
    counts = keys.value_counts()
    small = counts[counts < 3]
    if len(small):
        name, count = small.index[0], int(small.iloc[0])
        raise TextclfError(
            f"class {name!r} has {count} row(s): train, validation and test each need at least one "
            "(add rows of it, merge it into another class, or drop it)"
        )
    rng = np.random.default_rng(seed)
    splits = np.full(len(keys), "train", dtype=object)
    for _, rows in sorted(keys.groupby(keys).indices.items(), key=lambda item: str(item[0])):
        order = rows[rng.permutation(len(rows))]
        n_test = min(max(round(len(rows) * test), 1), len(rows) - 2)
        n_validation = min(max(round(len(rows) * validation), 1), len(rows) - n_test - 1)
        splits[order[:n_test]] = "test"
        splits[order[n_test : n_test + n_validation]] = "validation"
    return splits


def strata(labels: list[list[str]]) -> list[str]:
    """What a stratified split keeps in proportion: a single-label row's class, a multi-label row's rarest label."""
    frequency = pd.Series([label for row in labels for label in row]).value_counts()
    return [min(row, key=lambda label: (frequency[label], label)) for row in labels]
