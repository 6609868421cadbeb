"""`textclf predict` input handling: files, columns, encodings, empty and long reviews."""

import io
import json

import numpy as np
import pytest

from textclf import predict
from textclf.errors import TextclfError


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


def test_model_names_resolve_to_exports(tmp_path):
    (tmp_path / "params.yaml").write_text("models:\n  bow_mean: {}\n  ngram: {}\nhub_models:\n  hub_dnn: {}\n")
    with pytest.raises(TextclfError, match=r"unknown model 'cnn' \(known: bow_mean, ngram, hub_dnn, or best\)"):
        predict.model_path("cnn", tmp_path)
    with pytest.raises(TextclfError, match=r"'ngram' is not built yet: run `dvc repro export@ngram`"):
        predict.model_path("ngram", tmp_path)
    with pytest.raises(TextclfError, match=r"run `dvc repro export_hub@hub_dnn`"):
        predict.model_path("hub_dnn", tmp_path)
    with pytest.raises(TextclfError, match="run `dvc repro leaderboard`"):
        predict.model_path("best", tmp_path)
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/leaderboard.json").write_text(json.dumps({"bow_mean": {"rank": 2, "accuracy": 0.88},
                                                                   "ngram": {"rank": 1, "accuracy": 0.92}}))
    assert predict.best_model(tmp_path) == "ngram"
    export = tmp_path / "models/ngram/serving"
    export.mkdir(parents=True)
    (export / "saved_model.pb").write_bytes(b"")
    assert predict.model_path("best", tmp_path) == ("ngram", export)
    assert predict.model_path(str(export), tmp_path) == ("ngram", export)  # any export directory


def test_output_formats():
    text = predict.table([1, 3], ["Loved it.", "word " * 40], [0.98, 0.1], ["positive", "negative"])
    lines = text.splitlines()
    assert lines[1].split() == ["1", "positive", "0.980", "Loved", "it."]
    assert lines[2].endswith("…") and len(lines) == 3
    records = [json.loads(line) for line in predict.json_lines([2], ["Sé"], [0.25], ["negative"], "ngram").splitlines()]
    assert records == [{"input": 2, "model": "ngram", "label": "negative", "probability": 0.25, "text": "Sé"}]


def test_classify_keeps_order_across_batches():
    seen = []

    def lengths(batch):  # a stand-in predictor: the "probability" is the text's length
        seen.append(len(batch))
        return np.array([len(text) for text in batch], np.float32)

    texts = ["a" * n for n in range(1, 8)]
    np.testing.assert_array_equal(predict.classify(lengths, texts, batch_size=3), np.arange(1, 8))
    assert seen == [3, 3, 1]
    assert predict.classify(lengths, [], batch_size=3).shape == (0,)


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
    ("models: 3\n", "params.yaml: 'models' must be a mapping of model names"),
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
    (tmp_path / "params.yaml").write_text("models:\n  bow_mean: {}\n")
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/leaderboard.json").write_text(content)
    with pytest.raises(TextclfError, match=r"leaderboard.json is not (valid JSON|a leaderboard).*`dvc repro leaderboard`"):
        predict.model_path("best", tmp_path)


def test_the_table_shows_control_characters_as_escapes():
    review = "Great \x1b]0;pwned\x07film \u202eevil\x9b31m"
    line = predict.table([1], [review], [0.9], ["positive"]).splitlines()[1]
    assert line.endswith("Great \\x1b]0;pwned\\x07film \\u202eevil\\x9b31m")
    record = predict.json_lines([1], [review], [0.9], ["positive"], "bow_mean")
    assert "\x1b" not in record and "\x9b" not in record and json.loads(record)["text"] == review
