"""The `textclf` console script on a real exported model, as a user runs it."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from textclf import cli, serving

from test_serving import trained

pytestmark = pytest.mark.slow
SCRIPT = str(Path(sys.executable).parent / "textclf")  # installed by pyproject's [project.scripts]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    model, settings, vocabulary, _ = trained("bow_mean")
    serving.export(serving.end_to_end(model, "sequence", settings, vocabulary), root / "models/bow_mean/serving")
    (root / "params.yaml").write_text("models:\n  bow_mean: {}\n  ngram: {}\n")
    (root / "metrics").mkdir()
    (root / "metrics/leaderboard.json").write_text(json.dumps({"bow_mean": {"rank": 1, "accuracy": 0.9}}))
    return root


def run(*args, stdin=None):
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([SCRIPT, *args], input=stdin, capture_output=True, env=env)


def test_table_for_command_line_texts(project, capsys):
    cli.main(["predict", "--project", str(project), "--model", "bow_mean", "a great film", "dull dull"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["#", "label", "P(pos)", "text"]
    assert lines[1].split()[:2] == ["1", "positive"] and lines[2].split()[:2] == ["2", "negative"]


def test_json_lines_from_a_csv_column_with_the_best_model(project, tmp_path, capsys):
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("id,review\n7,great cast\n8,\n9,dull plot\n", encoding="utf-8")
    cli.main(["predict", "--project", str(project), "--file", str(reviews), "--column", "review", "--format", "jsonl"])
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert [(r["input"], r["label"], r["model"]) for r in records] == [(1, "positive", "bow_mean"), (3, "negative", "bow_mean")]
    assert 0.0 <= records[0]["probability"] <= 1.0
    assert "warning: skipped 1 empty" in captured.err


def test_console_script_reads_stdin(project):
    result = run("predict", "--project", str(project), "-m", "bow_mean", "--format", "jsonl", stdin=b"great fun\ndull\n")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["label"] for line in result.stdout.splitlines()] == ["positive", "negative"]


@pytest.mark.parametrize("args, message", [
    (["-m", "cnn", "fine"], "unknown model 'cnn' (known: bow_mean, ngram, or best)"),
    (["-m", "ngram", "fine"], "model 'ngram' is not built yet: run `dvc repro export@ngram`"),
    (["-m", "bow_mean", "--file", "missing.csv"], "cannot read missing.csv: No such file or directory"),
    (["-m", "bow_mean", " "], "no review to classify"),
])
def test_bad_input_is_one_error_line_without_traceback(project, args, message):
    result = run("predict", "--project", str(project), *args)
    assert result.returncode == 1
    lines = [line for line in result.stderr.decode().splitlines() if line.strip()]
    assert lines[-1] == f"error: {message}" or message in lines[-1], result.stderr
    assert "Traceback" not in result.stderr.decode()


def test_a_damaged_export_is_one_error_line(project, tmp_path):
    damaged = tmp_path / "serving"
    shutil.copytree(project / "models/bow_mean/serving", damaged)
    variables = next((damaged / "variables").glob("variables.data-*"))
    variables.write_bytes(variables.read_bytes()[: variables.stat().st_size // 2])
    result = run("predict", "--project", str(project), "-m", str(damaged), "fine film")
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert lines == [line for line in lines if line.startswith("error: cannot load the exported model in ")], lines
    assert len(lines) == 1 and "rebuild it with `dvc repro` or fetch it again with `dvc pull`" in lines[0]


def test_undecodable_argument_bytes_and_terminal_escapes(project):
    result = run("predict", "--project", str(project), "-m", "bow_mean", b"caf\xe9 great", "great \x1b]0;pwned\x07 film")
    assert result.returncode == 0, result.stderr
    assert result.stderr.decode().splitlines() == [
        "warning: argument(s) 1 are not valid UTF-8; bad bytes were replaced with U+FFFD"]
    out = result.stdout.decode()
    assert "\x1b" not in out and "\x07" not in out
    assert out.splitlines()[1].endswith("caf\ufffd great") and out.splitlines()[2].endswith("great \\x1b]0;pwned\\x07 film")


@pytest.mark.parametrize("name, content, message", [
    ("r.jsonl", b'{"text": null}\n', "r.jsonl: line 1: field 'text' is null, not a string"),
    ("r.csv", b'text\n"open\nrest\n', "r.csv: line 2: a quoted field opens here and is never closed"),
    ("r.jsonl", b'{"text": ' + b"9" * 5000 + b"}\n",
     "r.jsonl: line 1 is not usable JSON (Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits)"),
])
def test_bad_files_are_one_error_line_through_the_script(project, tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    result = run("predict", "--project", str(project), "-m", "bow_mean", "--file", str(tmp_path / name))
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [f"error: {tmp_path / name}: {message.split(': ', 1)[1]}"]
