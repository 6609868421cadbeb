"""Stage ensemble@<name>: weight member exports on the validation split, evaluate on test, export.

Everything a model of the zoo leaves behind, in the same places, so the
leaderboard ranks the ensemble and `textclf predict` serves it: the export,
test metrics and plots, a train summary (the member weights) and a timing.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from textclf import catalog, ensembles, models, plots, serving, tasks
from textclf import params as p
from textclf.errors import TextclfError, run_stage
from textclf.outputs import staged_outputs, write_json
from textclf.tf_runtime import device_summary, seed_everything

CHECKED_TEXTS = 512
TOLERANCE = 1e-4  # float32 summation order differs between the two graphs


def split_table(dataset: str, split: str) -> pd.DataFrame:
    path = Path("data/prepared") / dataset / f"{split}.parquet"
    if not path.is_file():
        raise TextclfError(f"{path} not found (run `dvc repro prepare@{dataset}`)")
    return pd.read_parquet(path, columns=["text", "label"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="an ensemble under `ensembles:` in params.yaml")
    name = parser.parse_args().name
    params = p.read_params()
    known = {model: models.checked_model_params(params, model)[1]["dataset"] for model in catalog.model_names(params)}
    hparams = ensembles.checked_params(params, name, known)
    task = tasks.task_of(params, hparams["dataset"])
    validation, test = (split_table(hparams["dataset"], split) for split in ("validation", "test"))

    seed_everything(hparams["seed"])
    started = time.perf_counter()
    members = [Path("models") / member / "serving" for member in hparams["members"]]
    ensemble = ensembles.Ensemble(members, task)
    validation_labels = task.label_array(validation["label"])
    validation_logits = ensembles.member_logits(ensemble, validation["text"].tolist())
    combiner, losses = ensembles.fit_combiner(validation_logits, validation_labels, task, hparams)
    ensemble.combiner = combiner
    seconds = time.perf_counter() - started

    test_labels = task.label_array(test["label"])
    logits = combiner.predict(ensembles.member_logits(ensemble, test["text"].tolist()), batch_size=4096, verbose=0)
    report = task.report(test_labels, logits)
    checked = validation["text"].iloc[:CHECKED_TEXTS].tolist()
    expected = task.probabilities(combiner.predict(validation_logits[:CHECKED_TEXTS], verbose=0))

    paths = (f"models/{name}/serving", f"metrics/models/{name}/train", f"metrics/models/{name}/evaluate.json",
             f"plots/models/{name}", f"metrics/timings/{name}.json")
    with staged_outputs(*paths) as (serving_tmp, train_tmp, metrics_tmp, plots_tmp, timing_tmp):
        ensembles.export(ensemble, serving_tmp)
        got = serving.Predictor(serving_tmp)(checked)
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
        })
        write_json(metrics_tmp, report)
        plots_tmp.mkdir()
        plots.evaluation_plots(task, test_labels, task.probabilities(logits), report, name, plots_tmp)
        write_json(timing_tmp, {"train_seconds": round(seconds, 1), "device": device_summary()})
    shown = {key: value for key, value in report.items() if not isinstance(value, dict)}
    print(f"ensemble@{name}: " + ", ".join(f"{metric} {value:.4f}" for metric, value in shown.items()))


if __name__ == "__main__":
    run_stage(main)
