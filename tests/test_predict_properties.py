"""Property-based tests of `textclf predict`'s input readers, its predictions and its output formats.

Whatever a file holds, reading it ends one of two ways: one input per record,
each non-empty one kept with its text unchanged, or a TextclfError whose
message is one line. Never another exception, never a merged or invented row.
"""

import csv
import io
import json
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from textclf import tasks
from textclf.core.errors import TextclfError
from textclf.serving import predict

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# A JSON value of any type, nested a little.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
# What a terminal would act on: every control character but the newline ending a line.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def read(tmp_path, name: str, data: bytes, column=None):
    path = tmp_path / name
    path.write_bytes(data)
    return predict.read_inputs([], str(path), column)


def assert_one_line_error(error: TextclfError):
    assert str(error) and "\n" not in str(error)


@SETTINGS
@given(data=st.binary(max_size=400))
def test_any_bytes_as_txt_give_one_input_per_non_blank_line(tmp_path, data):
    lines = data.split(b"\n")
    lines = lines[:-1] if lines[-1] == b"" else lines
    non_blank = [number for number, line in enumerate(lines, 1)
                 if line.decode("utf-8", errors="replace").removeprefix("\ufeff").strip()]
    try:
        inputs = read(tmp_path, "reviews.txt", data)
    except TextclfError as error:
        assert_one_line_error(error)
        assert not non_blank and "no review to classify" in str(error)
        return
    assert inputs.numbers == non_blank
    assert all("\n" not in text for text in inputs.texts)


@SETTINGS
@given(values=st.lists(JSON_VALUES, min_size=1, max_size=6))
def test_any_json_values_are_kept_only_when_they_are_strings(tmp_path, values):
    data = "".join(json.dumps({"text": value}) + "\n" for value in values).encode()
    first_bad = next((number for number, value in enumerate(values, 1) if not isinstance(value, str)), None)
    try:
        inputs = read(tmp_path, "reviews.jsonl", data)
    except TextclfError as error:
        assert_one_line_error(error)
        if first_bad is not None:
            assert f"line {first_bad}: field 'text' is" in str(error) and "not a string" in str(error)
        else:
            assert all(not value.strip() for value in values)
        return
    assert first_bad is None
    assert inputs.texts == [value for value in values if value.strip()]
    assert inputs.numbers == [number for number, value in enumerate(values, 1) if value.strip()]


@SETTINGS
@given(lines=st.lists(st.text(max_size=30).filter(lambda line: "\n" not in line), min_size=1, max_size=5))
def test_any_jsonl_line_is_read_or_named_in_one_error_line(tmp_path, lines):
    data = "\n".join(lines).encode("utf-8", errors="surrogatepass")
    try:
        inputs = read(tmp_path, "reviews.jsonl", data)
    except TextclfError as error:
        assert_one_line_error(error)
        return
    assert len(inputs.texts) <= len(lines)


@SETTINGS
@given(
    texts=st.lists(st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"])), min_size=1, max_size=6),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
    line_end=st.sampled_from(["\r\n", "\n"]),
)
def test_csv_written_with_any_quoting_reads_back_row_for_row(tmp_path, texts, quoting, line_end):
    # Python's writer leaves a lone \r unquoted when lines end in \n: that file is ambiguous, not ours to read back.
    assume(line_end == "\r\n" or not any("\r" in text for text in texts))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=quoting, lineterminator=line_end)
    writer.writerow(["id", "text"])
    writer.writerows([[number, text] for number, text in enumerate(texts, 1)])
    try:
        inputs = read(tmp_path, "reviews.csv", buffer.getvalue().encode())
    except TextclfError as error:
        assert all(not text.strip() for text in texts) and "no review to classify" in str(error)
        return
    assert inputs.texts == [text for text in texts if text.strip()]
    assert inputs.numbers == [number for number, text in enumerate(texts, 1) if text.strip()]


@SETTINGS
@given(before=st.lists(st.text(alphabet='ab ,\n"'), max_size=3), broken=st.text(alphabet='ab ,\n"'),
       after=st.lists(st.text(alphabet="ab ", min_size=1), max_size=3))
