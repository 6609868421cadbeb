"""The `textclf` console script on real exported models of each task, as a user runs it.

Three tiny models are trained here on cue words (a binary, a multi-class and a
multi-label one) and exported exactly as the export stage does it; nothing
else of the pipeline runs, so the whole file takes seconds.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import PROJECT_ROOT

from textclf import cli, tasks
from textclf.core.tf_runtime import seed_everything
from textclf.features import vectorizing
from textclf.models import zoo
from textclf.serving import exports
from textclf.training import fitting

pytestmark = pytest.mark.slow
SCRIPT = str(Path(sys.executable).parent / "textclf")  # installed by pyproject's [project.scripts]

# Each dataset: its task, and texts with their labels (class names; a list of them for multi-label).
CORPORA = {
    "imdb": (tasks.Binary(["negative", "positive"]),
             [("great fun, great cast", "positive"), ("dull plot and dull cast", "negative"), ("a great film", "positive"),
              ("dull, dull, dull", "negative")]),
    "imdb_ratings": (tasks.MultiClass(["1", "5", "10"]),
                     [("awful awful film", "1"), ("an okay film", "5"), ("superb superb film", "10"),
                      ("awful plot", "1"), ("okay plot", "5"), ("superb plot", "10")]),
    # A threshold other than the default: predict must read it from the export, not from params.yaml.
    "movie_genres": (tasks.MultiLabel(["Comedy", "Horror", "Romance"], threshold=0.4),
                     [("funny jokes", ["Comedy"]), ("ghost blood", ["Horror"]), ("love kiss", ["Romance"]),
                      ("funny ghost", ["Comedy", "Horror"]), ("love and jokes", ["Comedy", "Romance"]),
                      ("a film", ["Comedy"])]),
}
# Each exported model: its dataset (params.yaml's models block lists them, and one more that is not built).
MODELS = {"bow_mean": "imdb", "ratings_bow_mean": "imdb_ratings", "genres_bow_mean": "movie_genres"}
SETTINGS = {"kind": "sequence", "max_tokens": 50, "sequence_length": 16, "standardize": "lower_and_strip_punctuation"}
HPARAMS = {"embedding_dim": 8, "hidden_units": 16, "mask_padding": True, "seed": 0, "batch_size": 8, "epochs": 25,
           "learning_rate": 0.1, "patience": 25, "class_weight": "balanced"}


def export_trained_model(dataset: str, path: Path) -> None:
    """Train a bow_mean model on ``dataset``'s cue words and export it end to end, as the export stage does."""
    task, examples = CORPORA[dataset]
    texts = [text for text, _ in examples] * 8
    if task.name == "multi_label":
        labels = np.array([[name in names for name in task.classes] for _, names in examples] * 8, np.int32)
    else:
        labels = np.array([task.classes.index(name) for _, name in examples] * 8, np.int32)
    seed_everything(0)
    kind = vectorizing.KINDS["sequence"]
    vectorizer = kind.vectorizer(SETTINGS, kind.fit(SETTINGS, texts))
    arrays = kind.encode(vectorizer, texts)
    width = vectorizer.vocabulary_size()
    model, _, _ = fitting.train_model(zoo.model_spec("bow_mean"), HPARAMS, width, (arrays, labels),
                                       (arrays, labels), task)
    exports.export(exports.EndToEndModel(model, kind, vectorizer, task), path)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    for name, dataset in MODELS.items():
        export_trained_model(dataset, root / "models" / name / "serving")
    datasets = "".join(f"  {name}: {{path: {name}.csv, text_column: text, label_column: label, task: {task.name}, "
                       "default_models: false}\n" for name, (task, _) in CORPORA.items())
    zoo = "".join(f"  {name}: {{dataset: {dataset}, architecture: bow_mean}}\n" for name, dataset in MODELS.items())
    (root / "params.yaml").write_text(f"datasets:\n{datasets}models:\n{zoo}  ngram: {{dataset: imdb, architecture: ngram}}\n")
    (root / "metrics/leaderboards").mkdir(parents=True)
    for name, dataset in MODELS.items():
        board = {name: {"rank": 1}} | ({"ngram": {"rank": 2}} if dataset == "imdb" else {})
        (root / f"metrics/leaderboards/{dataset}.json").write_text(json.dumps(board))
    return root


def run(*args, stdin=None):
    """The installed console script, importing this checkout's package."""
    path = os.pathsep.join(filter(None, [str(PROJECT_ROOT / "src"), os.environ.get("PYTHONPATH")]))
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": path}
    return subprocess.run([SCRIPT, *args], input=stdin, capture_output=True, env=env)


def predict_lines(project, capsys, *args):
    cli.main(["predict", "--project", str(project), *args])
    return capsys.readouterr().out.splitlines()


def test_binary_table_for_command_line_texts(project, capsys):
    lines = predict_lines(project, capsys, "--model", "bow_mean", "a great film", "dull dull")
    assert lines[0].split() == ["#", "label", "P(positive)", "text"]
    assert lines[1].split()[:2] == ["1", "positive"] and lines[2].split()[:2] == ["2", "negative"]
    assert float(lines[1].split()[2]) > 0.5 > float(lines[2].split()[2])


def test_binary_json_lines_from_a_csv_column_with_the_best_model(project, tmp_path, capsys):
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("id,review\n7,great cast\n8,\n9,dull plot\n", encoding="utf-8")
    cli.main(["predict", "--project", str(project), "--file", str(reviews), "--column", "review", "--format", "jsonl"])
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    # best of the first dataset in params.yaml (imdb)
    assert [(r["input"], r["label"], r["model"]) for r in records] == [(1, "positive", "bow_mean"), (3, "negative", "bow_mean")]
    for record in records:
        assert list(record["probabilities"]) == ["negative", "positive"]
        assert record["probability"] == record["probabilities"]["positive"]
        assert record["probabilities"]["negative"] + record["probabilities"]["positive"] == pytest.approx(1, abs=1e-5)
    assert "warning: skipped 1 empty" in captured.err


