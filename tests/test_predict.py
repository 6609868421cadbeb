"""`textclf predict` input handling: files, columns, encodings, empty and long reviews."""

import io
import json

import numpy as np
import pytest

from textclf import tasks
from textclf.core.errors import TextclfError
from textclf.serving import predict


def test_command_line_texts_are_numbered_and_empty_ones_skipped():
    inputs = predict.read_inputs(["Loved it.", "  ", "", "Hated it."], None, None)
    assert inputs.numbers == [1, 4] and inputs.texts == ["Loved it.", "Hated it."]
    assert inputs.warnings == ["skipped 2 empty or whitespace-only input(s): 2, 3"]


def test_nothing_to_classify_is_an_error():
    with pytest.raises(TextclfError, match="no review to classify"):
        predict.read_inputs(["", " \t"], None, None)


def test_txt_file_one_review_per_line(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_text("first review\n\nsecond review\n", encoding="utf-8")
    inputs = predict.read_inputs([], str(path), None)
    assert inputs.numbers == [1, 3] and inputs.texts == ["first review", "second review"]


def test_txt_lines_end_only_at_newlines(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_bytes("one\u2028still one\r\ntwo\x85still two\rthree? no, two\n".encode("utf-8"))
    inputs = predict.read_inputs([], str(path), None)
    assert inputs.texts == ["one\u2028still one", "two\x85still two\rthree? no, two"]


def test_csv_column_and_missing_column(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text('id,review\n1,"Great, really great"\n2,"multi\nline"\n', encoding="utf-8")
    inputs = predict.read_inputs([], str(path), "review")
    assert inputs.texts == ["Great, really great", "multi\nline"]
    with pytest.raises(TextclfError, match=r"reviews.csv has no column 'text' \(columns: id, review\)"):
        predict.read_inputs([], str(path), None)


def test_jsonl_field_and_bad_lines(tmp_path):
    path = tmp_path / "reviews.jsonl"
    path.write_text('{"text": "good"}\n{"body": "x"}\n', encoding="utf-8")
    with pytest.raises(TextclfError, match="line 2 has no field 'text'"):
        predict.read_inputs([], str(path), None)
    path.write_text('{"text": "good"}\nnot json\n', encoding="utf-8")
    with pytest.raises(TextclfError, match="line 2 is not JSON"):
        predict.read_inputs([], str(path), None)


def test_non_utf8_bytes_are_replaced_with_a_warning_naming_the_line(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_bytes("fine\ncaf\xe9 latin-1\nfine too\n".encode("latin-1"))
    inputs = predict.read_inputs([], str(path), None)
    assert inputs.texts[1] == "caf\ufffd latin-1"
    assert inputs.warnings == [f"{path}: line(s) 2 are not valid UTF-8; bad bytes were replaced with U+FFFD"]


def test_overlong_reviews_are_cut_with_a_warning():
    inputs = predict.read_inputs(["x" * 50, "short"], None, None, max_chars=10)
    assert inputs.texts == ["x" * 10, "short"]
    assert "input(s) 1 longer than 10 characters" in inputs.warnings[0]


def test_stdin_and_unreadable_or_unknown_files(tmp_path):
    inputs = predict.read_inputs([], "-", None, stdin=io.BytesIO(b"one\ntwo\n"))
    assert inputs.texts == ["one", "two"]
    with pytest.raises(TextclfError, match="cannot read .*missing.txt: No such file"):
        predict.read_inputs([], str(tmp_path / "missing.txt"), None)
    with pytest.raises(TextclfError, match="cannot read .*: Is a directory"):
        predict.read_inputs([], str(tmp_path), None, input_format="txt")
    with pytest.raises(TextclfError, match="unknown file type"):
        predict.read_inputs([], str(tmp_path / "reviews.pdf"), None)


PARAMS = """\
datasets:
  imdb: {path: imdb.csv, text_column: text, label_column: label, default_models: false}
  movie_genres: {path: genres.csv, text_column: text, label_column: label, label_delimiter: "|", default_models: false}
models:
  bow_mean: {dataset: imdb, architecture: bow_mean}
  ngram: {dataset: imdb, architecture: ngram}
  genres_ngram: {dataset: movie_genres, architecture: ngram}
  hub_dnn: {dataset: imdb, architecture: hub_dnn, handle: models/hub/pretrained}
"""


def write_leaderboard(project, dataset, board):
    (project / "metrics/leaderboards").mkdir(parents=True, exist_ok=True)
    (project / f"metrics/leaderboards/{dataset}.json").write_text(json.dumps(board) if isinstance(board, dict) else board)


def built_export(project, name):
    export = project / "models" / name / "serving"
    export.mkdir(parents=True)
    (export / "saved_model.pb").write_bytes(b"")
    return export


def test_model_names_resolve_to_exports(tmp_path):
    (tmp_path / "params.yaml").write_text(PARAMS)
    with pytest.raises(TextclfError, match=r"unknown model 'cnn' \(known: bow_mean, ngram, genres_ngram, hub_dnn, or best\)"):
        predict.model_path("cnn", tmp_path)
    with pytest.raises(TextclfError, match=r"'ngram' is not built yet: run `dvc repro export@ngram`"):
        predict.model_path("ngram", tmp_path)
    with pytest.raises(TextclfError, match=r"run `dvc repro export_hub@hub_dnn`"):
        predict.model_path("hub_dnn", tmp_path)
    export = built_export(tmp_path, "ngram")
    assert predict.model_path("ngram", tmp_path) == ("ngram", export)
    assert predict.model_path(str(export), tmp_path) == ("ngram", export)  # any export directory
    assert predict.model_path(str(export), tmp_path, "movie_genres") == ("ngram", export)  # a path needs no dataset
    with pytest.raises(TextclfError, match=r"model 'ngram' is a model of dataset 'imdb', not of 'movie_genres'"):
        predict.model_path("ngram", tmp_path, "movie_genres")  # --dataset is not ignored beside a named model


def test_best_is_the_top_of_the_chosen_datasets_leaderboard(tmp_path):
    (tmp_path / "params.yaml").write_text(PARAMS)
    with pytest.raises(TextclfError, match=r"leaderboards/imdb.json not found: run `dvc repro leaderboard@imdb` "
                                           r"to rank the models of imdb$"):
        predict.model_path("best", tmp_path)  # the first dataset of params.yaml
    with pytest.raises(TextclfError, match=r"run `dvc repro leaderboard@movie_genres`"):
        predict.model_path("best", tmp_path, "movie_genres")
    write_leaderboard(tmp_path, "imdb", {"bow_mean": {"rank": 2, "accuracy": 0.88}, "ngram": {"rank": 1, "accuracy": 0.92}})
    write_leaderboard(tmp_path, "movie_genres", {"genres_ngram": {"rank": 1, "roc_auc_micro": 0.8}})
    assert predict.best_model(tmp_path, "imdb") == "ngram"
    assert predict.best_model(tmp_path, "movie_genres") == "genres_ngram"
    with pytest.raises(TextclfError, match=r"'ngram' is not built yet"):
        predict.model_path("best", tmp_path)
    imdb_best, genres_best = built_export(tmp_path, "ngram"), built_export(tmp_path, "genres_ngram")
    assert predict.model_path("best", tmp_path) == ("ngram", imdb_best)
    assert predict.model_path("best", tmp_path, "imdb") == ("ngram", imdb_best)
    assert predict.model_path("best", tmp_path, "movie_genres") == ("genres_ngram", genres_best)


@pytest.mark.parametrize("content", ["models:\n  bow_mean: {dataset: imdb}\n", "datasets: {}\nmodels:\n  bow_mean: {}\n"])
def test_best_without_datasets_asks_for_a_model(tmp_path, content):
    (tmp_path / "params.yaml").write_text(content)
    with pytest.raises(TextclfError, match=r"params.yaml: no 'datasets' block to pick the best model from; pass --model$"):
        predict.model_path("best", tmp_path)


BINARY = tasks.Binary(["negative", "positive"])
RATINGS = tasks.MultiClass(["1", "2", "3", "4", "7", "8", "9", "10"])
GENRES = tasks.MultiLabel(["Comedy", "Thriller", "Romance", "Action", "Horror"], threshold=0.5)


def predictions(task, rows, top_k=3):
    """What predict prints for [n, K] probability rows (float32, as the export returns them)."""
    return [task.prediction(row, top_k) for row in np.asarray(rows, np.float32)]


def test_binary_table_and_json_lines():
    shown = predictions(BINARY, [[0.02, 0.98], [0.9, 0.1]])
    lines = predict.table([1, 3], ["Loved it.", "word " * 40], shown, BINARY).splitlines()
    assert lines[0].split() == ["#", "label", "P(positive)", "text"]
    assert lines[1].split() == ["1", "positive", "0.980", "Loved", "it."]
    assert lines[2].split()[:3] == ["3", "negative", "0.100"]
    assert lines[2].endswith("…") and len(lines) == 3
    records = [json.loads(line) for line in predict.json_lines([2], ["Sé"], shown[1:], "ngram").splitlines()]
    assert records == [{"input": 2, "model": "ngram", "label": "negative", "probability": 0.1,
                        "probabilities": {"negative": 0.9, "positive": 0.1}, "text": "Sé"}]


def test_binary_label_follows_the_probability_of_the_second_class():
    shown = predictions(BINARY, [[0.5, 0.5], [0.51, 0.49], [0.0, 1.0]])
    assert [(p["label"], p["probability"]) for p in shown] == [("positive", 0.5), ("negative", 0.49), ("positive", 1.0)]


def test_multi_class_table_and_json_lines_name_the_most_probable_class():
    shown = predictions(RATINGS, [[0.05, 0.05, 0.05, 0.05, 0.1, 0.6, 0.05, 0.05]])
    lines = predict.table([1], ["Pretty good."], shown, RATINGS).splitlines()
    assert lines[0].split() == ["#", "label", "P", "text"]
    assert lines[1].split() == ["1", "8", "0.600", "Pretty", "good."]
    record = json.loads(predict.json_lines([1], ["Pretty good."], shown, "ratings_ngram"))
    assert (record["label"], record["probability"]) == ("8", 0.6)
    assert list(record["probabilities"]) == RATINGS.classes and record["probabilities"]["7"] == 0.1


def test_multi_label_table_shows_the_top_k_and_marks_those_at_or_above_the_threshold():
    shown = predictions(GENRES, [[0.9, 0.1, 0.5, 0.7, 0.2], [0.1, 0.2, 0.3, 0.05, 0.4]], top_k=2)
    lines = predict.table([1, 2], ["A funny romance.", "Hard to say."], shown, GENRES).splitlines()
    assert lines[0].split()[:3] == ["#", "label", "top"] and "(* at or above the threshold)" in lines[0]
    # Every label at or above 0.5 (most probable first), then the top 2 only.
    assert lines[1].split()[:4] == ["1", "Comedy,", "Action,", "Romance"]
    assert "  Comedy 0.900*, Action 0.700*  " in lines[1] and "Romance 0.500" not in lines[1]
    assert lines[2].split()[:2] == ["2", "-"]  # no label reaches the threshold
    assert "  Horror 0.400, Romance 0.300  " in lines[2] and "*" not in lines[2]
    assert len(lines) == 3 and lines[1].endswith("A funny romance.") and lines[2].endswith("Hard to say.")


def test_multi_label_json_lines_hold_every_probability():
    shown = predictions(GENRES, [[0.9, 0.1, 0.5, 0.7, 0.2]], top_k=2)
    record = json.loads(predict.json_lines([4], ["A funny romance."], shown, "genres_ngram"))
    assert record == {
        "input": 4, "model": "genres_ngram", "labels": ["Comedy", "Action", "Romance"],
        "top": [["Comedy", 0.9], ["Action", 0.7]], "threshold": 0.5,
        "probabilities": {"Comedy": 0.9, "Thriller": 0.1, "Romance": 0.5, "Action": 0.7, "Horror": 0.2},
        "text": "A funny romance.",
    }


def test_multi_label_top_k_beyond_the_labels_shows_them_all():
    (shown,) = predictions(GENRES, [[0.9, 0.1, 0.5, 0.7, 0.2]], top_k=50)
    assert [name for name, _ in shown["top"]] == ["Comedy", "Action", "Romance", "Horror", "Thriller"]


def test_multi_label_stars_exactly_the_labels_of_the_label_column():
    just_below = np.nextafter(np.float32(0.5), np.float32(0))
    (shown,) = predictions(GENRES, [[just_below, 0.1, 0.2, 0.3, 0.4]], top_k=1)
    labels, scores = GENRES.cells(shown)
    assert (labels, scores) == ("-", "Comedy 0.500")


def test_classify_keeps_order_across_batches():
    seen = []

    def lengths(batch):  # a stand-in predictor: [n, 2] "probabilities", the text's length and its negative
        seen.append([len(text) for text in batch])
        return np.array([[len(text), -len(text)] for text in batch], np.float32)

    sizes = [5, 1, 7, 3, 2, 6, 4]
    texts = ["a" * n for n in sizes]
    np.testing.assert_array_equal(predict.classify(lengths, texts, batch_size=3),
                                  np.stack([sizes, np.negative(sizes)], axis=1))
    assert seen == [[1, 2, 3], [4, 5, 6], [7]]  # shortest first, so a batch pads to about its own length
    assert len(predict.classify(lengths, [], batch_size=3)) == 0


@pytest.mark.parametrize("value, kind", [("null", "null"), ("3", "a number"), ("true", "a boolean"),
                                         ('["a"]', "an array"), ('{"a": 1}', "an object")])
def test_jsonl_values_that_are_not_strings_are_errors(tmp_path, value, kind):
    path = tmp_path / "reviews.jsonl"
    path.write_text(f'{{"text": "good"}}\n{{"text": {value}}}\n', encoding="utf-8")
    with pytest.raises(TextclfError, match=rf"reviews.jsonl: line 2: field 'text' is {kind}, not a string$"):
        predict.read_inputs([], str(path), None)


@pytest.mark.parametrize("line, message", [
    ('{"text": ' + "9" * 5000 + "}", "line 1 is not usable JSON"),
    ("[" * 100_000 + "]" * 100_000, "line 1 is JSON nested too deeply to read"),
    ('"just a string"', "line 1 is a string, not a JSON object with a 'text' field"),
])
def test_jsonl_that_python_cannot_take_is_one_error(tmp_path, line, message):
    path = tmp_path / "reviews.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(TextclfError, match=message):
        predict.read_inputs([], str(path), None)


def test_an_unterminated_csv_quote_is_an_error_naming_where_it_opens(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text('id,text\n1,"fine"\n2,"never closed\n3,swallowed\n4,also swallowed\n', encoding="utf-8")
    with pytest.raises(TextclfError, match=r"reviews.csv: line 3: a quoted field opens here and is never closed$"):
        predict.read_inputs([], str(path), None)


def test_csv_records_must_match_the_header(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text('id,text\n1,fine\n2,"a, b",extra\n', encoding="utf-8")
    with pytest.raises(TextclfError, match=r"reviews.csv: line 3 has 3 field\(s\), but the header has 2"):
        predict.read_inputs([], str(path), None)
    path.write_text("", encoding="utf-8")
    with pytest.raises(TextclfError, match="reviews.csv is empty: a CSV file needs a header row"):
        predict.read_inputs([], str(path), None)


def test_a_csv_field_beyond_the_csv_module_limit_is_cut_with_a_warning(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("text\n" + "long " * 40_000 + "\nshort\n", encoding="utf-8")
    inputs = predict.read_inputs([], str(path), None, max_chars=1000)
    assert [len(text) for text in inputs.texts] == [1000, 5]
    assert "input(s) 1 longer than 1,000 characters were cut" in inputs.warnings[0]


def test_undecodable_bytes_in_an_argument_are_replaced_with_a_warning():
    argument = b"caf\xe9 au lait".decode("utf-8", errors="surrogateescape")  # how Python passes such an argv
    inputs = predict.read_inputs(["fine", argument], None, None)
    assert inputs.texts == ["fine", "caf\ufffd au lait"]
    assert inputs.warnings == ["argument(s) 2 are not valid UTF-8; bad bytes were replaced with U+FFFD"]


def test_column_only_where_a_file_has_columns(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_text("one review\n", encoding="utf-8")
    with pytest.raises(TextclfError, match=r"--column applies to .csv and .jsonl input; .*reviews.txt is read as one review per line"):
        predict.read_inputs([], str(path), "review")
    with pytest.raises(TextclfError, match="--column applies to --file input"):
        predict.read_inputs(["a review"], None, "review")


def test_a_file_without_reviews_is_named_in_the_error(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(TextclfError, match=r"no review to classify in .*reviews.txt: all 2 input\(s\) are empty$"):
        predict.read_inputs([], str(path), None)
    path.write_text("", encoding="utf-8")
    with pytest.raises(TextclfError, match=r"no review to classify in .*reviews.txt: it holds none$"):
        predict.read_inputs([], str(path), None)


@pytest.mark.parametrize("content, message", [
    ("models: [unclosed", "params.yaml: not valid YAML"),
    ("42\n", "params.yaml: expected a mapping of stage blocks"),
    ("models: 3\n", "params.yaml: 'models' must be a mapping of names to blocks, got int"),
])
def test_a_broken_params_file_is_one_error(tmp_path, content, message):
    (tmp_path / "params.yaml").write_text(content)
    with pytest.raises(TextclfError, match=message):
        predict.model_path("bow_mean", tmp_path)


@pytest.mark.parametrize("content", [
    "", "{", "[1, 2]", '{"bow_mean": {"rank": "first"}}', '{"bow_mean": 1}', '{"a": {"rank": 1}, "b": {"rank": 1}}',
    '<<<<<<< HEAD\n{"bow_mean": {"rank": 1}}\n=======\n{"bow_mean": {"rank": 2}}\n>>>>>>> main\n',
])
def test_a_broken_leaderboard_is_one_error(tmp_path, content):
    (tmp_path / "params.yaml").write_text(PARAMS)
    write_leaderboard(tmp_path, "movie_genres", content)
    with pytest.raises(TextclfError, match=r"leaderboards/movie_genres.json is not (valid JSON|a leaderboard).*"
                                           r"`dvc repro leaderboard@movie_genres`"):
        predict.model_path("best", tmp_path, "movie_genres")


def test_the_table_shows_control_characters_as_escapes():
    review = "Great \x1b]0;pwned\x07film \u202eevil\x9b31m"
    shown = predictions(BINARY, [[0.1, 0.9]])
    line = predict.table([1], [review], shown, BINARY).splitlines()[1]
    assert line.endswith("Great \\x1b]0;pwned\\x07film \\u202eevil\\x9b31m")
    record = predict.json_lines([1], [review], shown, "bow_mean")
    assert "\x1b" not in record and "\x9b" not in record and json.loads(record)["text"] == review


def test_class_names_with_control_characters_are_escaped_in_the_table():
    task = tasks.MultiLabel(["ok", "bad\x1b[2J"], threshold=0.5)
    text = predict.table([1], ["review"], predictions(task, [[0.2, 0.9]]), task)
    assert "\x1b" not in text and "bad\\x1b[2J" in text
