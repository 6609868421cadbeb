"""Reading datasets: The Movies Dataset's messy metadata, and users' own CSV / TSV / JSONL / parquet tables.

Every fixture is a tiny file written here; each error must be one line naming the
file, the line (or parquet row) and the column.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from textclf.core.errors import TextclfError
from textclf.data import labelled_files
from textclf.data.labelled_files import (
    check_labels,
    read_movies_metadata,
    read_table,
    split_rows,
    strata,
    stratified_split_rows,
)

GENRES = ["Comedy", "Thriller", "Romance", "Action", "Horror", "Crime", "Documentary", "Adventure", "Science Fiction"]
# The 24 columns of movies_metadata.csv, in its order.
MOVIE_HEADER = [
    "adult", "belongs_to_collection", "budget", "genres", "homepage", "id", "imdb_id", "original_language",
    "original_title", "overview", "popularity", "poster_path", "production_companies", "production_countries",
    "release_date", "revenue", "runtime", "spoken_languages", "status", "tagline", "title", "video", "vote_average",
    "vote_count",
]  # fmt: skip


def genres_cell(*names: str) -> str:
    """A genres cell as TMDB writes it: a Python-literal list of dicts (single quotes, so not JSON)."""
    return repr([{"id": number, "name": name} for number, name in enumerate(names, 1)])


def movie(movie_id: str, genres: str, overview: str) -> list[str]:
    fields = dict.fromkeys(MOVIE_HEADER, "")
    fields.update(adult="False", id=movie_id, genres=genres, overview=overview, title=f"Movie {movie_id}")
    return list(fields.values())


def write_csv(path: Path, header: list[str], records: list[list[str]], delimiter: str = ",") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows([header, *records])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def error_of(call, *args) -> str:
    with pytest.raises(TextclfError) as caught:
        call(*args)
    message = str(caught.value)
    assert "\n" not in message
    return message


# The Movies Dataset ------------------------------------------------------------


@pytest.fixture
def messy_movies(tmp_path: Path) -> Path:
    """One movie per kind of mess, each on a known line (the second movie's overview spans two)."""
    records = [
        movie("862", genres_cell("Animation", "Comedy", "Family"), "Led by Woody, Andy's toys live happily."),  # 2
        movie("8844", genres_cell("Adventure", "Fantasy"), "Siblings find a board game.\nIt is magic."),  # 3-4
        movie("1997-08-20", "/ff9qCepilowshEtG2GYWwzt2bs4.jpg", "0.0"),  # 5: shifted_columns
        movie("862", genres_cell("Comedy"), "A second Toy Story row."),  # 6: duplicate_id
        movie("100", genres_cell("Comedy"), ""),  # 7: empty_overview
        movie("101", genres_cell("Comedy"), "  \t "),  # 8: empty_overview
        movie("102", genres_cell("Comedy"), "No overview found."),  # 9: placeholder_overview
        movie("103", genres_cell("Horror"), "  no Overview "),  # 10: placeholder_overview
        movie("104", genres_cell("Horror"), "..."),  # 11: placeholder_overview
        movie("105", "[{'id': 35, 'name': 'Comedy'}", "An unparsable genres cell."),  # 12: malformed_genres
        movie("106", "__import__('os').getcwd()", "Code, not a literal."),  # 13: malformed_genres
        movie("107", "[{'id': 35}]", "A genre without a name."),  # 14: malformed_genres
        movie("108", genres_cell("Drama"), "A drama only."),  # 15: no_listed_genre
        movie("109", "[]", "No genre at all."),  # 16: no_listed_genre
        [""] * len(MOVIE_HEADER),  # 17: blank_record
        movie("110", genres_cell("Romance", "Drama", "Comedy"), "  Love and laughs.  "),  # 18
    ]
    return write_csv(tmp_path / "movies_metadata.csv", MOVIE_HEADER, records)


def test_movies_keep_described_movies_with_a_listed_genre(messy_movies: Path):
    rows = read_movies_metadata(messy_movies, GENRES)
    assert isinstance(rows, labelled_files.Rows) and rows.location == "line"
    assert rows.frame.columns.tolist() == ["line", "text", "labels", "split"]
    assert rows.frame["line"].tolist() == [2, 3, 18]
    assert rows.frame["text"].tolist() == [
        "Led by Woody, Andy's toys live happily.",
        "Siblings find a board game.\nIt is magic.",
        "Love and laughs.",
    ]
    # Labels follow the order of the configured genres, not the cell's.
    assert rows.frame["labels"].tolist() == [["Comedy"], ["Adventure"], ["Comedy", "Romance"]]
    assert rows.frame["split"].tolist() == [None, None, None]


def test_movies_count_each_drop_under_its_first_reason_in_check_order(messy_movies: Path):
    rows = read_movies_metadata(messy_movies, GENRES)
    assert list(rows.dropped.items()) == [
        ("blank_record", 1),
        ("shifted_columns", 1),
        ("duplicate_id", 1),
        ("empty_overview", 2),
        ("placeholder_overview", 3),
        ("malformed_genres", 3),
        ("no_listed_genre", 2),
    ]


def test_movies_leave_out_reasons_that_did_not_occur(tmp_path: Path):
    path = write_csv(tmp_path / "clean.csv", MOVIE_HEADER, [movie("1", genres_cell("Crime"), "A heist.")])
    rows = read_movies_metadata(path, GENRES)
    assert rows.dropped == {}
    assert rows.frame["labels"].tolist() == [["Crime"]]


def test_movies_with_every_genres_cell_malformed_are_an_error(tmp_path: Path):
    records = [
        movie("1", genres_cell("Comedy"), ""),  # line 2: dropped before the genres check
        movie("2", "Comedy", "A comedy."),  # line 3: the first malformed cell
        movie("3", "{'name': 'Comedy'}", "Another comedy."),
    ]
    path = write_csv(tmp_path / "movies.csv", MOVIE_HEADER, records)
    message = error_of(read_movies_metadata, path, GENRES)
    assert message.startswith(f"{path}: line 3: column 'genres' is not a Python-literal list")


def test_movies_with_no_listed_genre_anywhere_are_an_error(tmp_path: Path):
    path = write_csv(tmp_path / "movies.csv", MOVIE_HEADER, [movie("1", genres_cell("Drama"), "A drama.")])
    message = error_of(read_movies_metadata, path, GENRES)
    assert message.startswith(f"{path}: no movie left")
    assert "no_listed_genre 1" in message


def test_movies_missing_a_required_column_is_an_error(tmp_path: Path):
    header = [name for name in MOVIE_HEADER if name != "overview"]
    path = write_csv(tmp_path / "movies.csv", header, [["x"] * len(header)])
    message = error_of(read_movies_metadata, path, GENRES)
    assert message.startswith(f"{path}: no column 'overview' (columns: adult, belongs_to_collection")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "empty file; it needs a header row naming its columns"),
        (",".join(MOVIE_HEADER) + "\n", "no records after the header"),
    ],
)
def test_movies_empty_file_is_an_error(tmp_path: Path, content: str, expected: str):
    path = tmp_path / "movies.csv"
    path.write_text(content, encoding="utf-8")
    assert error_of(read_movies_metadata, path, GENRES) == f"{path}: {expected}"


