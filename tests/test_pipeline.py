"""The real `dvc repro` in a temporary git repository, on a tiny archive and a tiny movies file.

One project is built once per module, with two datasets: IMDB sentiment
(binary: its models, pretraining and the transfer grid) and movie genres
(multi-label: the n-gram model). The star-rating dataset and the genre hub
models are left out to keep the suite fast: their stages are the same stage
scripts, run one by one in test_stages.py, and test_dvc_yaml.py checks their
wiring. The tests that
follow use the project the way a person would (predict, rerun, push and pull,
experiments, reports). Those that change it come last.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import archive_members, make_project, write_archive, write_params

from textclf import cli
from textclf.reporting import predictions

pytestmark = pytest.mark.slow


BIN = Path(sys.executable).parent
# The BiLSTMs run the same stage scripts as bow_mean: their layers are tested in test_models.py and test_tasks.py.
MODELS = ["bow_mean", "ngram"]
HUB_MODELS = ["hub_dnn", "cnn"]
SELF_TRAINED = ["ngram_self_trained"]  # its teacher is `ensemble`; `ensemble_self_trained` has it as a member
ENSEMBLES = ["ensemble", "ensemble_self_trained"]
GENRE_STAGES = {"vectorize@genres_ngrams_1to2", "train@genres_ngram", "evaluate@genres_ngram", "export@genres_ngram"}
LEADERBOARDS = {"leaderboard@imdb", "leaderboard@movie_genres"}
SETUPS = ["pretrained_frozen", "pretrained_finetuned", "random_frozen", "random_finetuned", "bow_mean"]


def environment() -> dict:
    # Stage commands call `python`: it must be this interpreter, with textclf installed.
    env = {key: value for key, value in os.environ.items() if not key.startswith("TEXTCLF_SOURCE_")}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    return env | {"PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


def git(project: Path, *args: str) -> str:
    identity = ["-c", "user.name=textclf tests", "-c", "user.email=tests@localhost"]
    return subprocess.run(["git", *identity, *args], cwd=project, check=True, capture_output=True, text=True).stdout


def dvc(project: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=project, capture_output=True, text=True, env=environment())
    assert result.returncode == 0, f"dvc {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def stages_run(output: str) -> set[str]:
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A git + DVC project on the tiny archive, reproduced once and committed, with a local remote."""
    root = tmp_path_factory.mktemp("pipeline")
    archive = write_archive(root / "aclImdb_v1.tar.gz", archive_members(per_label=40))
    project = make_project(root / "project", archive)
    params = yaml.safe_load((project / "params.yaml").read_text())
    del params["datasets"]["imdb_ratings"]
    genre_blocks = {"genres_ngrams_1to2", "genres_ngram"}  # the multi-label dataset's n-gram features and model
    for block in ("features", "models"):
        params[block] = {name: item for name, item in params[block].items()
                         if (item["dataset"] == "imdb" and not name.startswith("bilstm"))
                         or name in genre_blocks}
    write_params(project, params)
    git(project, "init", "-q")
    dvc(project, "init", "-q")
    dvc(project, "remote", "add", "-d", "storage", str(root / "storage"))
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "the project, as a user clones it")
    first = dvc(project, "repro")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "first run")
    return project, first


