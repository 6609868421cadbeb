"""Stage train@<model>: fit one model of the zoo with early stopping, logging each epoch with DVCLive.

A self-trained model (a model block with a `teacher`) also learns from the dataset's unlabelled texts,
labelled by its teacher's export (textclf.training.self_training).

Under training.distribution: multi_worker every worker of the cluster runs this
script with its own TF_CONFIG; they train together and only the chief writes.
"""

import argparse
import tempfile
import time
from pathlib import Path

from textclf import tasks
from textclf.core.errors import run_stage
from textclf.core.outputs import live_directory, staged_outputs, write_json
from textclf.core.tf_runtime import device_summary, seed_everything
from textclf.data import tables
from textclf.features import vectorizing
from textclf.models import artifacts, zoo
from textclf.pipeline import layout
from textclf.training import distribute, fitting, self_training


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="a model under `models:` in params.yaml")
    name = parser.parse_args().name
    pipeline = layout.stage_layout()
    model_block = pipeline.model(name)
    spec, hparams = zoo.model_spec(model_block.architecture), model_block.hparams
    settings = distribute.checked_settings(pipeline.params)
    streaming = vectorizing.checked_streaming(pipeline.params)
    distribute.check_supported(name, spec.features, settings)
    task = tasks.read_task(layout.task_file(hparams["dataset"]))
    feature_dir = layout.features_dir(hparams["features"])
    width = vectorizing.input_width(feature_dir, spec.features)

    strategy = distribute.start(settings)
    seed_everything(hparams["seed"])
    print(f"train@{name}: {hparams['architecture']} on {device_summary()}, {distribute.describe(settings, strategy)}")

    def train(callbacks: tuple):
        """The trained model, its history rows, the epoch it kept and how many texts it learnt from."""
        # Both splits stream from their shards: memory does not grow with them.
        with tempfile.TemporaryDirectory() as scratch:
            train_split = vectorizing.open_split(feature_dir, "train")
            if "teacher" in hparams:
                kind, features = vectorizing.checked_features(pipeline.feature_set(hparams["features"]), hparams["features"])
                labelled = self_training.pseudo_labelled_split(
                    layout.export_dir(hparams["teacher"]), tables.unlabelled_table(hparams["dataset"]),
                    kind, vectorizing.load_vectorizer(feature_dir, kind, features), task, Path(scratch), streaming["shard_size"])
                print(f"train@{name}: {labelled.count} unlabelled texts labelled by {hparams['teacher']}")
                train_split = self_training.interleaved(train_split, labelled)
            model, rows, best_epoch = fitting.train_model(
                spec, hparams, width, train_split, vectorizing.open_split(feature_dir, "validation"), task,
                callbacks=callbacks, vocabulary=vectorizing.feature_vocabulary(feature_dir, spec.features),
                strategy=strategy, shuffle_buffer=streaming["shuffle_buffer"],
            )
            return model, rows, best_epoch, train_split.count

    if not distribute.is_chief(strategy):
        model, *_ = train(callbacks=())
        # Reading replicated variables is a collective op that every worker joins: save as the chief does, then drop it.
        with tempfile.TemporaryDirectory() as scratch:
            artifacts.save_keras_model(model, Path(scratch) / "model.keras")
            artifacts.weights_digest(model)
        print(f"train@{name}: this worker's part is done; the chief writes the model and its metrics")
        return
    with live_directory(layout.train_log(hparams["dataset"], name)) as live_dir:
        started = time.perf_counter()
        model, rows, best_epoch, examples = train(callbacks=(fitting.live_logger(live_dir),))
        seconds = time.perf_counter() - started
        with staged_outputs(layout.model_file(name), layout.timing(hparams["dataset"], name)) as (model_tmp, timing_tmp):
            artifacts.save_keras_model(model, model_tmp)
            best = rows[best_epoch - 1]
            # DVCLive's summary holds the last epoch; the model holds the best one, so the summary says so.
            write_json(live_dir / "metrics.json", {
                "architecture": hparams["architecture"],
                "features": hparams["features"],
                "parameters": model.count_params(),
                "train_examples": examples,
                "model_bytes": model_tmp.stat().st_size,
                # Proves two runs trained the same model, whatever the file around it.
                "weights_sha256": artifacts.weights_digest(model),
                "epochs_run": len(rows),
                "best_epoch": best_epoch,
                "train": {"loss": round(best["loss"], 6), "accuracy": round(best["accuracy"], 6)},
                "eval": {"loss": round(best["val_loss"], 6), "accuracy": round(best["val_accuracy"], 6),
                         task.main_metric: round(best["val_score"], 6)},
                # Where the model decides: chosen on the validation split (or the dataset's own); evaluate and export read it.
                **({"threshold": round(best["val_threshold"], 6)} if "val_threshold" in best else {}),
            })
            write_json(timing_tmp, {"train_seconds": round(seconds, 1), "device": device_summary(),
                                    "replicas": strategy.num_replicas_in_sync})
    print(f"train@{name}: kept epoch {best_epoch} of {len(rows)}, validation {task.main_metric} {best['val_score']:.4f}, "
          f"{seconds:.0f} s")


if __name__ == "__main__":
    run_stage(main)
