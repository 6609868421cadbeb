import json

import pytest

from textclf import models, training
from textclf.errors import TextclfError
from textclf.tf_runtime import seed_everything

from test_models import HPARAMS, WIDTH, separable_data


def test_dvclive_logs_every_epoch_as_it_ends_and_reads_back(tmp_path):
    tokens, labels = separable_data()
    seed_everything(0)
    hparams = HPARAMS["bow_mean"] | {"seed": 0, "batch_size": 32, "epochs": 3, "learning_rate": 0.05, "patience": 5}
    logged_before_the_end = []

    class Watcher(training.keras.callbacks.Callback):  # what `dvc plots show` would see during the run
        def on_epoch_end(self, epoch, logs=None):
            logged_before_the_end.append((tmp_path / "live/plots/metrics/eval/loss.tsv").read_text().count("\n"))

    live_dir = tmp_path / "live"
    _, rows, best_epoch = training.train_model(
        models.model_spec("bow_mean"), hparams, WIDTH, ({"tokens": tokens}, labels), ({"tokens": tokens}, labels),
        callbacks=(training.live_logger(live_dir), Watcher()),
    )
    assert logged_before_the_end == [2, 3, 4]  # the header and every epoch so far, as each epoch ends
    assert (live_dir / "plots/metrics/train/accuracy.tsv").read_text().splitlines()[:2] == [
        "step\taccuracy", f"1\t{rows[0]['accuracy']}"]
    assert training.read_live_history(live_dir) == rows
    assert best_epoch == training.best_epoch_of(rows)
    assert json.loads((live_dir / "metrics.json").read_text())["eval"]["loss"] == rows[-1]["val_loss"]
    assert sorted(path.name for path in live_dir.iterdir()) == ["metrics.json", "plots"]  # no dvc.yaml, no report


def test_best_epoch_is_the_lowest_validation_loss_and_the_first_on_a_tie():
    rows = [{"val_loss": loss} for loss in (0.5, 0.3, 0.4, 0.3)]
    assert training.best_epoch_of(rows) == 2


def test_a_missing_training_log_says_what_to_run(tmp_path):
    with pytest.raises(TextclfError, match=r"eval/loss.tsv|train/loss.tsv"):
        training.read_live_history(tmp_path)


def test_missing_model_says_what_to_run(tmp_path):
    with pytest.raises(TextclfError, match="run `dvc repro` to train it"):
        training.load_model(tmp_path / "model.keras")


def test_a_git_repository_without_commits_is_one_clear_error(tmp_path, monkeypatch):
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TextclfError, match=r"DVCLive cannot start .*commit once \(`git commit`\)"):
        training.live_logger(tmp_path / "live")