def test_first_repro_runs_every_stage_once(built, tmp_path):
    project, first = built
    assert stages_run(first) == {
        "pipeline", "fetch@imdb", "fetch@movies_metadata", "prepare@imdb", "prepare@movie_genres", *GENRE_STAGES,
        "vectorize@words_20k", "vectorize@raw_text", "vectorize@ngrams_1to3", "vectorize@ngrams_1to3_unlabelled",
        "pretrain", *LEADERBOARDS, "transfer-analysis", *ENSEMBLES,
        *(f"{stage}@{m}" for m in MODELS for stage in ("train", "evaluate", "export")),
        *(f"{stage}@{m}" for m in HUB_MODELS for stage in ("train_hub", "evaluate_hub", "export_hub")),
        *(f"{stage}@{m}" for m in SELF_TRAINED for stage in ("train_self", "evaluate_self", "export_self")),
        *(f"transfer@{setup}" for setup in SETUPS),
    }
    shown = json.loads(dvc(project, "metrics", "show", "--json"))[""]["data"]
    # What people compare: the leaderboards and the transfer grid; the per-model reports stay files.
    assert set(shown) == {"metrics/leaderboards/imdb.json", "metrics/leaderboards/movie_genres.json",
                          "metrics/transfer_analysis.json"}
    assert (project / "metrics/models/imdb/ngram/evaluate.json").is_file()
    kept = predictions.read(project / "data/predictions/imdb/ngram.parquet")  # for the report's paired tests
    assert (kept.task, kept.logits.shape[1]) == ("binary", 1) and len(kept.labels) == len(kept.logits)
    transfer = json.loads((project / "metrics/transfer_analysis.json").read_text())
    assert set(transfer["grid"]) == set(SETUPS) and set(transfer["learning_curve"]["bow_mean"]) == {"32", "64"}
    board = json.loads((project / "metrics/leaderboards/imdb.json").read_text())
    assert set(board) == {*MODELS, *HUB_MODELS, *SELF_TRAINED, *ENSEMBLES}
    assert board["bow_mean"]["accuracy"] > 0.8 and board["ngram"]["accuracy"] > 0.8
    assert (project / "metrics/leaderboards/imdb.md").read_text().count("\n") == len(board) + 2
    genres = json.loads((project / "metrics/leaderboards/movie_genres.json").read_text())
    assert set(genres) == {"genres_ngram"} and genres["genres_ngram"]["roc_auc_micro"] > 0.8
    report = json.loads((project / "metrics/data/movie_genres.json").read_text())
    assert report["dropped"] == {"shifted_columns": 1, "duplicate_id": 1, "placeholder_overview": 1}

    unchanged = dvc(project, "repro")
    assert stages_run(unchanged) == set()
    assert "up to date" in unchanged

    plots = json.loads(dvc(project, "plots", "show", "--json", "-o", str(tmp_path / "plots")))["data"]
    assert {"imdb: validation loss per epoch", "imdb: confusion matrix (test)", "imdb: ROC (test)",
            "imdb: main test metric by model", "movie_genres: ROC-AUC per label (test)", "Transfer grid",
            "Learning curve (test accuracy)"} <= set(plots)
    drawn = {name: plot for name, plot in plots.items() if not name.endswith(".png")}
    # dvc.yaml is rendered from this project's params.yaml: every chart has something to draw.
    assert [name for name, plot in drawn.items() if not plot] == []
    assert all(plot[0]["type"] == "vega" for plot in drawn.values())


def test_every_export_predicts_and_the_console_script_picks_the_best(built, capsys):
    project, _ = built
    # In this process, one model after another: each export loads in a second, a new interpreter in ten.
    for model in [*MODELS, *HUB_MODELS, *SELF_TRAINED, *ENSEMBLES, "best"]:
        cli.main(["predict", "--project", str(project), "-m", model, "--format", "jsonl", "great wonderful superb",
                  "awful boring terrible"])
        labels = [json.loads(line)["label"] for line in capsys.readouterr().out.splitlines()]
        assert labels == ["positive", "negative"], model
    result = subprocess.run([str(BIN / "textclf"), "predict", "-m", "best", "--dataset", "movie_genres", "--format", "jsonl",
                             "--top-k", "2", "laugh funny joke hilarious"], cwd=project, capture_output=True, text=True,
                            env=environment())
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["model"] == "genres_ngram" and len(record["top"]) == 2 and len(record["probabilities"]) == 9


def holds_timings(path: str) -> bool:
    """Wall-clock times differ by nature: they live in metrics/timings/ and the leaderboards' markdown tables only."""
    return path.startswith("metrics/timings") or (path.startswith("metrics/leaderboards/") and path.endswith(".md"))


def without_timings(lock: dict) -> dict:
    for stage in lock["stages"].values():
        for kind in ("deps", "outs"):  # the leaderboard reads metrics/timings
            stage[kind] = [entry for entry in stage.get(kind, []) if not holds_timings(entry["path"])]
    return lock


