"""Stage scripts run as DVC runs them: subprocesses in a project directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import yaml

from conftest import archive_members, make_project, write_archive

pytestmark = pytest.mark.slow


def run_stage(project, name, *args, **env):
    environment = {key: value for key, value in os.environ.items() if key != "TEXTCLF_FETCH_SOURCE"} | env
    return subprocess.run(
        [sys.executable, f"stages/{name}.py", *args], cwd=project, capture_output=True, text=True, env=environment
    )


def edit_params(project, block, **values):
    params = yaml.safe_load((project / "params.yaml").read_text())
    node = params
    for part in block.split("."):
        node = node[part]
    node.update(values)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def assert_one_line_error(result, fragment):
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and "files/s" not in line]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert fragment in lines[0]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project on the tiny archive, run through every stage once."""
    root = tmp_path_factory.mktemp("stages")
    archive = write_archive(root / "aclImdb_v1.tar.gz", archive_members(per_label=40))
    project = make_project(root / "project", archive)
    steps = [("fetch",), ("prepare",), ("vectorize", "words_20k"), ("train", "bow_mean"), ("evaluate", "bow_mean")]
    for step in steps:
        result = run_stage(project, *step)
        assert result.returncode == 0, f"{step} failed:\n{result.stderr}"
    return project


def test_every_stage_writes_its_outputs(project):
    for path in [
        "data/raw/imdb.parquet", "data/prepared/train.parquet", "data/prepared/unsup.parquet",
        "data/features/words_20k/vocab.txt", "data/features/words_20k/test_tokens.npy", "models/bow_mean/model.keras",
        "metrics/models/bow_mean/train/plots/metrics/eval/loss.tsv", "metrics/models/bow_mean/train/metrics.json", "metrics/timings/bow_mean.json", "plots/models/bow_mean/confusion.csv",
        "plots/models/bow_mean/roc.csv", "plots/models/bow_mean/roc.png", "plots/models/bow_mean/training_curves.png",
    ]:
        assert (project / path).exists(), path
    report = json.loads((project / "metrics/data_report.json").read_text())
    assert report["counts"]["test"]["total"] == 80
    evaluation = json.loads((project / "metrics/models/bow_mean/evaluate.json").read_text())
    assert set(evaluation) == {"accuracy", "loss", "precision", "recall", "f1", "roc_auc"}
    assert evaluation["accuracy"] > 0.8  # the synthetic cue words make this easy
    assert list(project.rglob(".*.tmp-*")) == []


def test_fetch_output_is_the_same_for_path_and_file_url(project):
    before = (project / "data/raw/imdb.parquet").read_bytes()
    result = run_stage(project, "fetch", TEXTCLF_FETCH_SOURCE=(project.parent / "aclImdb_v1.tar.gz").as_uri())
    assert result.returncode == 0, result.stderr
    assert (project / "data/raw/imdb.parquet").read_bytes() == before


@pytest.fixture
def fresh_project(tmp_path):
    archive = write_archive(tmp_path / "aclImdb_v1.tar.gz", archive_members(per_label=10))
    return make_project(tmp_path / "project", archive)


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        ("truncate", "is truncated or corrupt"),
        ("drop_test_neg", "has no reviews in aclImdb/test/neg/"),
        ("latin1", "is not valid UTF-8"),
        ("edit", "fingerprint mismatch"),
        ("remap_movies", "fingerprint mismatch"),
    ],
)
def test_fetch_rejects_bad_archives_without_output(fresh_project, damage, fragment):
    archive = fresh_project.parent / "aclImdb_v1.tar.gz"
    members = archive_members(per_label=10)
    if damage == "truncate":
        archive.write_bytes(archive.read_bytes()[:-300])
    else:
        if damage == "drop_test_neg":
            members = {name: data for name, data in members.items() if "/test/neg/" not in name}
        elif damage == "remap_movies":  # every positive train review under one movie: prepare would split it wrongly
            members["aclImdb/train/urls_pos.txt"] = b"http://www.imdb.com/title/tt0000001/usercomments\n" * 10
        else:
            name = next(n for n in members if n.startswith("aclImdb/train/neg/1_"))
            members[name] = b"na\xefve" if damage == "latin1" else members[name] + b" extra"
        write_archive(archive, members)
    result = run_stage(fresh_project, "fetch")
    assert_one_line_error(result, fragment)
    assert not (fresh_project / "data/raw").exists() or not any((fresh_project / "data/raw").iterdir())


