"""Stage evaluate@<model>: test-set metrics, DVC plot data and PNGs for one trained model.

What is measured and drawn follows the dataset's task (binary, multi-class,
multi-label). The training-curve picture is drawn here, from the log train
wrote, so restyling a chart redraws it without retraining anything.
"""

import argparse
from pathlib import Path

from textclf import models, plots, tasks, training, vectorizing
from textclf import params as p
from textclf.errors import run_stage
from textclf.outputs import staged_outputs, write_json

FEATURES = Path("data/features")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="a model under `models:` or `hub_models:` in params.yaml")
    name = parser.parse_args().name
    params = p.read_params()
    spec, hparams = models.checked_model_params(params, name)
    task = tasks.task_of(params, hparams["dataset"])
    feature_dir = FEATURES / hparams["features"]
    arrays, labels = vectorizing.load_split(feature_dir, "test")
    model = training.load_model(Path(f"models/{name}/model.keras"))
    logits = training.predict_logits(model, arrays, labels, vectorizing.input_width(feature_dir, spec.features))
    history = training.read_live_history(Path(f"metrics/models/{name}/train"))

    report = task.report(labels, logits)
    with staged_outputs(Path(f"metrics/models/{name}/evaluate.json"), Path(f"plots/models/{name}")) as (metrics_tmp, plots_tmp):
        write_json(metrics_tmp, report)
        plots_tmp.mkdir()
        plots.evaluation_plots(task, labels, task.probabilities(logits), report, name, plots_tmp)
        plots.training_curves_png(history, training.best_epoch_of(history), plots_tmp / "training_curves.png")
    shown = {key: value for key, value in report.items() if not isinstance(value, dict)}
    print(f"evaluate@{name}: " + ", ".join(f"{metric} {value:.4f}" for metric, value in shown.items()))


if __name__ == "__main__":
    run_stage(main)
