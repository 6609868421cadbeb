"""The small-data suite: a one-block dataset's default models beside the standard simple and fast baselines.

Users bring a few hundred to a few thousand labelled texts, often short and imbalanced, not 25,000 long
reviews. This suite builds such datasets from the data we have offline (the fetched IMDB records and The
Movies Dataset's overviews), several seeded draws each, and writes each draw as a CSV with a three-key
dataset block, as a user would (a fourth key, ``label_delimiter``, for multi-label). In a throwaway DVC
project (a git repo with this project's stages and package) it runs the real `textclf pipeline` and
`dvc repro` of every leaderboard, so the default models train exactly as they would for that user. On
the same prepared splits it then fits two peers:

- scikit-learn TF-IDF (1,2)-gram logistic regression, C chosen on validation;
- fastText (``fasttext-wheel``): the training file shuffled, word n-grams, learning rate and epochs
  chosen on validation.

Every choice is made on the validation split, a binary peer's threshold included, as our models choose theirs;
test is read once per model, to report. The main metric is the task's (accuracy, macro F1, micro ROC-AUC), or
the rare class's F1 where `textclf init` would set it (a binary dataset whose rarer class is under a quarter of
the texts); binary datasets also report the F1 of their second class.
Writes benchmarks/results/small_data.json and .md (needs the `bench` extra and `dvc repro fetch@imdb
fetch@movies_metadata` first):

    python benchmarks/small_data.py [--draws 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import fasttext
import numpy as np
import pandas as pd
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.multiclass import OneVsRestClassifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from bench import update_readme  # noqa: E402  (benchmarks/ is no package)

from textclf import tasks  # noqa: E402
from textclf.data import labelled_files, onboarding  # noqa: E402
from textclf.tasks import metrics  # noqa: E402
from textclf.pipeline import layout  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
MARKERS = ("<!-- small-data:start -->", "<!-- small-data:end -->")
IMDB_RECORDS = ROOT / "data" / "raw" / "imdb" / "records.parquet"
MOVIES = ROOT / "data" / "raw" / "movies_metadata" / "movies_metadata.csv"
GENRES = ["Comedy", "Thriller", "Romance", "Action", "Horror", "Crime", "Documentary", "Adventure", "Science Fiction"]
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
TOKENS = r"(?u)\b\w[\w']*\b"


# The suite -------------------------------------------------------------------------------------------------------

def _sentences(text: str, count: int) -> str:
    """The first ``count`` sentences of a review of at least five words each, HTML breaks removed."""
    parts = [part for part in SENTENCE_END.split(re.sub(r"<br\s*/?>", " ", text)) if len(part.split()) >= 5]
    return " ".join(parts[:count])


def _reviews(sentences: int) -> pd.DataFrame:
    """IMDB's labelled train reviews cut to their first sentences (its test reviews are never read here)."""
    records = pd.read_parquet(IMDB_RECORDS)
    records = records[(records["split"] == "train") & records["label"].isin(["neg", "pos"])]
    texts = records["text"].map(lambda text: _sentences(text, sentences))
    return records.assign(text=texts)[texts != ""].reset_index(drop=True)


def _overviews() -> pd.DataFrame:
    rows = labelled_files.read_movies_metadata(MOVIES, GENRES).frame
    return pd.DataFrame({"text": rows["text"], "labels": rows["labels"]})


def _draw(frame: pd.DataFrame, counts: dict, column: str, seed: int) -> pd.DataFrame:
    """``counts[value]`` rows of each value of ``column``, drawn with ``seed``, shuffled."""
    parts = [frame[frame[column] == value].sample(n=count, random_state=seed) for value, count in counts.items()]
    return pd.concat(parts).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def suite(seed: int) -> dict[str, tuple[pd.DataFrame, dict]]:
    """Each dataset of the suite for draw ``seed``: its table and the dataset block a user writes for it."""
    sentences, pairs, overviews = _reviews(1), _reviews(2), _overviews()
    block = {"text_column": "text", "label_column": "label"}
    ratings = pairs[pairs["rating"].isin([1, 3, 8, 10])].assign(label=lambda f: f["rating"].astype(str))
    natural = ratings["label"].value_counts(normalize=True)
    # "yes" sorts after "no": the rare class is the second, whose F1 a binary task reports.
    horror = overviews.assign(label=overviews["labels"].map(lambda labels: "yes" if "Horror" in labels else "no"))
    return {
        # Single sentences, balanced: short texts where one sentence must carry the sentiment.
        "sentences": (_draw(sentences, {"neg": 800, "pos": 800}, "label", seed), block),
        # The same, 1:10: the positives are the rare class.
        "sentences_rare": (_draw(sentences, {"neg": 1000, "pos": 100}, "label", seed), block),
        # Two sentences, four star ratings in IMDB's own proportions (1 and 10 common, 3 and 8 rare).
        "short_ratings": (_draw(ratings, {label: round(2000 * share) for label, share in natural.items()}, "label", seed),
                          block),
        # Overviews, nine genres, any number each: all the movies we have, shuffled by the draw.
        "overview_genres": (overviews.assign(label=overviews["labels"].map("|".join)).sample(frac=1.0, random_state=seed)
                            .reset_index(drop=True), block | {"label_delimiter": "|"}),
        # Overviews, horror or not (about 1:8).
        "overview_horror": (horror.sample(frac=1.0, random_state=seed).reset_index(drop=True), block),
    }


