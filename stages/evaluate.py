"""Stage evaluate@<model>: test-set metrics, DVC plot data and PNGs for one trained model.

The training-curve picture is drawn here, from the log train wrote, so restyling
a chart redraws it without retraining anything.
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from textclf import metrics, models, plots, training, vectorizing
from textclf import params as p
from textclf.errors import run_stage
from textclf.outputs import staged_outputs, write_json

FEATURES = Path("data/features")
CURVE_POINTS = 200  # plenty for a smooth line, small enough to commit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="a model under `models:` in params.yaml")
    name = parser.parse_args().name
    spec, hparams = models.checked_model_params(p.read_params(), name)
    feature_dir = FEATURES / hparams["features"]
    arrays, labels = vectorizing.load_split(feature_dir, "test")
    model = training.load_model(Path(f"models/{name}/model.keras"))
    logits = training.predict_logits(model, arrays, labels, vectorizing.input_width(feature_dir, spec.features))
    live_dir = Path(f"metrics/models/{name}/train")
    history = training.read_live_history(live_dir)
    best_epoch = training.best_epoch_of(history)

    probabilities = metrics.sigmoid(logits)
    report = metrics.binary_report(labels, logits)
    counts = metrics.confusion(labels, probabilities >= 0.5)
    fpr, tpr, roc_thresholds = metrics.roc_curve(labels, probabilities)
    precision, recall, pr_thresholds = metrics.precision_recall_curve(labels, probabilities)
    keep_roc, keep_pr = metrics.thin(len(fpr), CURVE_POINTS), metrics.thin(len(recall), CURVE_POINTS)

    plot_dir = Path(f"plots/models/{name}")
    outputs = [Path(f"metrics/models/{name}/evaluate.json"), plot_dir / "confusion.csv", plot_dir / "roc.csv",
               plot_dir / "precision_recall.csv", plot_dir / "confusion_matrix.png", plot_dir / "roc.png",
               plot_dir / "precision_recall.png", plot_dir / "training_curves.png"]
    with staged_outputs(*outputs) as (metrics_tmp, confusion_csv, roc_csv, pr_csv, confusion_png, roc_png, pr_png, curves_png):
        write_json(metrics_tmp, report)
        pd.DataFrame({"actual": np.where(labels == 1, "pos", "neg"),
                      "predicted": np.where(probabilities >= 0.5, "pos", "neg")}).to_csv(confusion_csv, index=False)
        pd.DataFrame({"fpr": fpr[keep_roc], "tpr": tpr[keep_roc], "threshold": roc_thresholds[keep_roc]}).round(6).to_csv(roc_csv, index=False)
        pd.DataFrame({"recall": recall[keep_pr], "precision": precision[keep_pr], "threshold": pr_thresholds[keep_pr]}).round(6).to_csv(pr_csv, index=False)
        plots.confusion_matrix_png(counts, confusion_png)
        plots.curve_png(fpr, tpr, roc_png, "false positive rate", "true positive rate", f"{name}: ROC (AUC {report['roc_auc']:.3f})", diagonal=True)
        plots.curve_png(recall, precision, pr_png, "recall", "precision", f"{name}: precision-recall (test)")
        plots.training_curves_png(history, best_epoch, curves_png)
    print(f"evaluate@{name}: " + ", ".join(f"{metric} {value:.4f}" for metric, value in report.items()))


if __name__ == "__main__":
    run_stage(main)
