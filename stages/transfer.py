"""Stage transfer@<setup>: one setup of the transfer-learning analysis, at every training size.

Trains the setup (a hub module frozen or fine-tuned, or a zoo baseline) on a
balanced slice of each of ``transfer.sizes`` labelled train reviews,
early-stopped on the full validation split, and records each size's train and
test accuracy. The sizes share one process: each pays TensorFlow's start once,
and each size starts from the seed in a cleared session, as it would alone.
"""

import argparse

from textclf import architectures, layout, models, tasks, training, transfer, vectorizing
from textclf import params as p
from textclf.errors import TextclfError, run_stage
from textclf.outputs import staged_outputs, write_json
from textclf.tf_runtime import keras, seed_everything

SCHEMA = {
    "seed": p.non_negative_int,
    "sizes": p.list_of(p.positive_int),
    "text_features": p.text,
    "hidden_units": p.list_of(p.positive_int),
    "batch_size": p.positive_int,
    "epochs": p.positive_int,
    "learning_rate": p.positive_float,
    "patience": p.non_negative_int,
    "setups": p.mapping,
}


def setup_model(params: dict, settings: dict, setup: str) -> tuple[models.ModelSpec, dict]:
    """A setup is {module, trainable} (a hub_dnn on that module) or {architecture, features, ...} (a zoo model),
    either with its own `patience` where the shared one does not suit its validation curve."""
    chosen = settings["setups"].get(setup)
    if not isinstance(chosen, dict):
        raise TextclfError(f"params.yaml: missing block 'transfer.setups.{setup}'")
    name = f"transfer.setups.{setup}"
    own_patience = {"patience": p.non_negative_int} if "patience" in chosen else {}
    common = {key: settings[key] for key in ("seed", "batch_size", "epochs", "learning_rate", "patience")}
    if "module" in chosen:
        chosen = p.checked_block(params, name, {"module": p.text, "trainable": p.boolean} | own_patience)
        hparams = {"architecture": "hub_dnn", "features": settings["text_features"], "handle": chosen["module"],
                   "trainable": chosen["trainable"], "hidden_units": settings["hidden_units"]}
        return models.model_spec("hub_dnn"), hparams | common | {key: chosen[key] for key in own_patience}
    architecture = chosen.get("architecture", setup)
    if architecture not in models.MODELS:
        raise TextclfError(f"params.yaml: {name}.architecture: {architecture!r} is not one of {', '.join(models.MODELS)}")
    own = {key: check for key, check in architectures.ARCHITECTURES[architecture].schema.items() if key in chosen}
    block = p.checked_block(params, name, {"architecture": p.text, "features": p.text} | own | own_patience)
    return models.model_spec(architecture), common | architectures.ARCHITECTURES[architecture].defaults | block


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("setup", help="a setup under `transfer.setups:` in params.yaml")
    setup = parser.parse_args().setup
    pipeline = layout.stage_layout()
    settings = p.checked_block(pipeline.params, "transfer", SCHEMA)
    spec, hparams = setup_model(pipeline.params, settings, setup)
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
        model, rows, best_epoch = training.train_model(spec, hparams, width, (train_arrays, train_labels), validation, task)
        train_score = training.evaluate(model, train_arrays, train_labels, width, task)
        test_score = training.evaluate(model, *test, width, task)
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