# The project -----------------------------------------------------------------------------------------------------

def run(project: Path, *command: str) -> str:
    # The stages import the project's copy of the package, the code its dvc.lock records.
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                        "PYTHONPATH": str(project / "src")}
    result = subprocess.run(command, cwd=project, capture_output=True, text=True, env=env)
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed in {project}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def make_project(root: Path, draws: int) -> tuple[Path, dict[str, dict]]:
    """A DVC project holding every dataset of every draw, named <dataset>_<draw>; its datasets' facts."""
    project = root / "project"
    reused = (project / ".dvc").is_dir()  # a kept project: DVC reruns only what changed
    for name in ("stages", "src"):
        shutil.rmtree(project / name, ignore_errors=True)
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params = {key: params[key] for key in ("streaming", "training") if key in params}
    params["datasets"], facts = {}, {}
    (project / "data").mkdir(exist_ok=True)
    for draw in range(draws):
        for name, (table, block) in suite(draw).items():
            path = project / "data" / f"{name}_{draw}.csv"
            table[["text", "label"]].to_csv(path, index=False)
            # What `textclf init` adds to a rare-class binary block: F1 of the rare class as the main metric.
            found = Counter(table["label"])
            binary = "label_delimiter" not in block and len(found) == 2
            added = onboarding.rare_class_settings(found, tasks.Binary(sorted(found)))[0] if binary else {}
            params["datasets"][f"{name}_{draw}"] = {"path": f"data/{path.name}", **block, **added}
            facts[f"{name}_{draw}"] = {"dataset": name, "draw": draw, "rows": len(table)}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    if not reused:
        run(project, "git", "init", "-q")
        run(project, "dvc", "init", "-q")
    run(project, "textclf", "pipeline")
    # DVCLive, which logs training, needs a commit to start from.
    run(project, "git", "add", "-A")
    run(project, "git", "-c", "user.name=textclf", "-c", "user.email=bench@localhost", "commit", "-qm", "The suite",
        "--allow-empty")
    return project, facts


# The peers -------------------------------------------------------------------------------------------------------

def splits(project: Path, dataset: str) -> tuple[tasks.Task, dict[str, tuple[list[str], np.ndarray]]]:
    """The dataset's task and its prepared splits: texts and label arrays (indices, or 0/1 rows for multi-label)."""
    task = tasks.read_task(project / layout.task_file(dataset))
    found = {}
    for split in ("train", "validation", "test"):
        table = pd.read_parquet(project / layout.prepared_split(dataset, split))
        if task.name == "multi_label":
            labels = np.zeros((len(table), len(task.classes)), np.int64)
            for row, indices in enumerate(table["label"]):
                labels[row, list(indices)] = 1
        else:
            labels = table["label"].to_numpy()
        found[split] = (table["text"].tolist(), labels)
    return task, found


