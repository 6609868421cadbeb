"""Training under tf.distribute: a real two-worker cluster on 127.0.0.1, the chief-only outputs, mixed precision."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest
from conftest import archive_members, make_project, write_archive
from test_models import BINARY, HPARAMS, WIDTH, separable_data
from test_stages import (
    assert_one_line_error,
    edit_params,
    environment,
    run_stage_here,
    run_steps,
)

from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import keras, seed_everything
from textclf.models import zoo
from textclf.training import distribute, fitting

WORKER_TIMEOUT = 600  # seconds; a worker whose peer died waits for it, so a broken cluster fails instead of hanging


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@pytest.fixture(scope="module")
def vectorized(tmp_path_factory):
    """A project through vectorize@words_20k, with a bow_mean that trains a few epochs."""
    root = tmp_path_factory.mktemp("distribute")
    project = make_project(root / "project", write_archive(root / "aclImdb_v1.tar.gz", archive_members(per_label=40)),
                           models__bow_mean__epochs=4)
    run_steps(project, ("fetch", "imdb"), ("prepare", "imdb"), ("vectorize", "words_20k"))
    return project


def files_of(project) -> set[str]:
    return {str(path.relative_to(project)) for path in project.rglob("*") if "__pycache__" not in path.parts}


def copy_of(project, path):
    shutil.copytree(project, path)
    return path


@pytest.mark.slow
def test_two_workers_train_the_model_one_process_trains(vectorized, tmp_path):
    single = copy_of(vectorized, tmp_path / "single")
    run_steps(single, ("train", "bow_mean"))

    workers = [copy_of(vectorized, tmp_path / f"worker{index}") for index in range(2)]
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    processes = []
    for index, worker in enumerate(workers):
        edit_params(worker, "training", distribution="multi_worker")
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        processes.append(subprocess.Popen([sys.executable, "stages/train.py", "bow_mean"], cwd=worker, text=True,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          env=environment(worker, TF_CONFIG=tf_config)))
    try:
        results = [process.communicate(timeout=WORKER_TIMEOUT) for process in processes]
    finally:
        for process in processes:
            process.kill()
    for process, (stdout, stderr) in zip(processes, results):
        assert process.returncode == 0, stderr
    (chief_out, _), (other_out, _) = results
    assert "multi_worker strategy (2 replicas)" in chief_out and "kept epoch" in chief_out
    assert "this worker's part is done" in other_out

    # Only the chief wrote outputs, and its model is the single process's, up to float summation order.
    assert files_of(workers[1]) == files_of(vectorized)
    assert json.loads((workers[0] / "metrics/timings/imdb/bow_mean.json").read_text())["replicas"] == 2
    chief = fitting.load_model(workers[0] / "models/bow_mean/model.keras")
    alone = fitting.load_model(single / "models/bow_mean/model.keras")
    for distributed, single_process in zip(chief.get_weights(), alone.get_weights()):
        np.testing.assert_allclose(distributed, single_process, atol=1e-5)


@pytest.mark.slow
def test_a_sparse_model_under_a_strategy_is_one_error_naming_both(vectorized, tmp_path):
    project = copy_of(vectorized, tmp_path / "project")
    edit_params(project, "training", distribution="mirrored")
    assert_one_line_error(run_stage_here(project, "train", "ngram"), "model 'ngram' reads sparse n-gram bags, which the mirrored")
    assert not (project / "models").exists()


@pytest.mark.slow
@pytest.mark.parametrize("tf_config, fragment", [
    (None, "TF_CONFIG is not set"),
    ("{not json", "TF_CONFIG is not a cluster spec"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "chief", "index": 0}}', "TF_CONFIG is not a cluster spec"),
])
def test_multi_worker_without_a_cluster_spec_is_one_error(vectorized, tmp_path, tf_config, fragment, monkeypatch):
    project = copy_of(vectorized, tmp_path / "project")
    edit_params(project, "training", distribution="multi_worker")
    # The stage stops before it creates the strategy, so it can run in this process.
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    assert_one_line_error(run_stage_here(project, "train", "bow_mean"), fragment)
    assert not (project / "models").exists()


def test_settings_are_checked_and_a_single_process_is_its_own_chief():
    with pytest.raises(TextclfError, match="training.distribution must be one of"):
        distribute.checked_settings({"training": {"distribution": "horovod", "precision": "float32"}})
    with pytest.raises(TextclfError, match="training.precision must be one of 'float32', 'mixed_float16', 'mixed_bfloat16', got 16"):
        distribute.checked_settings({"training": {"precision": 16}})
    assert distribute.checked_settings({}) == {"distribution": "default", "precision": "float32"}  # the defaults
    distribute.check_supported("ngram", "ngrams", {"distribution": "default"})  # sparse bags are fine on one device
    distribute.check_supported("bow_mean", "sequence", {"distribution": "multi_worker"})
    assert distribute.is_chief(distribute.start({"distribution": "default", "precision": "float32"}))


def test_mixed_precision_computes_in_16_bits_and_keeps_float32_logits():
    tokens, labels = separable_data()
    hparams = HPARAMS["bow_mean"] | {"seed": 0, "batch_size": 32, "epochs": 3, "learning_rate": 0.05, "patience": 5, "class_weight": "balanced"}
    try:
        strategy = distribute.start({"distribution": "default", "precision": "mixed_bfloat16"})
        seed_everything(0)
        model, rows, _ = fitting.train_model(zoo.model_spec("bow_mean"), hparams, WIDTH, ({"tokens": tokens}, labels),
                                              ({"tokens": tokens}, labels), BINARY, strategy=strategy)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    hidden = model.get_layer(index=2)
    assert hidden.compute_dtype == "bfloat16" and hidden.dtype == "float32"
    assert model.get_layer("logit").compute_dtype == "float32"
    logits = fitting.predict_logits(model, {"tokens": tokens}, labels, WIDTH)
    assert logits.dtype == np.float32 and rows[-1]["val_accuracy"] > 0.9
