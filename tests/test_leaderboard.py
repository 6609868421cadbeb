import json
import os

import pytest

from textclf import tasks
from textclf.core.errors import TextclfError
from textclf.pipeline import layout
from textclf.reporting import leaderboard
from textclf.serving import predict

BINARY = tasks.Binary(["negative", "positive"])
RATINGS = tasks.MultiClass([1, 2, 3])
GENRES = tasks.MultiLabel(["Comedy", "Drama"], threshold=0.5)


def write_model_files(root, name, **evaluation):
    """The files a model's train and evaluate stages write, where textclf.pipeline.layout puts them (dataset "d")."""
    (root / layout.train_log("d", name)).mkdir(parents=True)
    (root / layout.timing("d", name)).parent.mkdir(parents=True, exist_ok=True)
    (root / layout.evaluation("d", name)).write_text(json.dumps(evaluation))
    (root / layout.train_log("d", name) / "metrics.json").write_text(json.dumps({"parameters": 1234, "model_bytes": 2_500_000}))
    (root / layout.timing("d", name)).write_text(json.dumps({"train_seconds": 12.3}))


def binary_scores(accuracy):
    return {"accuracy": accuracy, "roc_auc": 0.9, "f1": 0.8, "loss": 0.3}


def build(root, names, task):
    here = os.getcwd()
    os.chdir(root)
    try:
        return leaderboard.build(names, "d", task)
    finally:
        os.chdir(here)


def test_binary_rows_are_ranked_by_accuracy(tmp_path):
    write_model_files(tmp_path, "slow", **binary_scores(0.85))
    write_model_files(tmp_path, "fast", **binary_scores(0.91))
    rows = build(tmp_path, ["slow", "fast"], BINARY)
    assert [row["model"] for row in rows] == ["fast", "slow"]
    assert rows[0] == {"model": "fast", "accuracy": 0.91, "roc_auc": 0.9, "f1": 0.8, "train_seconds": 12.3,
                       "parameters": 1234, "model_bytes": 2_500_000}
    table = leaderboard.markdown(rows, BINARY).splitlines()
    assert table[0] == "| rank | model | test accuracy | ROC-AUC | F1 | train time (s) | parameters | model size |"
    assert table[1] == "|---|---|---|---|---|---|---|---|"
    assert table[2] == "| 1 | `fast` | 0.9100 | 0.9000 | 0.8000 | 12 | 1,234 | 2.5 MB |"


def test_multi_class_rows_are_ranked_by_macro_f1_not_accuracy(tmp_path):
    # The majority-class guesser has the better accuracy and the worse macro F1.
    write_model_files(tmp_path, "majority", accuracy=0.6, macro_f1=0.25, weighted_f1=0.45, per_class={"1": {}})
    write_model_files(tmp_path, "balanced", accuracy=0.55, macro_f1=0.5, weighted_f1=0.52, per_class={"1": {}})
    rows = build(tmp_path, ["majority", "balanced"], RATINGS)
    assert [row["model"] for row in rows] == ["balanced", "majority"]
    assert "per_class" not in rows[0]  # only the shown numbers are gathered
    table = leaderboard.markdown(rows, RATINGS).splitlines()
    assert table[0] == "| rank | model | macro F1 | test accuracy | weighted F1 | train time (s) | parameters | model size |"
    assert table[2] == "| 1 | `balanced` | 0.5000 | 0.5500 | 0.5200 | 12 | 1,234 | 2.5 MB |"


def test_multi_label_rows_are_ranked_by_micro_roc_auc(tmp_path):
    scores = {"roc_auc_macro": 0.8, "precision_micro": 0.7, "recall_micro": 0.6, "f1_micro": 0.65}
    write_model_files(tmp_path, "a", roc_auc_micro=0.81, **scores)
    write_model_files(tmp_path, "b", roc_auc_micro=0.93, **scores | {"f1_micro": 0.5})
    rows = build(tmp_path, ["a", "b"], GENRES)
    assert [row["model"] for row in rows] == ["b", "a"]
    table = leaderboard.markdown(rows, GENRES).splitlines()
    assert table[0] == ("| rank | model | micro ROC-AUC | macro ROC-AUC | micro precision | micro recall | micro F1 "
                        "| train time (s) | parameters | model size |")
    assert table[1].count("---") == 10
    assert table[2] == "| 1 | `b` | 0.9300 | 0.8000 | 0.7000 | 0.6000 | 0.5000 | 12 | 1,234 | 2.5 MB |"
    assert leaderboard.metrics(rows)["a"] == {"rank": 2, "roc_auc_micro": 0.81, **scores, "parameters": 1234,
                                              "model_bytes": 2_500_000}


def test_columns_are_the_tasks_then_the_common_ones():
    for task in (BINARY, RATINGS, GENRES):
        shown = leaderboard.columns(task)
        assert next(iter(shown)) == task.main_metric
        assert list(shown)[-3:] == ["train_seconds", "parameters", "model_bytes"]


def test_a_metric_of_another_task_is_named_as_missing(tmp_path):
    write_model_files(tmp_path, "a", **binary_scores(0.9))  # a binary evaluation where a multi-class one is expected
    with pytest.raises(TextclfError, match="a/evaluate.json lacks the number 'macro_f1'"):
        build(tmp_path, ["a"], RATINGS)


def test_missing_metric_file_is_named(tmp_path):
    write_model_files(tmp_path, "a", **binary_scores(0.9))
    (tmp_path / layout.evaluation("d", "a")).unlink()
    with pytest.raises(TextclfError, match=r"a/evaluate.json not found \(run `dvc repro`"):
        build(tmp_path, ["a"], BINARY)


@pytest.mark.parametrize(("content", "message"), [("{broken", "is not valid JSON"), ('{"accuracy": "high"}', "lacks the number 'accuracy'")])
def test_malformed_metric_file_is_named(tmp_path, content, message):
    write_model_files(tmp_path, "a", **binary_scores(0.9))
    (tmp_path / layout.evaluation("d", "a")).write_text(content)
    with pytest.raises(TextclfError, match=message):
        build(tmp_path, ["a"], BINARY)


def test_human_bytes():
    assert [leaderboard.human_bytes(n) for n in (999, 1_500, 3_871_461)] == ["999 B", "1.5 KB", "3.9 MB"]


def test_a_tie_keeps_params_order_and_predict_best_follows_the_leaderboard(tmp_path):
    for name in ("zeta", "alpha", "mid"):
        write_model_files(tmp_path, name, **binary_scores(0.9 if name != "mid" else 0.8))
    rows = build(tmp_path, ["zeta", "alpha", "mid"], BINARY)
    assert [row["model"] for row in rows] == ["zeta", "alpha", "mid"]
    board = leaderboard.metrics(rows)
    assert {name: row["rank"] for name, row in board.items()} == {"zeta": 1, "alpha": 2, "mid": 3}
    assert "train_seconds" not in board["zeta"]
    project = tmp_path / "project"
    (project / "metrics" / "leaderboards").mkdir(parents=True)
    (project / "metrics/leaderboards/imdb.json").write_text(json.dumps(board, sort_keys=True))  # as the stage writes it
    assert predict.best_model(project, "imdb") == "zeta"