def test_a_quote_never_closed_is_an_error_naming_its_line_not_a_merged_review(tmp_path, before, broken, after):
    buffer = io.StringIO(newline="")
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows([["text"]] + [[text] for text in before])
    opened = buffer.getvalue().count("\n") + 1
    # The record's closing quote is lost; nothing after it has a quote to close it.
    data = buffer.getvalue() + '"' + broken.replace('"', '""') + "\n" + "".join(text + "\n" for text in after)
    with pytest.raises(TextclfError) as raised:
        read(tmp_path, "reviews.csv", data.encode())
    assert_one_line_error(raised.value)
    assert str(raised.value).endswith(f"reviews.csv: line {opened}: a quoted field opens here and is never closed")


# Class names as users write them (any text, digits for star ratings), and every task kind.
CLASS_NAMES = st.lists(st.text(min_size=1, max_size=8).filter(str.strip), min_size=2, max_size=6, unique=True)


@st.composite
def tasks_and_probabilities(draw, rows=st.integers(1, 4)):
    """A task and [n, K] float32 probabilities of the shape its export returns."""
    kind = draw(st.sampled_from(sorted(tasks.TASKS)))
    names = draw(CLASS_NAMES)
    if kind == "binary":
        names = names[:2]
    task = tasks.TASKS[kind](names, draw(st.floats(0.05, 0.95)))
    count = draw(rows)
    unit = st.floats(0.0, 1.0, width=32)
    probabilities = np.array(draw(st.lists(st.lists(unit, min_size=len(names), max_size=len(names)),
                                           min_size=count, max_size=count)), np.float32)
    if kind == "binary":
        probabilities[:, 0] = 1.0 - probabilities[:, 1]
    return task, probabilities


@SETTINGS
@given(case=tasks_and_probabilities(), top_k=st.integers(1, 8))
def test_every_prediction_holds_every_class_probability_and_a_consistent_decision(case, top_k):
    task, probabilities = case
    for row in probabilities:
        prediction = task.prediction(row, top_k)
        assert list(prediction["probabilities"]) == task.classes
        assert all(0.0 <= value <= 1.0 for value in prediction["probabilities"].values())
        if task.name == "multi_label":
            chosen = {name for name, value in zip(task.classes, row) if value >= task.threshold}
            assert set(prediction["labels"]) == chosen
            top = [value for _, value in prediction["top"]]
            assert len(top) == min(top_k, len(task.classes)) and top == sorted(top, reverse=True)
            assert prediction["threshold"] == task.threshold
        elif task.name == "binary":
            assert prediction["label"] == task.classes[int(row[1] >= task.threshold)]
            assert prediction["probability"] == pytest.approx(float(row[1]), abs=1e-6)
        else:
            assert prediction["probability"] == pytest.approx(float(row.max()), abs=1e-6)
            assert row[task.classes.index(prediction["label"])] == row.max()


@SETTINGS
@given(texts=st.lists(st.text(min_size=1), min_size=1, max_size=4), case=tasks_and_probabilities(rows=st.just(4)))
def test_outputs_hold_one_line_per_review_and_no_control_character(texts, case):
    task, probabilities = case
    numbers = list(range(1, len(texts) + 1))
    predictions = [task.prediction(row, 3) for row in probabilities[: len(texts)]]
    table = predict.table(numbers, texts, predictions, task)
    header, body = table.split("\n", 1)  # the header names a class in binary tasks: see the test below
    assert len(body.splitlines()) == len(texts)
    assert not UNSAFE.search(body)
    records = predict.json_lines(numbers, texts, predictions, "bow_mean")
    assert not UNSAFE.search(records.replace("\n", ""))
    assert [json.loads(line)["text"] for line in records.splitlines()] == texts
    assert [json.loads(line)["probabilities"] for line in records.splitlines()] == [p["probabilities"] for p in predictions]


def test_the_table_header_shows_control_characters_of_class_names_as_escapes():
    task = tasks.Binary(["negative", "pos\x1b]0;pwned\x07\ritive"])
    table = predict.table([1], ["fine"], [task.prediction(np.array([0.1, 0.9], np.float32), 3)], task)
    assert len(table.splitlines()) == 2 and not UNSAFE.search(table.replace("\n", ""))
