"""Stage ensemble@<name>: weight member exports on the validation split, evaluate on test, export.

Everything a model of the zoo leaves behind, in the same places, so the
leaderboard ranks the ensemble and `textclf predict` serves it: the export,
test metrics and plots, a train summary (the member weights) and a timing.
"""

import argparse
import time

import numpy as np
import pandas as pd

from textclf import tasks
from textclf.core.errors import TextclfError, run_stage
from textclf.core.outputs import staged_outputs, write_json
from textclf.core.tf_runtime import device_summary, seed_everything
from textclf.models import ensembles
from textclf.pipeline import layout
from textclf.reporting import plots, predictions
from textclf.serving import exports

CHECKED_TEXTS = 512
TOLERANCE = 1e-4  # float32 summation order differs between the two graphs


def split_table(dataset: str, split: str) -> pd.DataFrame:
    path = layout.prepared_split(dataset, split)
    if not path.is_file():
        raise TextclfError(f"{path} not found (run `dvc repro prepare@{dataset}`)")
    return pd.read_parquet(path, columns=["text", "label"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="a model of architecture `ensemble` under `models:` in params.yaml")
    name = parser.parse_args().name
    model_block = layout.stage_layout().model(name)
    if model_block.family != "ensemble":
        raise TextclfError(f"params.yaml: models.{name} is a {model_block.architecture} model, not an ensemble")
    hparams, dataset = model_block.hparams, model_block.dataset
    task = tasks.read_task(layout.task_file(dataset))
    validation, test = (split_table(dataset, split) for split in ("validation", "test"))

    seed_everything(hparams["seed"])
    started = time.perf_counter()
    members = [layout.export_dir(member) for member in hparams["members"]]
    ensemble = ensembles.Ensemble(members, task)
    validation_labels = task.label_array(validation["label"])
    validation_logits = ensembles.member_logits(ensemble, validation["text"].tolist())
    combiner, losses = ensembles.fit_combiner(validation_logits, validation_labels, task, hparams)
    ensemble.combiner = combiner
    # Where the ensemble decides: chosen on the validation split its combiner was fitted on (or the dataset's own).
    task = task.with_threshold(task.chosen_threshold(validation_labels, combiner.predict(validation_logits, verbose=0)))
    ensemble.decide_at(task)
    seconds = time.perf_counter() - started

    test_labels = task.label_array(test["label"])
    logits = combiner.predict(ensembles.member_logits(ensemble, test["text"].tolist()), batch_size=4096, verbose=0)
    report = task.report(test_labels, logits)
    checked = validation["text"].iloc[:CHECKED_TEXTS].tolist()
    expected = task.probabilities(combiner.predict(validation_logits[:CHECKED_TEXTS], verbose=0))

    paths = (layout.export_dir(name), layout.train_log(dataset, name), layout.evaluation(dataset, name),
             layout.model_plots(name), layout.timing(dataset, name), layout.predictions(dataset, name))
    with staged_outputs(*paths) as (serving_tmp, train_tmp, metrics_tmp, plots_tmp, timing_tmp, predictions_tmp):
        ensembles.export(ensemble, serving_tmp)
        got = exports.Predictor(serving_tmp)(checked)
        difference = float(np.max(np.abs(got - expected))) if checked else 0.0
        if difference > TOLERANCE:
            raise TextclfError(f"export of '{name}' disagrees with the fitted ensemble by {difference:.2g} on validation texts")
        train_tmp.mkdir()
        write_json(train_tmp / "metrics.json", {
            "architecture": "ensemble",
            "members": hparams["members"],
            "member_weights": ensembles.member_weights(combiner, hparams["members"], task),
            "parameters": combiner.count_params(),
            "model_bytes": sum(path.stat().st_size for path in serving_tmp.rglob("*") if path.is_file()),
            "validation_loss": {"first_epoch": round(losses[0], 6), "last_epoch": round(losses[-1], 6)},
            **({"threshold": task.threshold} if task.uses_threshold else {}),
        })
        write_json(metrics_tmp, report)
        predictions.write(predictions_tmp, task, test_labels, logits)
        plots_tmp.mkdir()
        plots.evaluation_plots(task, test_labels, task.probabilities(logits), report, name, plots_tmp)
        write_json(timing_tmp, {"train_seconds": round(seconds, 1), "device": device_summary()})
    shown = {key: value for key, value in report.items() if not isinstance(value, dict)}
    print(f"ensemble@{name}: " + ", ".join(f"{metric} {value:.4f}" for metric, value in shown.items()))


if __name__ == "__main__":
    run_stage(main)
