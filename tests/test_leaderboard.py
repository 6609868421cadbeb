import json

import pytest

from textclf import leaderboard, predict
from textclf.errors import TextclfError


def write_model_files(root, name, accuracy):
    (root / "metrics" / name).mkdir(parents=True)
    (root / "timings").mkdir(exist_ok=True)
    (root / "metrics" / name / "evaluate.json").write_text(json.dumps({"accuracy": accuracy, "roc_auc": 0.9, "f1": 0.8}))
    (root / "metrics" / name / "train").mkdir()
    (root / "metrics" / name / "train" / "metrics.json").write_text(json.dumps({"parameters": 1234, "model_bytes": 2_500_000}))
    (root / "timings" / f"{name}.json").write_text(json.dumps({"train_seconds": 12.3}))


def test_rows_are_ranked_by_accuracy(tmp_path):
    write_model_files(tmp_path, "slow", 0.85)
    write_model_files(tmp_path, "fast", 0.91)
    rows = leaderboard.build(["slow", "fast"], tmp_path / "metrics", tmp_path / "timings")
    assert [row["model"] for row in rows] == ["fast", "slow"]
    assert rows[0] == {"model": "fast", "accuracy": 0.91, "roc_auc": 0.9, "f1": 0.8, "train_seconds": 12.3,
                       "parameters": 1234, "model_bytes": 2_500_000}
    table = leaderboard.markdown(rows).splitlines()
    assert table[0].startswith("| rank | model | test accuracy")
    assert table[2] == "| 1 | `fast` | 0.9100 | 0.9000 | 0.8000 | 12 | 1,234 | 2.5 MB |"


def test_missing_metric_file_is_named(tmp_path):
    write_model_files(tmp_path, "a", 0.9)
    (tmp_path / "metrics" / "a" / "evaluate.json").unlink()
    with pytest.raises(TextclfError, match=r"a/evaluate.json not found \(run `dvc repro`"):
        leaderboard.build(["a"], tmp_path / "metrics", tmp_path / "timings")


@pytest.mark.parametrize(("content", "message"), [("{broken", "is not valid JSON"), ('{"accuracy": "high"}', "lacks the number 'accuracy'")])
def test_malformed_metric_file_is_named(tmp_path, content, message):
    write_model_files(tmp_path, "a", 0.9)
    (tmp_path / "metrics" / "a" / "evaluate.json").write_text(content)
    with pytest.raises(TextclfError, match=message):
        leaderboard.build(["a"], tmp_path / "metrics", tmp_path / "timings")


def test_human_bytes():
    assert [leaderboard.human_bytes(n) for n in (999, 1_500, 3_871_461)] == ["999 B", "1.5 KB", "3.9 MB"]


def test_a_tie_keeps_params_order_and_predict_best_follows_the_leaderboard(tmp_path):
    for name in ("zeta", "alpha", "mid"):
        write_model_files(tmp_path, name, 0.9 if name != "mid" else 0.8)
    rows = leaderboard.build(["zeta", "alpha", "mid"], tmp_path / "metrics", tmp_path / "timings")
    assert [row["model"] for row in rows] == ["zeta", "alpha", "mid"]
    board = leaderboard.metrics(rows)
    assert {name: row["rank"] for name, row in board.items()} == {"zeta": 1, "alpha": 2, "mid": 3}
    assert "train_seconds" not in board["zeta"]
    project = tmp_path / "project"
    (project / "metrics").mkdir(parents=True)
    (project / "metrics/leaderboard.json").write_text(json.dumps(board, sort_keys=True))  # as the stage writes it
    assert predict.best_model(project) == "zeta"
