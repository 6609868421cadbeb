"""Stage train: fit the configured model with early stopping; log per-epoch curves."""

import time
from pathlib import Path

from textclf import models, plots, training, vectorizing
from textclf import params as p
from textclf.cli import run_stage
from textclf.outputs import staged_outputs, write_json
from textclf.tf_runtime import device_summary, seed_everything

ENCODED = Path("data/vectorized")
VOCABULARY = Path("data/vocab.txt")
MODEL = Path("models/classifier.keras")
SUMMARY = Path("metrics/train.json")
HISTORY = Path("metrics/train_history.tsv")
TIMING = Path("metrics/timings/train.json")
CURVES = Path("plots/training_curves.png")
SCHEMA = {
    "model": p.text,
    "seed": p.non_negative_int,
    "batch_size": p.positive_int,
    "epochs": p.positive_int,
    "learning_rate": p.positive_float,
    "patience": p.non_negative_int,
}


def main() -> None:
    params = p.read_params()
    settings = p.checked_block(params, "train", SCHEMA)
    spec = models.model_spec(settings["model"])
    hparams = p.checked_block(params, f"models.{settings['model']}", spec.schema)

    seed_everything(settings["seed"])
    vocab_size = vectorizing.vocabulary_size(vectorizing.load_vocabulary(VOCABULARY))
    train_data = training.make_dataset(*training.load_split(ENCODED, "train"), settings["batch_size"], settings["seed"])
    validation_data = training.make_dataset(*training.load_split(ENCODED, "validation"), settings["batch_size"])
    model = spec.build(hparams, vocab_size)
    training.compile_model(model, settings["learning_rate"])
    print(f"train: {settings['model']} with {model.count_params():,} parameters on {device_summary()}")

    started = time.perf_counter()
    rows, best_epoch = training.fit(model, train_data, validation_data, settings["epochs"], settings["patience"])
    seconds = time.perf_counter() - started

    best = rows[best_epoch - 1]
    summary = {
        "model": settings["model"],
        "parameters": model.count_params(),
        "epochs_run": len(rows),
        "best_epoch": best_epoch,
        "val_loss": round(best["val_loss"], 6),
        "val_accuracy": round(best["val_accuracy"], 6),
    }
    with staged_outputs(MODEL, SUMMARY, HISTORY, TIMING, CURVES) as (model_tmp, summary_tmp, history_tmp, timing_tmp, curves_tmp):
        model.save(model_tmp)
        write_json(summary_tmp, summary)
        training.write_history(rows, history_tmp)
        write_json(timing_tmp, {"train_seconds": round(seconds, 1), "device": device_summary()})
        plots.training_curves_png(rows, best_epoch, curves_tmp)
    print(f"train: kept epoch {best_epoch} of {len(rows)}, val accuracy {best['val_accuracy']:.4f}, {seconds:.0f} s")


if __name__ == "__main__":
    run_stage(main)
