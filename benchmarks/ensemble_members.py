"""Which members make the best ensemble: every subset of the IMDB exports, fitted as the ensemble stage fits them.

For each exported IMDB sentiment model it computes the logits of the
validation and test reviews once, then fits the ensemble's combiner
(`ensembles.fit_combiner`, with the `ensembles.ensemble` params) on the
validation logits of every subset of two or more members and scores it on
test. Each subset's training cost is what its members need after prepare, from
the committed stage times of `make bench`: vectorizing their features,
pretraining when a member starts from the pretrained module, their training
and the ensemble's own fit. It also writes the correlation of each member's
test logits with every other's (a member helps when it is strong and its
errors differ).

Run from the project root after `dvc repro` (and `make bench`, for the costs):

    python benchmarks/ensemble_members.py [--ensemble ensemble]

Writes benchmarks/results/ensemble_members.json and .md.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
from bench import training_stages  # benchmarks/, first on sys.path when run as a script

from textclf import tasks
from textclf.core.outputs import write_json
from textclf.core.tf_runtime import seed_everything
from textclf.models import ensembles
from textclf.pipeline import layout

RESULTS = Path("benchmarks/results")


def split(dataset: str, name: str) -> pd.DataFrame:
    return pd.read_parquet(layout.prepared_split(dataset, name), columns=["text", "label"])


def stage_seconds() -> dict[str, float]:
    """Each stage's wall time in the last `make bench` full run (none before the first)."""
    bench = RESULTS / "bench.json"
    rows = (json.loads(bench.read_text()).get("full_repro") or []) if bench.is_file() else []
    return {row["stage"]: row["seconds"] for row in rows}


def minutes(row: dict) -> str:
    return "-" if row["training_seconds"] is None else f"{row['training_seconds'] / 60:.1f} min"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ensemble", default="ensemble", help="the ensemble model whose dataset and fit to use")
    args = parser.parse_args()
    pipeline = layout.load()
    params = pipeline.params
    ensemble = pipeline.model(args.ensemble)
    hparams, dataset = ensemble.hparams, ensemble.dataset
    task = tasks.read_task(layout.task_file(dataset))
    names = [name for name in pipeline.models_of(dataset)
             if pipeline.models[name].family != "ensemble" and layout.export_dir(name).is_dir()]
    validation, test = split(dataset, "validation"), split(dataset, "test")
    validation_labels, test_labels = task.label_array(validation["label"]), task.label_array(test["label"])

    every = ensembles.Ensemble([layout.export_dir(name) for name in names], task)
    logits = {"validation": ensembles.member_logits(every, validation["text"].tolist()),
              "test": ensembles.member_logits(every, test["text"].tolist())}
    units = task.units
    columns = {name: np.arange(i * units, (i + 1) * units) for i, name in enumerate(names)}  # each member's logits

    def test_accuracy(validation_logits: np.ndarray, test_logits: np.ndarray) -> float:
        """At the threshold chosen on validation, as the pipeline's models and ensembles decide."""
        decided = task.with_threshold(task.chosen_threshold(validation_labels, validation_logits))
        return float(np.mean(decided.predicted(decided.probabilities(test_logits)) == test_labels))

    alone = {name: test_accuracy(logits["validation"][:, columns[name]], logits["test"][:, columns[name]])
             for name in names}
    correlation = np.corrcoef(logits["test"].T) if units == 1 else None

    seconds = stage_seconds()
    rows = []
    for size in range(2, len(names) + 1):
        for members in itertools.combinations(names, size):
            picked = np.concatenate([columns[name] for name in members])
            seed_everything(hparams["seed"])
            combiner, _ = ensembles.fit_combiner(logits["validation"][:, picked], validation_labels, task, hparams)
            accuracy = test_accuracy(combiner.predict(logits["validation"][:, picked], batch_size=4096, verbose=0),
                                     combiner.predict(logits["test"][:, picked], batch_size=4096, verbose=0))
            needed = set().union(*(training_stages(params, member) for member in members)) | {args.ensemble}
            cost = sum(seconds.get(stage, np.nan) for stage in needed)
            rows.append({"members": list(members), "test_accuracy": round(accuracy, 5),
                         "training_seconds": None if np.isnan(cost) else round(cost, 1),
                         "weights": ensembles.member_weights(combiner, list(members), task)})
            print(f"ensemble_members: {'+'.join(members)} {accuracy:.4f}", flush=True)
    rows.sort(key=lambda row: -row["test_accuracy"])

    results = {"dataset": dataset, "ensemble_params": hparams, "alone": alone, "subsets": rows,
               "test_logit_correlation": None if correlation is None else
               {a: {b: round(float(correlation[i, j]), 3) for j, b in enumerate(names)} for i, a in enumerate(names)}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json(RESULTS / "ensemble_members.json", results)
    lines = ["| members | test accuracy | training for everything it needs |", "|---|---|---|"]
    lines += [f"| {' + '.join(f'`{m}`' for m in row['members'])} | {row['test_accuracy']:.4f} | {minutes(row)} |"
              for row in rows]
    lines += ["", "| model alone | test accuracy |", "|---|---|"]
    lines += [f"| `{name}` | {accuracy:.4f} |" for name, accuracy in sorted(alone.items(), key=lambda item: -item[1])]
    (RESULTS / "ensemble_members.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