def kind(stage: str) -> str:
    """The script a stage runs: train_hub@x and train_self@x run the same stages/train.py as train@y."""
    return stage.split("@")[0].removesuffix("_hub").removesuffix("_self")


# One stage of every stage script but the leaderboard and the transfer analysis, which only read metrics;
# the hub, self-trained and transfer stages each have their own model code beside the shared scripts.
FORCED = ["pipeline", "fetch@imdb", "prepare@imdb", "vectorize@ngrams_1to3", "pretrain", "train@ngram", "evaluate@ngram",
          "train_hub@hub_dnn", "export_hub@cnn", "ensemble", "train_self@ngram_self_trained", "ensemble_self_trained",
          "transfer@pretrained_finetuned"]


def test_forced_rerun_reproduces_every_byte(built):
    """Same params, same machine: every output's hash (models included) and every metric stay the same.

    Each forced stage runs on the inputs the first run committed, so one stage per script is enough to catch
    a script whose bytes wander. The real-data determinism check (benchmarks/determinism_check.py) forces every
    stage of the real pipeline."""
    project, first = built
    ran = stages_run(dvc(project, "repro", "--force", "--single-item", *FORCED))
    assert ran == set(FORCED)
    assert {kind(stage) for stage in ran} == {kind(stage) for stage in stages_run(first)} - {"leaderboard", "transfer-analysis"}
    changed = {line[3:] for line in git(project, "status", "--porcelain").splitlines()}
    assert {path for path in changed if not holds_timings(path)} == {"dvc.lock"}
    committed = without_timings(yaml.safe_load(git(project, "show", "HEAD:dvc.lock")))["stages"]
    rerun = without_timings(yaml.safe_load((project / "dvc.lock").read_text()))["stages"]
    assert rerun.keys() == committed.keys()
    assert [stage for stage in rerun if rerun[stage] != committed[stage]] == []
    git(project, "checkout", "-q", "--", ".")


def test_restyling_a_chart_redraws_it_and_retrains_nothing(built):
    project, _ = built
    plots_module = project / "src/textclf/reporting/plots.py"
    original = plots_module.read_text()
    plots_module.write_text(original + "\n# a restyled chart\n")
    try:
        stale = set(json.loads(dvc(project, "status", "--json")))
    finally:
        plots_module.write_text(original)
    assert stale == {*(f"evaluate@{m}" for m in MODELS), *(f"evaluate_hub@{m}" for m in HUB_MODELS), "evaluate@genres_ngram",
                     *(f"evaluate_self@{m}" for m in SELF_TRAINED), *ENSEMBLES, *LEADERBOARDS, "transfer-analysis"}


def test_push_then_pull_in_a_fresh_clone_restores_everything(built, tmp_path):
    project, _ = built
    dvc(project, "push")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
    dvc(clone, "pull")
    assert (clone / "models/bow_mean/model.keras").is_file() and (clone / "models/hub/pretrained/saved_model.pb").is_file()
    assert "up to date" in dvc(clone, "status")
    assert stages_run(dvc(clone, "repro")) == set()


