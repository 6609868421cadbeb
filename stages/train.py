"""Stage train@<model>: fit one model of the zoo with early stopping; log per-epoch curves."""

import argparse
import time
from pathlib import Path

from textclf import artifacts, models, plots, training, vectorizing
from textclf import params as p
from textclf.cli import run_stage
from textclf.outputs import staged_outputs, write_json
from textclf.tf_runtime import device_summary, seed_everything

FEATURES = Path("data/features")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="a model under `models:` in params.yaml")
    name = parser.parse_args().name
    spec, hparams = models.checked_model_params(p.read_params(), name)
    feature_dir = FEATURES / hparams["features"]
    width = vectorizing.input_width(feature_dir, spec.features)

    seed_everything(hparams["seed"])
    print(f"train@{name}: {hparams['architecture']} on {device_summary()}")
    started = time.perf_counter()
    model, rows, best_epoch = training.train_model(
        spec, hparams, width, vectorizing.load_split(feature_dir, "train"), vectorizing.load_split(feature_dir, "validation")
    )
    seconds = time.perf_counter() - started

    outputs = [Path(f"models/{name}/model.keras"), Path(f"metrics/models/{name}/train.json"),
               Path(f"metrics/models/{name}/history.tsv"), Path(f"metrics/timings/{name}.json"),
               Path(f"plots/models/{name}/training_curves.png")]
    with staged_outputs(*outputs) as (model_tmp, summary_tmp, history_tmp, timing_tmp, curves_tmp):
        artifacts.save_keras_model(model, model_tmp)
        best = rows[best_epoch - 1]
        write_json(summary_tmp, {
            "architecture": hparams["architecture"],
            "features": hparams["features"],
            "parameters": model.count_params(),
            "model_bytes": model_tmp.stat().st_size,
            # Proves two runs trained the same model, whatever the file around it.
            "weights_sha256": artifacts.weights_digest(model),
            "epochs_run": len(rows),
            "best_epoch": best_epoch,
            "val_loss": round(best["val_loss"], 6),
            "val_accuracy": round(best["val_accuracy"], 6),
        })
        training.write_history(rows, history_tmp)
        write_json(timing_tmp, {"train_seconds": round(seconds, 1), "device": device_summary()})
        plots.training_curves_png(rows, best_epoch, curves_tmp)
    print(f"train@{name}: kept epoch {best_epoch} of {len(rows)}, val accuracy {rows[best_epoch - 1]['val_accuracy']:.4f}, {seconds:.0f} s")


if __name__ == "__main__":
    run_stage(main)