def test_movies_not_utf8_is_an_error_naming_the_line(tmp_path: Path):
    path = write_csv(tmp_path / "movies.csv", MOVIE_HEADER, [movie("1", genres_cell("Comedy"), "Fine.")] * 2)
    data = path.read_bytes().split(b"\n")
    data[2] = data[2].replace(b"Fine", b"Fin\xe9")  # Latin-1, not UTF-8
    path.write_bytes(b"\n".join(data))
    assert error_of(read_movies_metadata, path, GENRES).startswith(f"{path}: line 3: not valid utf-8 (")


# A user's own table ------------------------------------------------------------


def settings(**chosen) -> dict:
    return {
        "format": "auto",
        "text_column": "text",
        "label_column": "label",
        "label_delimiter": None,
        "split_column": None,
        "encoding": "utf-8",
    } | chosen


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def test_csv_with_multi_class_labels(tmp_path: Path):
    path = tmp_path / "reviews.csv"
    path.write_text(
        'id,text,label\n1,"Great, loved it",pos\n\n2,"Two\nlines",neutral\n3,Awful, neg \n', encoding="utf-8"
    )
    rows = read_table(path, settings())
    assert rows.location == "line" and rows.dropped == {}
    assert rows.frame["line"].tolist() == [2, 4, 6]  # the blank line 3 is no record; record 2 spans lines 4-5
    assert rows.frame["text"].tolist() == ["Great, loved it", "Two\nlines", "Awful"]
    assert rows.frame["labels"].tolist() == [["pos"], ["neutral"], ["neg"]]
    assert rows.frame["split"].tolist() == [None, None, None]


