"""The CI fan-out: which stages each job runs, and jobs meeting again through a DVC remote."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import PROJECT_ROOT
from dvc.repo import Repo

from textclf.core.errors import TextclfError
from textclf.pipeline import fanout


def project_plan(tmp_path):
    """The plan of this repository's own pipeline (its dvc.yaml and params.yaml in a bare DVC project)."""
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    Repo.init(str(tmp_path), no_scm=True).close()
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    return fanout.plan(fanout.stage_graph(tmp_path), params), params


def test_every_stage_of_the_pipeline_is_in_exactly_one_job(tmp_path):
    plan, params = project_plan(tmp_path)
    jobs = {"shared": plan["shared"].split(), "final": plan["final"].split()}
    for wave in plan["waves"]:
        for unit in wave:
            jobs[unit["job"]] = unit["stages"].split()
    placed = [stage for stages in jobs.values() for stage in stages]
    assert len(placed) == len(set(placed))
    assert set(placed) == set(fanout.stage_graph(tmp_path))

    assert jobs["ngram"] == ["train@ngram", "evaluate@ngram", "export@ngram"]
    assert jobs["cnn"] == ["train_hub@cnn", "evaluate_hub@cnn", "export_hub@cnn"]
    assert jobs["transfer-pretrained_frozen"] == ["transfer@pretrained_frozen"]
    assert {"pretrain", "prepare@imdb", "vectorize@ngrams_1to3", "fetch@imdb"} <= set(jobs["shared"])
    # The pipeline stage (the check of dvc.yaml) feeds no stage: it runs with the report.
    assert set(jobs["final"]) == {"pipeline", "transfer-analysis", *(f"leaderboard@{name}" for name in params["datasets"])}


def test_ensembles_and_self_trained_models_wait_for_the_waves_of_what_they_read(tmp_path):
    plan, params = project_plan(tmp_path)
    wave_of = {unit["job"]: number for number, wave in enumerate(plan["waves"]) for unit in wave}
    assert len(plan["waves"]) == fanout.WAVES
    for name, block in params["models"].items():
        if "members" in block:
            assert wave_of[name] == 1 + max(wave_of[member] for member in block["members"])
        if "teacher" in block:
            assert wave_of[name] == 1 + wave_of[block["teacher"]]
    assert wave_of["ngram"] == wave_of["cnn"] == 0 and wave_of["ensemble_self_trained"] == 3


def test_the_github_output_gives_stage_lists_and_matrices(tmp_path):
    plan, _ = project_plan(tmp_path)
    lines = dict(line.split("=", 1) for line in fanout.github_output(plan).splitlines())
    assert lines["shared"] == plan["shared"] and lines["final"] == plan["final"]
    assert [json.loads(lines[f"wave{number}"]) for number in range(1, fanout.WAVES + 1)] == plan["waves"]


def ensemble(*members: str) -> dict:
    return {"dataset": "d", "architecture": "ensemble", "members": list(members)}


DATASET = {"d": {"path": "d.csv", "text_column": "text", "label_column": "label"}}
PARAMS = {"datasets": DATASET,
          "models": {"a": {"dataset": "d", "architecture": "ngram"}, "b": {"dataset": "d", "architecture": "ngram"},
                     "e": ensemble("a", "b"), "e2": ensemble("e", "a"), "e3": ensemble("e2", "a"), "e4": ensemble("e3", "a")}}


def test_a_chain_deeper_than_the_workflows_waves_is_refused():
    graph = {"prepare": set(), "train@a": {"prepare"}, "train@b": {"prepare"}, "e": {"train@a", "train@b", "prepare"}}
    for deeper, member in (("e2", "e"), ("e3", "e2"), ("e4", "e3")):
        graph[deeper] = {member, *graph[member]}
    with pytest.raises(TextclfError, match="'e4' needs 'e3', which is in the last of the workflow's 4 waves"):
        fanout.plan(graph, PARAMS)
    del graph["e4"]
    assert [[unit["job"] for unit in wave] for wave in fanout.plan(graph, PARAMS)["waves"]] == [["a", "b"], ["e"], ["e2"], ["e3"]]


def test_an_unknown_job_names_the_known_ones():
    graph = {"prepare": set(), "train@a": {"prepare"}, "board": {"train@a", "prepare"}}
    plan = fanout.plan(graph, PARAMS)
    assert fanout.job_stages(plan, "a") == ["train@a"] and fanout.job_stages(plan, "final") == ["board"]
    with pytest.raises(TextclfError, match="no job 'z' in the plan \\(jobs: shared, a, final\\)"):
        fanout.job_stages(plan, "z")


