"""Stage transfer@<setup>: one setup of the transfer-learning analysis, at every training size.

Trains the setup (a hub module frozen or fine-tuned, or a zoo baseline) on a
balanced slice of each of ``transfer.sizes`` labelled train reviews,
early-stopped on the full validation split, and records each size's train and
test accuracy. The sizes share one process: each pays TensorFlow's start once,
and each size starts from the seed in a cleared session, as it would alone.
"""

import argparse

from textclf import tasks
from textclf.core import schema
from textclf.core.errors import TextclfError, run_stage
from textclf.core.outputs import staged_outputs, write_json
from textclf.core.tf_runtime import keras, seed_everything
from textclf.features import vectorizing
from textclf.models import architectures, zoo
from textclf.pipeline import layout
from textclf.reporting import transfer
from textclf.training import fitting


def setup_model(settings: dict, setup: str) -> tuple[zoo.ModelSpec, dict]:
    """A setup is {module, trainable} (a hub_dnn on that module) or {architecture, features, ...} (a zoo model),
    either with its own `patience` where the shared one does not suit its validation curve."""
    if setup not in settings["setups"]:
        raise TextclfError(f"params.yaml: missing block 'transfer.setups.{setup}'")
    chosen = settings["setups"][setup]
    common = {key: settings[key] for key in ("seed", "batch_size", "epochs", "learning_rate", "patience", "class_weight")}
    own_patience = {"patience": chosen["patience"]} if chosen["patience"] is not None else {}
    if "module" in chosen:
        hparams = {"architecture": "hub_dnn", "features": settings["text_features"], "handle": chosen["module"],
                   "trainable": chosen["trainable"], "hidden_units": settings["hidden_units"]}
        return zoo.model_spec("hub_dnn"), hparams | common | own_patience
    architecture = architectures.ARCHITECTURES.get(chosen["architecture"])
    if architecture is None or architecture.features is None or architecture.reads_module:
        raise TextclfError(f"params.yaml: transfer.setups.{setup}.architecture must be one of 'bow_mean', 'bilstm', "
                           f"'ngram', got {chosen['architecture']!r} (a module's setup names its `module`)")
    stated = {key: value for key, value in chosen.items() if key != "patience"}
    # The block as a model block of its architecture, checked by its schema; its dataset is the features'.
    schema.validated(architecture.block, {"dataset": "transfer"} | stated, f"transfer.setups.{setup}")
    return zoo.model_spec(stated["architecture"]), common | architecture.own_defaults | stated | own_patience


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("setup", help="a setup under `transfer.setups:` in params.yaml")
    setup = parser.parse_args().setup
    pipeline = layout.stage_layout()
    settings = schema.block_of(pipeline.params, "transfer", schema.Transfer)
    spec, hparams = setup_model(settings, setup)
    # The task of the dataset the text features were fitted on (IMDB sentiment by default).
    task = tasks.read_task(layout.task_file(pipeline.feature_set(settings["text_features"])["dataset"]))

    feature_dir = layout.features_dir(hparams["features"])
    width = vectorizing.input_width(feature_dir, spec.features)
    all_train = vectorizing.load_split(feature_dir, "train")
    validation, test = vectorizing.load_split(feature_dir, "validation"), vectorizing.load_split(feature_dir, "test")
    cells = {}
    for size in sorted(settings["sizes"]):
        keras.backend.clear_session()  # the previous size's model and layer names go; memory stays flat
        seed_everything(settings["seed"])
        chosen = transfer.balanced_subset(all_train[1], size, settings["seed"])
        train_arrays, train_labels = vectorizing.take(all_train[0], chosen), all_train[1][chosen]
        model, rows, best_epoch = fitting.train_model(spec, hparams, width, (train_arrays, train_labels), validation, task)
        decided = fitting.kept_threshold(task, rows, best_epoch)
        train_score = fitting.evaluate(model, train_arrays, train_labels, width, decided)
        test_score = fitting.evaluate(model, *test, width, decided)
        cells[str(size)] = {
            "labelled_reviews": int(len(train_labels)),
            "train_accuracy": round(train_score["accuracy"], 6),
            "test_accuracy": round(test_score["accuracy"], 6),
            "test_loss": round(test_score["loss"], 6),
            "best_epoch": best_epoch,
            "epochs_run": len(rows),
        }
        print(f"transfer@{setup}, {size} labelled reviews: train accuracy {train_score['accuracy']:.4f}, "
              f"test accuracy {test_score['accuracy']:.4f}", flush=True)

    with staged_outputs(layout.transfer_cell(setup)) as (cells_tmp,):
        write_json(cells_tmp, cells)


if __name__ == "__main__":
    run_stage(main)
