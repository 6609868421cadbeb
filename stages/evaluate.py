"""Stage evaluate@<model>: test-set metrics, DVC plot data and PNGs for one trained model, and its test
predictions, which a report compares with another revision's.

What is measured and drawn follows the dataset's task (binary, multi-class,
multi-label). The training-curve picture is drawn here, from the log train
wrote, so restyling a chart redraws it without retraining anything.
"""

import argparse

from textclf import tasks
from textclf.core.errors import run_stage
from textclf.core.outputs import staged_outputs, write_json
from textclf.features import vectorizing
from textclf.models import zoo
from textclf.pipeline import layout
from textclf.reporting import plots, predictions
from textclf.training import fitting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="a model under `models:` in params.yaml")
    name = parser.parse_args().name
    model_block = layout.stage_layout().model(name)
    spec, dataset = zoo.model_spec(model_block.architecture), model_block.dataset
    task = fitting.trained_threshold(layout.train_log(dataset, name), tasks.read_task(layout.task_file(dataset)))
    feature_dir = layout.features_dir(model_block.features)
    arrays, labels = vectorizing.load_split(feature_dir, "test")
    model = fitting.load_model(layout.model_file(name))
    logits = fitting.predict_logits(model, arrays, labels, vectorizing.input_width(feature_dir, spec.features))
    history = fitting.read_live_history(layout.train_log(dataset, name))

    report = task.report(labels, logits)
    kept = (layout.evaluation(dataset, name), layout.model_plots(name), layout.predictions(dataset, name))
    with staged_outputs(*kept) as (metrics_tmp, plots_tmp, predictions_tmp):
        write_json(metrics_tmp, report)
        predictions.write(predictions_tmp, task, labels, logits)
        plots_tmp.mkdir()
        plots.evaluation_plots(task, labels, task.probabilities(logits), report, name, plots_tmp)
        plots.training_curves_png(history, fitting.best_epoch_of(history), plots_tmp / "training_curves.png")
    shown = {key: value for key, value in report.items() if not isinstance(value, dict)}
    print(f"evaluate@{name}: " + ", ".join(f"{metric} {value:.4f}" for metric, value in shown.items()))


if __name__ == "__main__":
    run_stage(main)
