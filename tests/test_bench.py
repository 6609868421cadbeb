"""The benchmark harness's own parts: what it measures of a process, and the table it writes."""

import importlib.util
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import PROJECT_ROOT


def load_benchmark(name):
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = load_benchmark("bench")
sys.modules.setdefault("bench", bench)  # streaming.py imports it as a script would, from benchmarks/
streaming = load_benchmark("streaming")


# A process that holds `mb` MiB (every page touched, so it is resident) for `sleep` seconds.
ALLOCATE = "import time; block = bytearray({mb} * 2**20); block[::4096] = b'x' * len(block[::4096]); time.sleep({sleep})"


def test_a_measured_command_reports_its_time_and_the_peak_memory_of_its_children():
    # This process holds ~600 MB and the child ~200 MB: the peak is the child's, not
    # this process's (a child forked from here would count this process's pages).
    ballast = bytearray(600 * 2**20)
    ballast[::4096] = b"x" * len(ballast[::4096])
    measured = bench.measured([sys.executable, "-c", ALLOCATE.format(mb=200, sleep=0.3)])
    assert measured["seconds"] >= 0.3
    assert 200 <= measured["peak_rss_mb"] < 400
    del ballast


def test_a_failing_command_stops_the_harness_with_its_exit_code():
    with pytest.raises(SystemExit, match="exited with 3"):
        bench.measured([sys.executable, "-c", "raise SystemExit(3)"])


STAGES_SCRIPT = f"""
import subprocess, sys
print("Running stage 'big':")
subprocess.run([sys.executable, "-c", {ALLOCATE.format(mb=300, sleep=0.6)!r}], check=True)
print("Running stage 'small':")
subprocess.run([sys.executable, "-c", {ALLOCATE.format(mb=1, sleep=0.4)!r}], check=True)
raise SystemExit({{code}})
"""


def test_one_run_is_timed_stage_by_stage_with_each_stage_s_own_peak_memory():
    ended = []
    rows, seconds = bench.stage_by_stage([sys.executable, "-c", STAGES_SCRIPT.format(code=0)],
                                         lambda rows: ended.append(len(rows)))
    assert [row["stage"] for row in rows] == ["big", "small"] and ended == [1, 2]
    big, small = rows
    assert big["seconds"] >= 0.6 and small["seconds"] >= 0.4
    assert seconds >= big["seconds"] + small["seconds"]
    # The launching process is not counted: each stage weighs what its own commands held.
    assert 300 <= big["peak_rss_mb"] < 450
    assert small["peak_rss_mb"] < 100


def test_a_failing_run_stops_the_harness_with_its_exit_code():
    with pytest.raises(SystemExit, match="exited with 4"):
        bench.stage_by_stage([sys.executable, "-c", STAGES_SCRIPT.format(code=4)])


def test_spread_is_the_median_with_min_and_max():
    assert bench.spread([3.0, 1.0, 2.0, 10.0]) == {"median": 2.5, "min": 1.0, "max": 10.0, "n": 4}


def test_the_table_groups_stages_and_sets_each_model_beside_the_stronger_peer():
    results = {
        "date": "2026-11-22",
        "machine": {"cpu": "a CPU", "cores": 2, "memory_gib": 24.0, "packages": {"tensorflow": "2.21.0", "dvc": "3.67.1"}},
        "full_repro": [{"stage": "train@a", "seconds": 100.0, "peak_rss_mb": 900},
                       {"stage": "train@b", "seconds": 50.0, "peak_rss_mb": 1200},
                       {"stage": "pretrain", "seconds": 50.0, "peak_rss_mb": 2000}],
        "full_repro_seconds": 204.0,
        "host_speed": {"python_loop": {"median": 0.61, "min": 0.6, "max": 0.7, "n": 3},
                       "tensorflow_import": {"median": 3.04, "min": 3.0, "max": 3.2, "n": 3}},
        "noop_repro": {"seconds": {"median": 2.5, "min": 2.0, "max": 3.0, "n": 3}, "peak_rss_mb": 150},
        "peers": {"reference": "strong", "peers": {
            "weak": {"description": "weak peer", "accuracy": 0.90, "seconds": {"median": 10.0, "min": 9.0, "max": 11.0}},
            "strong": {"description": "strong peer", "accuracy": 0.915, "seconds": {"median": 50.0, "min": 45.0, "max": 60.0}}}},
        "ours": {"a": {"accuracy": 0.925, "train_seconds": 100.0}},
        "training": {"a": {"examples_per_second": 2000}},
        "predict": {"a": {"reviews_per_second": {"median": 900.0, "min": 800.0, "max": 950.0}}},
    }
    table = bench.markdown(results)
    assert "**Full `dvc repro`** (one run, every stage forced): 3.4 min, peak RSS 2,000 MB" in table
    assert ("Host speed before the full run (median of 3): a pure-Python loop of 10^7 additions 0.61 s, "
            "`from textclf.core import tf_runtime` 3.0 s.") in table
    assert "| train | 2 | 150 s | 74% | `train@a` 100 s | 1,200 MB |" in table
    assert "No-op `dvc repro`**: 2.5 s (median of 3)" in table
    assert "| ours: `a` | 0.9250 | 100 s | 2.0x | +1.00 points |" in table
    assert "| `a` | 2,000 | 900 (800-950) |" in table


