"""Stage evaluate: test-set metrics, DVC plot data and PNGs for the trained model."""

from pathlib import Path

import numpy as np
import pandas as pd

from textclf import metrics, plots, training
from textclf.cli import run_stage
from textclf.outputs import staged_outputs, write_json

ENCODED = Path("data/vectorized")
MODEL = Path("models/classifier.keras")
METRICS = Path("metrics/evaluate.json")
PLOT_DATA = Path("plots/evaluate")
PNGS = [Path("plots/confusion_matrix.png"), Path("plots/roc.png"), Path("plots/precision_recall.png")]
CURVE_POINTS = 200  # plenty for a smooth line, small enough to commit


def main() -> None:
    tokens, labels = training.load_split(ENCODED, "test")
    model = training.load_model(MODEL)
    logits = model.predict(training.make_dataset(tokens, labels, batch_size=1024), verbose=0).ravel()
    probabilities = metrics.sigmoid(logits)
    report = metrics.binary_report(labels, logits)
    counts = metrics.confusion(labels, probabilities >= 0.5)
    fpr, tpr, roc_thresholds = metrics.roc_curve(labels, probabilities)
    precision, recall, pr_thresholds = metrics.precision_recall_curve(labels, probabilities)
    keep_roc, keep_pr = metrics.thin(len(fpr), CURVE_POINTS), metrics.thin(len(recall), CURVE_POINTS)
    actual = np.where(labels == 1, "pos", "neg")
    predicted = np.where(probabilities >= 0.5, "pos", "neg")

    with staged_outputs(METRICS, PLOT_DATA, *PNGS) as (metrics_tmp, data_tmp, confusion_png, roc_png, pr_png):
        write_json(metrics_tmp, report)
        data_tmp.mkdir()
        pd.DataFrame({"actual": actual, "predicted": predicted}).to_csv(data_tmp / "confusion.csv", index=False)
        pd.DataFrame({"fpr": fpr[keep_roc], "tpr": tpr[keep_roc], "threshold": roc_thresholds[keep_roc]}).round(6).to_csv(data_tmp / "roc.csv", index=False)
        pd.DataFrame({"recall": recall[keep_pr], "precision": precision[keep_pr], "threshold": pr_thresholds[keep_pr]}).round(6).to_csv(data_tmp / "precision_recall.csv", index=False)
        plots.confusion_matrix_png(counts, confusion_png)
        plots.curve_png(fpr, tpr, roc_png, "false positive rate", "true positive rate", f"ROC (AUC {report['roc_auc']:.3f})", diagonal=True)
        plots.curve_png(recall, precision, pr_png, "recall", "precision", "Precision-recall (test)")
    print("evaluate: " + ", ".join(f"{name} {value:.4f}" for name, value in report.items()))


if __name__ == "__main__":
    run_stage(main)