def test_tsv_with_a_split_column(tmp_path: Path):
    path = write_csv(
        tmp_path / "reviews.tsv",
        ["review", "stars", "part"],
        [["Good, really", "4", "train"], ["Bad", "1", "test"], ["Fine", "3", " validation "]],
        "\t",
    )
    rows = read_table(path, settings(text_column="review", label_column="stars", split_column="part"))
    assert rows.frame["text"].tolist() == ["Good, really", "Bad", "Fine"]
    assert rows.frame["labels"].tolist() == [["4"], ["1"], ["3"]]
    assert rows.frame["split"].tolist() == ["train", "test", "validation"]


def test_jsonl_multi_label_lists_delimited_text_and_int_labels(tmp_path: Path):
    path = write_jsonl(
        tmp_path / "movies.jsonl",
        [
            {"text": "A funny fight.", "genres": ["action", " comedy"]},
            {"text": "A sad laugh.", "genres": "drama | comedy||drama"},
            {"text": "Coded genres.", "genres": [3, 1]},
            {"text": "One coded genre.", "genres": 7},
        ],
    )
    rows = read_table(path, settings(label_column="genres", label_delimiter="|"))
    assert rows.frame["labels"].tolist() == [["action", "comedy"], ["drama", "comedy"], ["3", "1"], ["7"]]
    assert rows.frame["line"].tolist() == [1, 2, 3, 4]


def test_jsonl_int_labels_become_their_text_and_blank_lines_are_skipped(tmp_path: Path):
    path = tmp_path / "stars.jsonl"
    path.write_text('{"text": "ok", "label": 3}\n\n{"text": "top", "label": 5.0, "extra": null}\n', encoding="utf-8")
    rows = read_table(path, settings())
    assert rows.frame["labels"].tolist() == [["3"], ["5"]]
    assert rows.frame["line"].tolist() == [1, 3]


def test_parquet_with_int_labels_and_a_split_column(tmp_path: Path):
    path = tmp_path / "stars.parquet"
    pq.write_table(
        pa.table({"text": ["good", "bad", "fine"], "label": [5, 1, 3], "split": ["train", "validation", "test"]}), path
    )
    rows = read_table(path, settings(split_column="split"))
    assert rows.location == "row"
    assert rows.frame["line"].tolist() == [1, 2, 3]
    assert rows.frame["labels"].tolist() == [["5"], ["1"], ["3"]]
    assert rows.frame["split"].tolist() == ["train", "validation", "test"]