# A tiny pipeline of the same shape: a shared stage, two models, an ensemble of
# them and a leaderboard. Every command appends its stage's name to RUN_LOG, so
# the test sees what each machine really ran.
RECORD = "import os, sys; open(os.environ['RUN_LOG'], 'a').write(sys.argv[1] + '\\n')"
DVC_YAML = {"stages": {
    "prepare": {"cmd": f"python -c \"{RECORD}\" prepare && mkdir -p data && echo text > data/prepared.txt",
                "deps": ["raw.txt"], "outs": ["data/prepared.txt"]},
    "train": {"foreach": ["a", "b"], "do": {
        "cmd": (f"python -c \"{RECORD}\" train@${{item}} && mkdir -p models metrics/models "
                "&& echo ${item} > models/${item}.bin && echo '{\"accuracy\": 0.5}' > metrics/models/${item}.json"),
        "deps": ["data/prepared.txt"],
        "outs": ["models/${item}.bin", {"metrics/models/${item}.json": {"cache": False}}]}},
    "e": {"cmd": (f"python -c \"{RECORD}\" e && cat models/a.bin models/b.bin > models/e.bin "
                  "&& echo '{\"accuracy\": 0.75}' > metrics/models/e.json"),
          "deps": ["models/a.bin", "models/b.bin"],
          "outs": ["models/e.bin", {"metrics/models/e.json": {"cache": False}}]},
    "board": {"cmd": f"python -c \"{RECORD}\" board && cat metrics/models/*.json > board.txt",
              "deps": ["metrics/models/a.json", "metrics/models/b.json", "metrics/models/e.json"],
              "outs": [{"board.txt": {"cache": False}}]},
}}


def fanout_cli(project, *args):
    result = subprocess.run([sys.executable, "-m", "textclf.pipeline.fanout", "--project", str(project), *args],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_jobs_on_separate_machines_meet_through_the_remote_and_their_collections(tmp_path, monkeypatch):
    origin = tmp_path / "origin"
    origin.mkdir()
    (origin / "raw.txt").write_text("raw\n")
    (origin / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML, sort_keys=False))
    (origin / "params.yaml").write_text(yaml.safe_dump({"datasets": DATASET, "models": {
        "a": {"dataset": "d", "architecture": "ngram"}, "b": {"dataset": "d", "architecture": "ngram"}, "e": ensemble("a", "b")}}))
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=origin, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "remote", "add", "-d", "storage", str(tmp_path / "remote")], cwd=origin, check=True)
    plan = json.loads(fanout_cli(origin, "plan"))
    assert plan["shared"] == "prepare" and plan["final"] == "board"
    assert [[unit["job"] for unit in wave] for wave in plan["waves"]] == [["a", "b"], ["e"], [], []]

    collected = tmp_path / "artifacts"  # what the workflow's artifacts carry from job to job
    ran = {}

    def job(name, stages, gather=True):
        """One job on a fresh machine: a clean checkout, earlier collections gathered, its stages reproduced."""
        machine = tmp_path / f"machine-{name}"
        shutil.copytree(origin, machine)
        log = tmp_path / f"{name}.log"
        log.touch()
        monkeypatch.setenv("RUN_LOG", str(log))
        if gather:
            fanout.gather(machine, collected)
        subprocess.run([sys.executable, "-m", "dvc", "repro", "--pull", "--allow-missing", "-q", *stages], cwd=machine, check=True,
                       env=os.environ)
        subprocess.run([sys.executable, "-m", "dvc", "push", "-q", "--run-cache", *stages], cwd=machine, check=True)
        ran[name] = log.read_text().split()
        return machine

    fanout_cli(job("shared", ["prepare"], gather=False), "collect", "shared", str(collected))  # as the workflow calls it
    for unit in ("a", "b", "e"):
        stages = fanout.job_stages(plan, unit)
        fanout.collect(job(unit, stages), stages, collected / unit)
    final = job("final", [])  # the report job: the whole pipeline, after gathering every job

    assert ran == {"shared": ["prepare"], "a": ["train@a"], "b": ["train@b"], "e": ["e"], "final": ["board"]}
    assert (final / "board.txt").read_text().split("\n")[:3] == ['{"accuracy": 0.5}', '{"accuracy": 0.5}',
                                                               '{"accuracy": 0.75}']
    # The report job skipped what it did not need; the remote and the gathered dvc.lock hold all the rest.
    subprocess.run([sys.executable, "-m", "dvc", "pull", "-q"], cwd=final, check=True)
    status = subprocess.run([sys.executable, "-m", "dvc", "status", "-q"], cwd=final)
    assert status.returncode == 0


def test_collect_refuses_a_stage_that_did_not_run(tmp_path):
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump({"schema": "2.0", "stages": {}}))
    with pytest.raises(TextclfError, match="dvc.lock has no entry for 'train@a'"):
        fanout.collect(tmp_path, ["train@a"], tmp_path / "out" / "a")
    assert not (tmp_path / "out").exists()


def test_gather_with_nothing_collected_says_so(tmp_path):
    with pytest.raises(TextclfError, match="nothing collected in"):
        fanout.gather(tmp_path, tmp_path / "empty")