def score(task: tasks.Task, labels: np.ndarray, probabilities: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """The task's main metric (and a binary task's accuracy and F1, deciding at ``threshold``), by scikit-learn:
    an independent reference for ours."""
    if task.name == "multi_label":
        return {task.main_metric: float(roc_auc_score(labels, probabilities, average="micro"))}
    if task.name == "binary":
        predicted = probabilities[:, 1] >= threshold
        return {"accuracy": float(accuracy_score(labels, predicted)), "f1": float(f1_score(labels, predicted))}
    return {task.main_metric: float(f1_score(labels, probabilities.argmax(axis=1), average="macro"))}


def chosen_threshold(task: tasks.Task, labels: np.ndarray, probabilities: np.ndarray) -> float:
    """A binary peer's threshold, chosen on validation for the main metric as our models' is (fair to both)."""
    if task.name != "binary":
        return 0.5
    return metrics.best_threshold(labels == 1, probabilities[:, 1], "accuracy" if task.main_metric == "accuracy" else "f1")


def chosen(task: tasks.Task, labels: np.ndarray, candidates: dict) -> tuple:
    """The candidate (setting -> validation probabilities) with the best main metric at its own threshold,
    and that threshold."""
    thresholds = {setting: chosen_threshold(task, labels, found) for setting, found in candidates.items()}
    best = max(candidates, key=lambda setting: score(task, labels, candidates[setting], thresholds[setting])[task.main_metric])
    return best, thresholds[best]


class TfidfLogistic:
    name = "tfidf_logistic"

    def fit(self, task, train, validation):
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, token_pattern=TOKENS)
        features = vectorizer.fit_transform(train[0])

        def model(c):
            linear = LogisticRegression(C=c, max_iter=2000)
            return (OneVsRestClassifier(linear) if task.name == "multi_label" else linear).fit(features, train[1])

        fitted = {c: model(c) for c in (0.25, 1.0, 4.0, 16.0, 64.0)}
        best, threshold = chosen(task, validation[1], {c: fitted[c].predict_proba(vectorizer.transform(validation[0]))
                                                      for c in fitted})
        return {"C": best}, threshold, lambda texts: fitted[best].predict_proba(vectorizer.transform(texts))


class FastText:
    name = "fasttext"

    def fit(self, task, train, validation):
        with tempfile.TemporaryDirectory() as scratch:
            lines = []
            for text, labels in zip(*train):
                names = np.flatnonzero(labels) if task.name == "multi_label" else [labels]
                tags = " ".join(f"__label__{index}" for index in names)
                lines.append(f"{tags} {' '.join(re.findall(TOKENS, text.lower()))}")
            random.Random(0).shuffle(lines)  # fastText reads its file in order: classes must be mixed
            path = Path(scratch) / "train.txt"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")

            def model(ngrams, rate, epochs):
                return fasttext.train_supervised(str(path), wordNgrams=ngrams, lr=rate, epoch=epochs, seed=0, thread=1,
                                                 verbose=0, loss="ova" if task.name == "multi_label" else "softmax",
                                                 minCount=1, bucket=200_000)  # 2M n-gram buckets: 800 MB, for 2k texts

            fitted = {setting: model(*setting) for setting in
                      [(ngrams, rate, epochs) for ngrams in (1, 2) for rate in (0.1, 0.5, 1.0) for epochs in (5, 25)]}

        def probabilities(ft, texts):
            found = np.zeros((len(texts), len(task.classes)))
            for row, text in enumerate(texts):
                # The C++ call, one text at a time: fasttext-wheel 0.9.2's batch `predict` gives every label the
                # same probability under NumPy 2.
                for probability, name in ft.f.predict(" ".join(re.findall(TOKENS, text.lower())) + "\n", -1, 0.0,
                                                      "strict"):
                    found[row, int(name.removeprefix("__label__"))] = probability
            return found

        best, threshold = chosen(task, validation[1], {setting: probabilities(fitted[setting], validation[0])
                                                      for setting in fitted})
        return ({"word_ngrams": best[0], "lr": best[1], "epoch": best[2]}, threshold,
                lambda texts: probabilities(fitted[best], texts))


def peer_results(project: Path, dataset: str) -> dict[str, dict]:
    task, data = splits(project, dataset)
    found = {}
    for peer in (TfidfLogistic(), FastText()):
        started = time.perf_counter()
        setting, threshold, predict = peer.fit(task, data["train"], data["validation"])
        probabilities = predict(data["test"][0])
        # The whole grid's time: every setting is fitted, as our models train every epoch up to the best.
        found[peer.name] = score(task, data["test"][1], probabilities, threshold) | {
            "seconds": round(time.perf_counter() - started, 2), "chosen": setting | {"threshold": threshold}}
    return found


# The run -------------------------------------------------------------------------------------------------------

def ours(project: Path, dataset: str) -> dict[str, dict]:
    board = json.loads((project / layout.leaderboard_files(dataset)["json"]).read_text(encoding="utf-8"))
    found = {}
    for model, row in board.items():
        seconds = json.loads((project / layout.timing(dataset, model)).read_text(encoding="utf-8"))["train_seconds"]
        metrics = {key: row[key] for key in ("accuracy", "f1", "macro_f1", "roc_auc_micro") if key in row}
        found[model.removeprefix(f"{dataset}_")] = metrics | {"seconds": seconds}
    return found