def test_multi_class_table_and_json_lines_name_the_class(project, capsys):
    lines = predict_lines(project, capsys, "-m", "ratings_bow_mean", "superb superb", "awful awful", "okay okay")
    assert lines[0].split() == ["#", "label", "P", "text"]
    assert [line.split()[1] for line in lines[1:]] == ["10", "1", "5"]
    records = [json.loads(line) for line in
               predict_lines(project, capsys, "-m", "ratings_bow_mean", "--format", "jsonl", "superb superb")]
    assert records[0]["label"] == "10" and list(records[0]["probabilities"]) == ["1", "5", "10"]
    assert sum(records[0]["probabilities"].values()) == pytest.approx(1, abs=1e-5)
    assert records[0]["probability"] == max(records[0]["probabilities"].values())


def test_multi_label_table_shows_the_top_k_with_marks(project, capsys):
    lines = predict_lines(project, capsys, "-m", "best", "--dataset", "movie_genres", "--top-k", "2", "funny ghost",
                          "love kiss")
    assert lines[0].split()[:3] == ["#", "label", "top"] and "(* at or above the threshold)" in lines[0]
    first, second = lines[1], lines[2]
    assert first.split()[1:3] == ["Comedy,", "Horror"] or first.split()[1:3] == ["Horror,", "Comedy"]
    assert first.count("*") == 2 and "Romance" not in first  # two labels shown, both at or above the threshold
    assert second.split()[1] == "Romance" and second.count("*") == 1
    assert second.count(",") == 1  # --top-k 2: two labels with their probabilities, one of them marked


def test_multi_label_json_lines_hold_every_probability_and_the_exported_threshold(project, capsys):
    lines = predict_lines(project, capsys, "-m", "genres_bow_mean", "-k", "1", "--format", "jsonl", "funny ghost")
    (record,) = [json.loads(line) for line in lines]
    assert set(record) == {"input", "model", "labels", "top", "threshold", "probabilities", "text"}
    assert record["model"] == "genres_bow_mean" and record["threshold"] == pytest.approx(0.4)
    assert list(record["probabilities"]) == ["Comedy", "Horror", "Romance"]
    assert sorted(record["labels"]) == ["Comedy", "Horror"]
    assert record["labels"] == [name for name in sorted(record["probabilities"], key=record["probabilities"].get,
                                                        reverse=True) if record["probabilities"][name] >= 0.4]
    assert len(record["top"]) == 1 and record["top"][0][0] == record["labels"][0]


def test_best_follows_the_chosen_datasets_leaderboard(project, capsys):
    for dataset, model in (("imdb", "bow_mean"), ("imdb_ratings", "ratings_bow_mean"), ("movie_genres", "genres_bow_mean")):
        lines = predict_lines(project, capsys, "--dataset", dataset, "--format", "jsonl", "a great film")
        assert json.loads(lines[0])["model"] == model


def test_console_script_reads_stdin(project):
    result = run("predict", "--project", str(project), "-m", "bow_mean", "--format", "jsonl", stdin=b"great fun\ndull\n")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["label"] for line in result.stdout.splitlines()] == ["positive", "negative"]


@pytest.mark.parametrize("args, message", [
    (["-m", "cnn", "fine"], "unknown model 'cnn' (known: bow_mean, ratings_bow_mean, genres_bow_mean, ngram, or best)"),
    (["-m", "ngram", "fine"], "model 'ngram' is not built yet: run `dvc repro export@ngram`"),
    (["-m", "bow_mean", "--file", "missing.csv"], "cannot read missing.csv: No such file or directory"),
    (["-m", "bow_mean", " "], "no review to classify"),
    (["-m", "genres_bow_mean", "--top-k", "0", "fine"], "--batch-size, --max-chars and --top-k must be positive"),
    (["-m", "genres_bow_mean", "-k", "-3", "fine"], "--batch-size, --max-chars and --top-k must be positive"),
])
def test_bad_input_is_one_error_line_without_traceback(project, args, message):
    result = run("predict", "--project", str(project), *args)
    assert result.returncode == 1
    lines = [line for line in result.stderr.decode().splitlines() if line.strip()]
    assert lines[-1] == f"error: {message}" or message in lines[-1], result.stderr
    assert "Traceback" not in result.stderr.decode()


def test_a_top_k_that_is_no_number_is_a_usage_error(project):
    result = run("predict", "--project", str(project), "-m", "genres_bow_mean", "--top-k", "three", "fine")
    assert result.returncode == 2
    assert "argument --top-k/-k: invalid int value: 'three'" in result.stderr.decode()


def test_best_of_a_dataset_without_a_leaderboard_says_what_to_run(project, tmp_path):
    shutil.copytree(project / "models", tmp_path / "models")
    shutil.copy(project / "params.yaml", tmp_path / "params.yaml")
    result = run("predict", "--project", str(tmp_path), "--dataset", "imdb_ratings", "fine")
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [
        f"error: {tmp_path}/metrics/leaderboards/imdb_ratings.json not found: run `dvc repro leaderboard@imdb_ratings` "
        "to rank the models of imdb_ratings"]


def test_an_unknown_dataset_is_named_with_the_known_ones(project):
    result = run("predict", "--project", str(project), "--dataset", "movie_genre", "fine")
    assert result.returncode == 1
    (line,) = result.stderr.decode().splitlines()
    assert "movie_genre'" in line and "imdb, imdb_ratings, movie_genres" in line and "dvc repro" not in line


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