def test_parquet_integral_floats_and_list_labels(tmp_path: Path):
    path = tmp_path / "data.bin"
    pq.write_table(pa.table({"text": ["a", "b"], "score": [3.0, 1.0], "tags": [["x", "y"], ["y"]]}), path)
    assert read_table(path, settings(format="parquet", label_column="score")).frame["labels"].tolist() == [["3"], ["1"]]
    tags = read_table(path, settings(format="parquet", label_column="tags", label_delimiter=","))
    assert tags.frame["labels"].tolist() == [["x", "y"], ["y"]]


def test_explicit_format_overrides_the_suffix(tmp_path: Path):
    path = tmp_path / "reviews.txt"
    path.write_text("text\tlabel\nhello\tpos\n", encoding="utf-8")
    assert read_table(path, settings(format="tsv")).frame["labels"].tolist() == [["pos"]]


def write_parquet(path: Path, columns: dict) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


# (file name, its content, settings, how the error goes on after "<path>: ")
TABLE_ERRORS = {
    "unknown suffix": ("data.txt", "text,label\na,b\n", {}, "cannot tell the format from the suffix '.txt'"),
    "empty csv": ("data.csv", "", {}, "empty file; it needs a header row"),
    "header only": ("data.csv", "text,label\n", {}, "no records after the header"),
    "empty jsonl": ("data.jsonl", "\n\n", {}, "no records (it holds no JSON object)"),
    "not utf-8": ("data.csv", b"text,label\nok,pos\ncaf\xe9,neg\n", {}, "line 3: not valid utf-8 (invalid continuation byte at byte offset 21); set the dataset's `encoding`"),
    "no text column": ("data.csv", "review,label\na,pos\n", {}, "no column 'text' (columns: review, label)"),
    "no label column": ("data.tsv", "text\tstars\na\t1\n", {}, "no column 'label' (columns: text, stars)"),
    "no split column": (
        "data.csv",
        "text,label\na,pos\n",
        {"split_column": "part"},
        "no column 'part' (columns: text, label)",
    ),
    "jsonl field missing": (
        "data.jsonl",
        '{"text": "a", "label": 1}\n{"text": "b"}\n',
        {},
        "line 2: no column 'label' (columns: text)",
    ),
    "jsonl key twice": (
        "data.jsonl",
        '{"text": "a", "label": "pos"}\n{"text": "b", "label": "pos", "label": "neg"}\n',
        {},
        "line 2: key 'label' appears twice in one object (JSON keeps only the last; remove one)",
    ),
    "empty text": ("data.csv", "text,label\na,pos\n,neg\n", {}, "line 3: column 'text' is empty"),
    "blank text": ("data.jsonl", '{"text": " \\t", "label": "pos"}\n', {}, "line 1: column 'text' is empty"),
    "text not a string": (
        "data.jsonl",
        '{"text": 12, "label": "pos"}\n',
        {},
        "line 1: column 'text' holds a number, not text",
    ),
    "empty label": ("data.csv", "text,label\na,pos\nb, \n", {}, "line 3: column 'label' is empty"),
    "null label": ("data.jsonl", '{"text": "a", "label": null}\n', {}, "line 1: column 'label' is empty"),
    "no label in a list": (
        "data.csv",
        "text,tags\na,x|y\nb,| |\n",
        {"label_column": "tags", "label_delimiter": "|"},
        "line 3: column 'tags' is empty",
    ),
    "empty jsonl list": (
        "data.jsonl",
        '{"text": "a", "label": []}\n',
        {"label_delimiter": "|"},
        "line 1: column 'label' is empty",
    ),
    "list without delimiter": (
        "data.jsonl",
        '{"text": "a", "label": ["x"]}\n',
        {},
        "line 1: column 'label' holds a list; a multi-label column needs label_delimiter set",
    ),
    "fractional label": (
        "data.jsonl",
        '{"text": "a", "label": 0.5}\n',
        {},
        "line 1: column 'label': label 0.5 is a number, not text or a whole number",
    ),
    "unknown split": (
        "data.csv",
        "text,label,split\na,pos,train\nb,neg,dev\n",
        {"split_column": "split"},
        "line 3: column 'split': split 'dev' is not one of train, validation, test",
    ),
    "empty split": (
        "data.csv",
        "text,label,split\na,pos,\n",
        {"split_column": "split"},
        "line 2: column 'split' is empty (a split is one of train, validation, test)",
    ),
    "not json": (
        "data.jsonl",
        '{"text": "a", "label": 1}\n{"text": "b", label: 2}\n',
        {},
        "line 2 is not JSON (Expecting property name enclosed in double quotes)",
    ),
    "not an object": ("data.jsonl", '["a", 1]\n', {}, "line 1: a list, not a JSON object"),
    "unclosed quote": (
        "data.csv",
        'text,label\na,pos\n"b\nc,neg\nd,pos\n',
        {},
        "line 3: a quoted field opens here and is never closed",
    ),
    "too many fields": ("data.csv", "text,label\na,pos\nb,neg,extra\n", {}, "line 3: 3 field(s), but the header has 2"),
    "too few tsv fields": ("data.tsv", "text\tlabel\na\tpos\nb\n", {}, "line 3: 1 field(s), but the header has 2"),
    "two text columns": ("data.csv", "text,text,label\na,b,pos\n", {}, "2 columns are named 'text'"),
}