def summary(draws: dict[str, dict], facts: dict[str, dict]) -> dict:
    """Per suite dataset: its task and size, and per model the mean and spread of each figure over the draws."""
    by_dataset: dict[str, dict] = {}
    for name, models in draws.items():
        entry = by_dataset.setdefault(facts[name]["dataset"], {"task": models["task"], "metric": models["metric"],
                                                               "rows": facts[name]["rows"], "models": {}})
        for model, figures in models["results"].items():
            for key, value in figures.items():
                if isinstance(value, (int, float)):
                    entry["models"].setdefault(model, {}).setdefault(key, []).append(value)
    for entry in by_dataset.values():
        for model, figures in entry["models"].items():
            entry["models"][model] = {key: {"mean": round(statistics.mean(values), 4),
                                            "std": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
                                            "values": [round(value, 4) for value in values]}
                                      for key, values in figures.items()}
    return by_dataset


def markdown(results: dict) -> str:
    took = (f"{results['minutes']:.1f} min, reusing a kept project (unchanged stages skipped)" if results["reused"]
            else f"{results['minutes']:.1f} min in all")
    lines = [f"Small-data suite: {results['draws']} draws per dataset, {results['host']}; {took} "
             "(`python benchmarks/small_data.py`).", "",
             "| dataset | task | rows | metric | " + " | ".join(results["columns"]) + " |",
             "|---|---|---|---|" + "---|" * len(results["columns"])]
    for name, entry in results["datasets"].items():
        cells = []
        for model in results["columns"]:
            figures = entry["models"].get(model, {}).get(entry["metric"])
            cells.append(f"{figures['mean']:.4f} ± {figures['std']:.4f}" if figures else "-")
        lines.append(f"| `{name}` | {entry['task']} | {entry['rows']:,} | {entry['metric']} | " + " | ".join(cells) + " |")
    means = results["mean_main_metric"]
    lines.append("| **mean** | | | | " + " | ".join(f"{means[model]:.4f}" for model in results["columns"]) + " |")
    binary = {name: entry for name, entry in results["datasets"].items() if entry["task"] == "binary"}
    if binary:
        lines += ["", "Binary datasets: F1 of the second class (the rare one), at each model's own decision rule:", "",
                  "| dataset | " + " | ".join(results["columns"]) + " |", "|---|" + "---|" * len(results["columns"])]
        for name, entry in binary.items():
            cells = [f"{entry['models'][model]['f1']['mean']:.4f} ± {entry['models'][model]['f1']['std']:.4f}"
                     if "f1" in entry["models"].get(model, {}) else "-" for model in results["columns"]]
            lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines += ["", "Train seconds (mean over draws; a peer's time covers its whole validation grid):", "",
              "| dataset | " + " | ".join(results["columns"]) + " |", "|---|" + "---|" * len(results["columns"])]
    for name, entry in results["datasets"].items():
        lines.append(f"| `{name}` | " + " | ".join(
            f"{entry['models'][model]['seconds']['mean']:.1f}" if model in entry["models"] else "-"
            for model in results["columns"]) + " |")
    return "\n".join(lines) + "\n"


def host() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return f"{model}, {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=3, help="seeded draws per dataset (default: 3)")
    parser.add_argument("--keep", type=Path, help="build the project here and keep it (default: a temporary folder); "
                                                   "a kept project is reused, and DVC reruns only what changed")
    args = parser.parse_args()
    for needed in (IMDB_RECORDS, MOVIES):
        if not needed.is_file():
            raise SystemExit(f"{needed} not found: run `dvc repro fetch@imdb fetch@movies_metadata` first")
    started = time.perf_counter()
    root = args.keep or Path(tempfile.mkdtemp(prefix="small_data_"))
    root.mkdir(parents=True, exist_ok=True)
    reused = (root / "project" / ".dvc").is_dir()
    project, facts = make_project(root, args.draws)
    run(project, "dvc", "repro", *(f"leaderboard@{name}" for name in facts))
    draws = {}
    for name in facts:
        task = tasks.read_task(project / layout.task_file(name))
        draws[name] = {"task": task.name, "metric": task.main_metric,
                       "results": ours(project, name) | peer_results(project, name)}
    datasets = summary(draws, facts)
    columns = list(dict.fromkeys(model for entry in datasets.values() for model in entry["models"]))
    results = {"host": host(), "draws": args.draws, "minutes": round((time.perf_counter() - started) / 60, 1),
               "reused": reused,
               "columns": columns, "datasets": datasets,
               "mean_main_metric": {model: round(statistics.mean(entry["models"][model][entry["metric"]]["mean"]
                                                                 for entry in datasets.values()), 4)
                                    for model in columns}}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "small_data.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "small_data.md").write_text(markdown(results), encoding="utf-8")
    update_readme(markdown(results), MARKERS)
    print(markdown(results))
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