def test_the_host_speed_is_each_probe_s_median_time_in_its_own_process(monkeypatch):
    monkeypatch.setattr(bench, "HOST_PROBES", {"slow": "import time; time.sleep(0.2)", "fast": "pass"})
    speed = bench.host_speed(repeats=2)
    assert set(speed) == {"slow", "fast"} and speed["slow"]["n"] == 2
    assert speed["slow"]["min"] >= 0.2
    assert speed["slow"]["median"] > speed["fast"]["median"]


def test_the_readme_section_between_the_markers_is_replaced(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{bench.MARKERS[0]}\nold table\n{bench.MARKERS[1]}\noutro\n")
    monkeypatch.setattr(bench, "README", readme)
    bench.update_readme("| new | table |\n")
    assert readme.read_text() == f"intro\n{bench.MARKERS[0]}\n| new | table |\n{bench.MARKERS[1]}\noutro\n"


def test_an_ensemble_needs_every_stage_its_members_need_and_its_own():
    params = {
        "datasets": {"imdb": {"path": "x.csv", "text_column": "text", "label_column": "label", "default_models": False}},
        "features": {"ngrams_1to3": {"kind": "ngrams", "dataset": "imdb"}, "words_20k": {"kind": "sequence", "dataset": "imdb"},
                     "raw_text": {"kind": "text", "dataset": "imdb"}},
        "models": {"ngram": {"dataset": "imdb", "architecture": "ngram", "features": "ngrams_1to3"},
                   "cnn": {"dataset": "imdb", "architecture": "cnn", "features": "words_20k", "handle": "models/hub/pretrained"},
                   "online": {"dataset": "imdb", "architecture": "hub_dnn", "features": "raw_text",
                              "handle": "https://tfhub.dev/google/nnlm-en-dim50/2"},
                   "ensemble": {"dataset": "imdb", "architecture": "ensemble", "members": ["ngram", "cnn", "online"]}},
    }
    assert bench.training_stages(params, "online") == {"vectorize@raw_text", "train_hub@online"}
    assert bench.training_stages(params, "ensemble") == {
        "ensemble", "vectorize@ngrams_1to3", "train@ngram", "vectorize@words_20k", "train_hub@cnn", "pretrain",
        "vectorize@raw_text", "train_hub@online"}


def test_a_scaled_project_repeats_the_prepared_tables_and_trains_a_fixed_number_of_epochs(tmp_path, monkeypatch):
    workspace = tmp_path / "workspace"
    (workspace / streaming.PREPARED).mkdir(parents=True)
    for split in streaming.SPLITS:
        pd.DataFrame({"text": [f"{split} a", f"{split} b"], "label": [0, 1]}).to_parquet(
            workspace / streaming.PREPARED / f"{split}.parquet", index=False)
    for name in ("stages", "src", "params.yaml"):
        (workspace / name).symlink_to(PROJECT_ROOT / name)
    monkeypatch.chdir(workspace)
    project = streaming.scaled_project(tmp_path, 3, epochs=2)
    train = pd.read_parquet(project / streaming.PREPARED / "train.parquet")
    assert train["text"].tolist() == ["train a", "train b"] * 3 and train["label"].tolist() == [0, 1] * 3
    params = yaml.safe_load((project / "params.yaml").read_text())["models"]
    assert params["bow_mean"]["epochs"] == params["ngram"]["epochs"] == 2
    assert params["bow_mean"]["patience"] == 2 and params["bilstm"] == yaml.safe_load(
        (PROJECT_ROOT / "params.yaml").read_text())["models"]["bilstm"]
    assert subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True).returncode == 0
    assert (project / "dvc.yaml").is_file()  # every stage checks it is the rendering of params.yaml


def test_the_streaming_table_sets_the_scales_side_by_side_with_the_peak_memory_ratio():
    def scale(texts, seconds, peak):
        return {"labelled_texts": texts, "stages": {"train@a": {"seconds": seconds, "peak_rss_mb": peak}}}
    results = {"machine": {"cpu": "a CPU", "cores": 2, "memory_gib": 24.0}, "epochs": 2,
               "scales": {"10": scale(500000, 40.4, 1200), "1": scale(50000, 9.0, 1000)}}
    assert "| `train@a` | 9 s, 1,000 MB | 40 s, 1,200 MB | 1.20x |" in streaming.markdown(results)


def test_the_readme_leaderboards_are_the_committed_ones():
    """README's tables are copies of metrics/leaderboards/*.md made by a script, so a rerun cannot leave them stale."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    readme_boards = load_benchmark("readme_leaderboards")
    for dataset in yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())["datasets"]:
        start, end = readme_boards.markers(dataset)
        table = readme[readme.index(start) + len(start):readme.index(end)].strip()
        assert table == (PROJECT_ROOT / f"metrics/leaderboards/{dataset}.md").read_text(encoding="utf-8").strip(), (
            f"README's {dataset} leaderboard differs from metrics/leaderboards/{dataset}.md: "
            "run python benchmarks/readme_leaderboards.py")