@pytest.mark.parametrize("case", TABLE_ERRORS, ids=list(TABLE_ERRORS))
def test_table_errors_name_the_file_the_line_and_the_column(tmp_path: Path, case: str):
    name, content, chosen, expected = TABLE_ERRORS[case]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    message = error_of(read_table, path, settings(**chosen))
    assert message.startswith(f"{path}: {expected}")


@pytest.mark.parametrize(
    ("columns", "chosen", "expected"),
    [
        ({"text": ["a", None], "label": [1, 2]}, {}, "row 2: column 'text' is empty"),
        ({"text": ["a", "b"], "label": [1.0, None]}, {}, "row 2: column 'label' is empty"),
        ({"text": ["a"], "label": [1]}, {"split_column": "split"}, "no column 'split' (columns: text, label)"),
        (
            {"text": ["a"], "label": [1], "split": ["val"]},
            {"split_column": "split"},
            "row 1: column 'split': split 'val' is not one of train, validation, test",
        ),
    ],
)
def test_parquet_errors_name_the_row(tmp_path: Path, columns: dict, chosen: dict, expected: str):
    path = write_parquet(tmp_path / "data.parquet", columns)
    assert error_of(read_table, path, settings(**chosen)).startswith(f"{path}: {expected}")


def test_empty_parquet_is_an_error(tmp_path: Path):
    empty = {"text": pa.array([], pa.string()), "label": pa.array([], pa.int64())}
    path = write_parquet(tmp_path / "data.parquet", empty)
    assert error_of(read_table, path, settings()) == f"{path}: no records (the table has no rows)"


def test_a_file_that_is_no_parquet_is_an_error(tmp_path: Path):
    path = tmp_path / "data.parquet"
    path.write_text("text,label\na,pos\n", encoding="utf-8")
    assert error_of(read_table, path, settings()).startswith(f"{path}: not a readable parquet file (")


def test_a_missing_file_is_an_error(tmp_path: Path):
    path = tmp_path / "nowhere.csv"
    assert error_of(read_table, path, settings()) == f"{path}: file not found"
    assert error_of(read_movies_metadata, path, GENRES) == f"{path}: file not found"


# Labels and splits -------------------------------------------------------------


def test_check_labels_accepts_known_labels_and_names_the_first_unknown(tmp_path: Path):
    path = write_parquet(tmp_path / "data.parquet", {"text": ["a", "b", "c"], "tags": [["x"], ["x", "z"], ["q"]]})
    rows = read_table(path, settings(label_column="tags", label_delimiter="|"))
    check_labels(rows, ["x", "z", "q"], path, "tags")
    assert error_of(check_labels, rows, ["x", "q"], path, "tags") == (
        f"{path}: row 2: column 'tags': label 'z' is not one of the configured classes (x, q)"
    )


