"""The small-data suite's own parts: the texts it cuts, the peers it fits and how it scores and sums them up.

The suite itself runs on the real data (benchmarks/small_data.py); here the peers fit tiny prepared splits
written by the test, and scikit-learn's metrics are checked on cases worked out by hand.
"""

import json
import random

import numpy as np
import pandas as pd
import pytest
from test_bench import load_benchmark

from textclf import tasks
from textclf.pipeline import layout

small_data = load_benchmark("small_data")
CUES = {"neg": "awful dull", "pos": "superb moving", "mid": "fine okay"}
FILLER = "the film plot cast scene story music actor".split()


def write_prepared(project, dataset, task, classes, labels_of):
    """Prepared splits of cue-word texts, as prepare writes them, and the dataset's task.json."""
    rng = random.Random(0)
    folder = project / layout.prepared(dataset)
    folder.mkdir(parents=True)
    (project / layout.task_file(dataset)).write_text(json.dumps({"task": task, "classes": classes, "threshold": 0.5}))
    for split, count in (("train", 60), ("validation", 30), ("test", 30)):
        rows = []
        for number in range(count):
            label = labels_of(number)
            names = [classes[index] for index in (label if isinstance(label, list) else [label])]
            words = rng.sample(FILLER, 4) + [word for name in names for word in CUES[name].split()]
            rng.shuffle(words)
            rows.append({"id": number, "text": " ".join(words), "label": label})
        pd.DataFrame(rows).to_parquet(folder / f"{split}.parquet")


def test_a_review_is_cut_to_its_first_sentences_of_five_words_or_more():
    text = "Wow. This film is a true delight!<br /><br />The cast shines in every scene. Go."
    assert small_data._sentences(text, 1) == "This film is a true delight!"
    assert small_data._sentences(text, 2) == "This film is a true delight! The cast shines in every scene."


def test_scores_are_the_task_main_metric_on_hand_checked_cases():
    binary, multi_class = tasks.Binary(["neg", "pos"]), tasks.MultiClass(["a", "b", "c"])
    assert small_data.score(binary, np.array([0, 1, 1, 0]), np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])) == {
        "accuracy": 0.5, "f1": 0.5}
    # predicted a, b, b against a, b, c: F1 of a 1, of b 2/3, of c 0
    assert small_data.score(multi_class, np.array([0, 1, 2]), np.eye(3)[[0, 1, 1]])["macro_f1"] == pytest.approx(5 / 9)
    multi_label = tasks.MultiLabel(["a", "b"])
    # pooled over labels: positives 0.6 and 0.8, negatives 0.1 and 0.7; 3 of the 4 pairs are ordered right
    assert small_data.score(multi_label, np.array([[1, 0], [0, 1]]), np.array([[0.6, 0.1], [0.7, 0.8]])) == {
        "roc_auc_micro": 0.75}


@pytest.mark.parametrize(("task", "classes", "labels_of"), [
    ("binary", ["neg", "pos"], lambda n: n % 2),
    ("multi_class", ["mid", "neg", "pos"], lambda n: n % 3),
    ("multi_label", ["neg", "pos"], lambda n: [[0], [1], [0, 1]][n % 3]),
])
def test_both_peers_learn_cue_words_choosing_their_settings_on_validation(tmp_path, task, classes, labels_of):
    write_prepared(tmp_path, "d", task, classes, labels_of)
    first, again = small_data.peer_results(tmp_path, "d"), small_data.peer_results(tmp_path, "d")
    for peer in ("tfidf_logistic", "fasttext"):
        metric = tasks.TASKS[task].default_metric
        assert first[peer][metric] >= 0.9, (peer, first[peer])
        assert first[peer]["chosen"] == again[peer]["chosen"] and first[peer][metric] == again[peer][metric]
    assert first["tfidf_logistic"]["chosen"]["C"] in (0.25, 1.0, 4.0, 16.0, 64.0)
    assert set(first["fasttext"]["chosen"]) == {"word_ngrams", "lr", "epoch", "threshold"}


def test_the_summary_gives_each_model_its_mean_and_spread_over_draws_and_the_table_shows_them():
    facts = {f"s_{draw}": {"dataset": "s", "draw": draw, "rows": 100} for draw in range(2)}
    draws = {f"s_{draw}": {"task": "binary", "metric": "accuracy",
                           "results": {"ngram": {"accuracy": 0.8 + draw / 10, "f1": 0.5, "seconds": 2.0},
                                       "fasttext": {"accuracy": 0.7, "seconds": 1.0, "chosen": {"lr": 0.1}}}}
             for draw in range(2)}
    summary = small_data.summary(draws, facts)
    assert summary["s"]["models"]["ngram"]["accuracy"] == {"mean": 0.85, "std": 0.0707, "values": [0.8, 0.9]}
    assert "chosen" not in summary["s"]["models"]["fasttext"]
    results = {"host": "a CPU", "draws": 2, "minutes": 1.0, "reused": False, "columns": ["ngram", "fasttext"],
               "datasets": summary,
               "mean_main_metric": {"ngram": 0.85, "fasttext": 0.7}}
    table = small_data.markdown(results)
    assert "| `s` | binary | 100 | accuracy | 0.8500 ± 0.0707 | 0.7000 ± 0.0000 |" in table
    assert "| **mean** | | | | 0.8500 | 0.7000 |" in table
    assert "| `s` | 0.5000 ± 0.0000 | - |" in table  # the binary F1 table: the peer here reported none


def test_the_readme_table_is_the_committed_suite_result():
    """README's table is a copy of benchmarks/results/small_data.md made by the script, so it cannot go stale."""
    from conftest import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    start, end = (readme.index(marker) for marker in small_data.MARKERS)
    committed = (PROJECT_ROOT / "benchmarks" / "results" / "small_data.md").read_text(encoding="utf-8")
    assert readme[start + len(small_data.MARKERS[0]) + 1:end] == committed