@pytest.mark.parametrize(
    ("block", "values", "fragment"),
    [
        ("models.bow_mean", {"epochs": -1}, "models.bow_mean.epochs must be a positive integer, got -1"),
        ("models.bow_mean", {"architecture": "gpt"}, "unknown model 'gpt'"),
        ("models.bow_mean", {"features": "ngrams_1to3"}, "holds n-gram bags, but the model reads token sequences"),
        ("prepare", {"validation_fraction": 1.5}, "prepare.validation_fraction must be a number strictly between 0 and 1"),
    ],
)
def test_bad_params_fail_before_any_output(fresh_project, block, values, fragment):
    edit_params(fresh_project, block, **values)
    (fresh_project / "data/features/ngrams_1to3").mkdir(parents=True)
    for name in ("train_indptr.npy", "vocab.txt"):
        (fresh_project / "data/features/ngrams_1to3" / name).touch()
    result = run_stage(fresh_project, *(("prepare",) if block == "prepare" else ("train", "bow_mean")))
    assert_one_line_error(result, fragment)
    assert not (fresh_project / "models").exists() and not (fresh_project / "metrics").exists()


def test_missing_param_key_is_named(fresh_project):
    params = yaml.safe_load((fresh_project / "params.yaml").read_text())
    del params["models"]["bow_mean"]["hidden_units"]
    (fresh_project / "params.yaml").write_text(yaml.safe_dump(params))
    assert_one_line_error(run_stage(fresh_project, "train", "bow_mean"), "missing key 'models.bow_mean.hidden_units'")


def test_unknown_feature_set_and_model_are_named(fresh_project):
    assert_one_line_error(run_stage(fresh_project, "vectorize", "chars"), "missing block 'features.chars'")
    assert_one_line_error(run_stage(fresh_project, "train", "gpt"), "missing block 'models.gpt'")


def test_a_stage_without_its_inputs_says_what_to_run(fresh_project):
    assert_one_line_error(run_stage(fresh_project, "prepare"), "run `dvc repro fetch`")


def test_prepare_refuses_records_whose_movies_break_its_split(fresh_project):
    """Even with the fingerprint unpinned, prepare checks its own promises before writing."""
    archive = fresh_project.parent / "aclImdb_v1.tar.gz"
    members = archive_members(per_label=10)
    members["aclImdb/train/urls_pos.txt"] = b"http://www.imdb.com/title/tt0000001/usercomments\n" * 10
    write_archive(archive, members)
    edit_params(fresh_project, "fetch", fingerprint=None)
    assert run_stage(fresh_project, "fetch").returncode == 0
    assert_one_line_error(run_stage(fresh_project, "prepare"), "validation split is not stratified: validation holds neg 100.0%, pos 0.0%")
    assert not (fresh_project / "data/prepared").exists() and list((fresh_project / "data").glob(".*")) == []


def test_temporaries_of_a_killed_stage_are_gone_after_its_next_run(fresh_project):
    assert run_stage(fresh_project, "fetch").returncode == 0
    killed = subprocess.Popen([sys.executable, "stages/prepare.py"], cwd=fresh_project)
    killed.kill()  # SIGKILL: no handler runs, as when the kernel's OOM killer strikes
    killed.wait()
    leftover = fresh_project / "data" / f".prepared.tmp-{killed.pid}"  # what a kill mid-write leaves
    leftover.mkdir(parents=True)
    (leftover / "train.parquet").write_bytes(b"PAR1 half written")
    result = run_stage(fresh_project, "prepare")
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (fresh_project / "data").iterdir()) == ["prepared", "raw"]


def test_ctrl_c_during_training_exits_130_and_removes_the_live_log(fresh_project):
    for step in [("fetch",), ("prepare",), ("vectorize", "words_20k")]:
        assert run_stage(fresh_project, *step).returncode == 0
    edit_params(fresh_project, "models.bow_mean", epochs=100_000, patience=100_000)
    live_log = fresh_project / "metrics/models/bow_mean/train/plots/metrics/train/loss.tsv"
    training = subprocess.Popen([sys.executable, "stages/train.py", "bow_mean"], cwd=fresh_project, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ | {"PYTHONUNBUFFERED": "1"})
    for line in training.stdout:
        if line.startswith("Epoch 3/"):
            assert live_log.is_file()  # a non-atomic writer would leave this behind
            training.send_signal(signal.SIGINT)
            break
    _, stderr = training.communicate(timeout=60)
    assert training.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "error: interrupted; no output was written"
    left = [path for folder in ("metrics/models", "metrics/timings", "models") for path in (fresh_project / folder).rglob("*")
            if path.is_file()]
    assert left == [] and list(fresh_project.rglob(".*.tmp-*")) == []