def test_split_rows_sizes_follow_the_fractions():
    splits = split_rows(10, 0.2, 0.1, seed=0)
    assert {name: int((splits == name).sum()) for name in ("train", "validation", "test")} == {
        "train": 7,
        "validation": 2,
        "test": 1,
    }


def test_split_rows_is_deterministic_for_a_seed():
    assert np.array_equal(split_rows(50, 0.2, 0.2, seed=7), split_rows(50, 0.2, 0.2, seed=7))
    assert not np.array_equal(split_rows(50, 0.2, 0.2, seed=7), split_rows(50, 0.2, 0.2, seed=8))


@pytest.mark.parametrize(
    ("count", "validation", "test", "empty"),
    [
        (4, 0.2, 0.1, "test"),
        (10, 0.5, 0.5, "train"),
        (0, 0.2, 0.2, "test and validation and train"),
    ],
)
def test_split_rows_refuses_an_empty_split(count: int, validation: float, test: float, empty: str):
    message = error_of(split_rows, count, validation, test, 0)
    assert message == (
        f"splitting {count} rows with validation fraction {validation} and test fraction {test} "
        f"leaves the {empty} split(s) empty"
    )


def test_a_file_in_another_encoding_reads_with_its_encoding_key(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes("text,label\ncafé crème,pos\nnaïve,neg\n".encode("cp1252"))
    rows = read_table(path, settings(encoding="cp1252"))
    assert rows.frame["text"].tolist() == ["café crème", "naïve"]


def test_a_stratified_split_keeps_every_class_in_every_split_in_proportion():
    labels = ["rare"] * 10 + ["common"] * 90
    splits = stratified_split_rows(strata([[label] for label in labels]), 0.1, 0.2, seed=0)
    table = pd.DataFrame({"label": labels, "split": splits})
    counts = table.groupby(["split", "label"]).size().to_dict()
    assert counts == {("test", "common"): 18, ("test", "rare"): 2, ("validation", "common"): 9, ("validation", "rare"): 1,
                      ("train", "common"): 63, ("train", "rare"): 7}
    assert (stratified_split_rows(strata([[label] for label in labels]), 0.1, 0.2, seed=0) == splits).all()
    assert not (stratified_split_rows(strata([[label] for label in labels]), 0.1, 0.2, seed=1) == splits).all()
    # A plain shuffle of 5 rare rows in 100 leaves them out of validation for most seeds; the stratified split never does.
    rare = np.array(["rare"] * 5 + ["common"] * 95)
    assert sum("rare" not in set(rare[split_rows(100, 0.1, 0.2, seed) == "validation"]) for seed in range(10)) > 3
    assert all("rare" in set(rare[stratified_split_rows(list(rare), 0.1, 0.2, seed) == "validation"]) for seed in range(10))


def test_a_class_too_small_for_three_splits_is_named_with_its_count():
    with pytest.raises(TextclfError, match=r"class 'tiny' has 2 row\(s\): train, validation and test each need at least one"):
        stratified_split_rows(["big"] * 20 + ["tiny"] * 2, 0.1, 0.2, seed=0)


def test_a_multi_label_row_is_stratified_by_its_rarest_label():
    assert strata([["a", "b"], ["a"], ["a", "c"], ["b"]]) == ["b", "a", "c", "b"]


def test_a_parquet_column_named_twice_is_named(tmp_path):
    path = tmp_path / "data.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array(["a"]), pa.array(["b"]), pa.array(["pos"])], names=["text", "text", "label"]),
                   path)
    with pytest.raises(TextclfError, match=f"^{path}: 2 columns are named 'text'; rename all but one$"):
        read_table(path, settings())