def ensembles_of(project: Path, model: str) -> set[str]:
    """The ensemble stages that rerun when ``model`` changes: those it is a member of."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    return {name for name, block in params["models"].items() if model in block.get("members", [])}


def test_exp_run_sets_a_model_param_reruns_only_what_it_touches_and_the_report_shows_it(built):
    project, _ = built
    pipeline = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    # The whole block is the dependency, so `dvc exp run -S models.<name>.<any key>=...` reruns that model.
    how = ["training", "streaming.shuffle_buffer"]  # the strategy, the precision and the shuffle window
    assert pipeline["train"]["do"]["params"] == [*how, "${item.params}"]
    assert pipeline["train"]["foreach"]["bow_mean"]["params"] == "models.bow_mean"
    ran = stages_run(dvc(project, "exp", "run", "-S", "models.bow_mean.learning_rate=0.01"))
    # params.yaml changed, so the pipeline stage checked dvc.yaml; only bow_mean's dataset is ranked again.
    assert ran == {"pipeline", "train@bow_mean", "evaluate@bow_mean", "export@bow_mean", "leaderboard@imdb",
                   *ensembles_of(project, "bow_mean")}
    rows = list(csv.DictReader(io.StringIO(dvc(project, "exp", "show", "--csv"))))
    assert {"models.bow_mean.learning_rate", "bow_mean.accuracy"} <= set(rows[0])  # params and metrics side by side
    assert [row["models.bow_mean.learning_rate"] for row in rows if row["Experiment"]] == ["0.01"]

    # A workspace experiment leaves its params and results in the workspace: the report compares them with HEAD.
    result = subprocess.run([str(BIN / "textclf"), "report", "--ref", "HEAD", "--out", "report.md", "--draws", "100"],
                            cwd=project, capture_output=True, text=True, env=environment())
    assert result.returncode == 0, result.stderr
    report = (project / "report.md").read_text()
    assert "| params.yaml | models.bow_mean.learning_rate | 0.02   | 0.01" in report
    # bow_mean's change is tested on HEAD's predictions from the DVC cache; the other models are unchanged.
    summary = report.split("## Summary")[1].split("\n## ")[0]
    rows = {line.split("|")[1].strip(" `"): line for line in summary.splitlines() if line.startswith("| `")}
    assert set(rows) == {*MODELS, *HUB_MODELS, *SELF_TRAINED, *ENSEMBLES, "genres_ngram"}
    assert ("▲ better" in rows["bow_mean"] or "▼ worse" in rows["bow_mean"] or "≈ within noise" in rows["bow_mean"])
    assert "= unchanged" in rows["ngram"]
    assert "| metrics/leaderboards/imdb.json | bow_mean.accuracy |" in report.split("<summary>Metrics that changed")[1]
    assert "### imdb: validation loss per epoch" in report
    assert "](report/imdb-validation-loss-per-epoch.png)" in report
    assert (project / "report/imdb-validation-loss-per-epoch.png").read_bytes().startswith(b"\x89PNG")

    # A transfer setup's own settings leave the other setups up to date.
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["transfer"]["setups"]["bow_mean"]["embedding_dim"] = 12
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert set(json.loads(dvc(project, "status", "--json"))) == {"pipeline", "transfer@bow_mean", "transfer-analysis"}
    git(project, "checkout", "-q", "--", ".")
    dvc(project, "checkout", "-q")


def test_interrupted_training_leaves_no_output_and_reruns_cleanly(built):
    project, _ = built
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["models"]["bow_mean"].update(epochs=500, patience=500)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    live_log = project / "metrics/models/imdb/bow_mean/train/plots/metrics/eval/loss.tsv"
    # A new session, so the SIGINT reaches dvc and the stage together, as Ctrl-C in a terminal does.
    run = subprocess.Popen([sys.executable, "-m", "dvc", "repro", "train@bow_mean"], cwd=project, env=environment(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    for line in run.stdout:
        if line.startswith("Epoch 3/"):
            # Mid-run, a partial output is on disk: the live training log, at least two epochs long.
            assert live_log.read_text().count("\n") >= 3
            os.killpg(run.pid, signal.SIGINT)
            break
    output = run.communicate(timeout=120)[0]
    assert run.returncode != 0
    assert "error: interrupted; no output was written" in output  # the stage itself got the signal
    assert not (project / "metrics/models/imdb/bow_mean/train").exists() and not (project / "models/bow_mean/model.keras").exists()
    assert list(project.rglob(".*.tmp-*")) == []
    assert "train@bow_mean" in dvc(project, "status")

    params["models"]["bow_mean"].update(epochs=2, patience=1)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert "train@bow_mean" in stages_run(dvc(project, "repro", "train@bow_mean"))
    assert (project / "models/bow_mean/model.keras").is_file()
    git(project, "checkout", "-q", "--", ".")
    dvc(project, "checkout", "-q")
