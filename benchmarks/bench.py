"""`make bench`: where the time and memory of the pipeline go, beside the peers, on the real data.

One run measures, on this machine:

1. a full `dvc repro`, one run as a user types it, every stage forced
   (`--force --no-run-cache`, so every command runs as from an empty cache):
   its wall time, and each stage's wall time and peak RSS (the largest process
   the stage started);
2. a no-op `dvc repro` (nothing changed), median of N with min and max;
3. training throughput of every model (train examples x epochs run / train time,
   from the full run) and predict throughput of every IMDB export (median of N);
4. the peers on the same train / test split (benchmarks/peers.py), median of N;
5. the host's speed just before the full run (a pure-Python loop and the
   TensorFlow import every stage pays), median of N, so runs on a shared,
   unevenly loaded machine can be told apart from changes of the code.

It writes benchmarks/results/bench.json and bench.md, and puts the table in
README.md between the `bench:start` / `bench:end` markers. The full run leaves
a reproduced workspace: commit its dvc.lock, metrics and plots with the results.
Run from the project root (the sources as `make run` needs them):

    python benchmarks/bench.py [--repeats 3] [--skip-repro]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml

RESULTS = Path("benchmarks/results")
README = Path("README.md")
MARKERS = ("<!-- bench:start -->", "<!-- bench:end -->")
PACKAGES = ("tensorflow", "tf-keras", "tensorflow-hub", "dvc", "gensim", "scikit-learn", "numpy")


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").is_file() else platform.processor()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"cpu": cpu, "cores": len(os.sched_getaffinity(0)), "memory_gib": round(memory / 2**30, 1),
            "python": platform.python_version(), "os": platform.platform(), "packages": versions}


# A child forked from this process starts with this process's memory mapped, and
# Linux counts that mapping into the child's peak RSS when the child execs: every
# measured command would weigh at least what the harness weighs. So a small launcher
# process forks the command and reports wait4's figures for it alone.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


# The measured commands run quiet: TensorFlow's C++ notices would bury the harness's own lines.
COMMAND_ENV = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"}


def measured(command: list[str]) -> dict:
    """Wall time and peak RSS of one command and everything it waits for (wait4's rusage)."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "usage"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", LAUNCHER, str(report), *command],
                       env=COMMAND_ENV, check=True)
        seconds = time.perf_counter() - started
        code, max_rss_kib = (int(field) for field in report.read_text().split())  # Linux reports KiB
    if code:
        sys.exit(f"error: {' '.join(command)} exited with {code}")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(max_rss_kib / 1024)}


def spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3),
            "n": len(values)}


# DVC announces each stage on its own line before it starts the stage's command.
STAGE_STARTS = re.compile(r"^Running stage '(?P<stage>[^']+)':")
POLL_SECONDS = 0.1


def peak_rss_kib(pid: int) -> int:
    """The high-water mark of one live process's resident memory (0 once it has gone).

    VmHWM belongs to the process image: unlike wait4's ru_maxrss it starts again at
    exec, so a command does not inherit the weight of the DVC process that forked it.
    """
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)


def stage_by_stage(command: list[str], on_stage_end=lambda rows: None) -> tuple[list[dict], float]:
    """Run one ``dvc repro`` and time each stage it runs.

    A stage's time runs from DVC's line announcing it to the next stage's line (or to
    the end): its command and DVC's saving of its outputs and lock entry. Its peak RSS
    is the largest high-water mark among the processes that appeared while it ran,
    read every POLL_SECONDS until each exits. ``on_stage_end`` gets the rows so far
    each time a stage ends. Returns the rows and the whole run's seconds.
    """
    import psutil

    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=COMMAND_ENV | {"PYTHONUNBUFFERED": "1"})
    starts: list[tuple[str, float]] = []

    def follow_output():
        for line in process.stdout:
            sys.stdout.write(line)
            if match := STAGE_STARTS.match(line):
                starts.append((match["stage"], time.perf_counter()))

    reader = threading.Thread(target=follow_output, daemon=True)
    reader.start()
    peak_of: dict[str, int] = {}  # stage -> KiB
    stage_of_pid: dict[int, str] = {}
    rows: list[dict] = []

    def close_stages(upto: int, ended: float):
        while len(rows) < upto:
            stage, began = starts[len(rows)]
            finish = starts[len(rows) + 1][1] if len(rows) + 1 < len(starts) else ended
            rows.append({"stage": stage, "seconds": round(finish - began, 2),
                         "peak_rss_mb": round(peak_of.get(stage, 0) / 1024)})
            on_stage_end(rows)

    parent = psutil.Process(process.pid)
    while process.poll() is None:
        if starts:
            current = starts[-1][0]
            try:
                children = parent.children(recursive=True)
            except psutil.NoSuchProcess:
                children = []
            for child in children:
                stage = stage_of_pid.setdefault(child.pid, current)
                peak_of[stage] = max(peak_of.get(stage, 0), peak_rss_kib(child.pid))
            close_stages(len(starts) - 1, time.perf_counter())
        time.sleep(POLL_SECONDS)
    reader.join()
    seconds = time.perf_counter() - started
    close_stages(len(starts), started + seconds)
    if process.returncode:
        sys.exit(f"error: {' '.join(command)} exited with {process.returncode}")
    return rows, round(seconds, 2)


def full_repro(results: dict) -> None:
    """One forced ``dvc repro`` of everything; the rows are saved as each stage ends, so a stopped run keeps
    what it measured."""
    def save(rows):
        results["full_repro"] = rows
        (RESULTS / "bench.json").write_text(json.dumps(results, indent=2) + "\n")

    rows, seconds = stage_by_stage([sys.executable, "-m", "dvc", "repro", "--force", "--no-run-cache"], save)
    results["full_repro"], results["full_repro_seconds"] = rows, seconds


# What a loaded host slows first: one core's Python (the parsing DVC does around every
# stage) and the import of TensorFlow and Keras that starts nearly every stage.
HOST_PROBES = {
    "python_loop": "total = 0\nfor number in range(10_000_000):\n    total += number",
    "tensorflow_import": "from textclf.core import tf_runtime",
}


def host_speed(repeats: int) -> dict:
    """Seconds of each probe on this host now, median of N with min and max."""
    return {name: spread([measured([sys.executable, "-c", code])["seconds"] for _ in range(repeats)])
            for name, code in HOST_PROBES.items()}


def noop_repro(repeats: int) -> dict:
    runs = [measured([sys.executable, "-m", "dvc", "repro"]) for _ in range(repeats)]
    return {"seconds": spread([run["seconds"] for run in runs]), "peak_rss_mb": max(run["peak_rss_mb"] for run in runs)}


def training_throughput(params: dict) -> dict:
    """Examples per second of every trained model, from what its train stage logged."""
    from textclf.pipeline import layout

    results = {}
    for name, model in layout.resolve(params).models.items():
        if model.family == "ensemble":
            continue
        train = json.loads((layout.train_log(model.dataset, name) / "metrics.json").read_text())
        seconds = json.loads(layout.timing(model.dataset, name).read_text())["train_seconds"]
        examples = train["train_examples"] * train["epochs_run"]
        results[name] = {"dataset": model.dataset, "train_seconds": seconds, "epochs_run": train["epochs_run"],
                         "examples_per_second": round(examples / seconds)}
    return results


def predict_throughput(params: dict, repeats: int, reviews: int) -> dict:
    from textclf.pipeline import layout
    from textclf.serving.exports import Predictor
    from textclf.serving.predict import classify

    test = pd.read_parquet(layout.prepared_split("imdb", "test"), columns=["text"]).iloc[:reviews]
    texts = test["text"].tolist()
    names = [name for name in imdb_models(params) if layout.export_dir(name).is_dir()]
    results = {}
    for name in names:
        predictor = Predictor(layout.export_dir(name))
        classify(predictor, texts[:256], 256)  # the first call traces the graph
        seconds = []
        for _ in range(repeats):
            started = time.perf_counter()
            classify(predictor, texts, 256)
            seconds.append(time.perf_counter() - started)
        results[name] = {"reviews": len(texts), "reviews_per_second": spread([len(texts) / s for s in seconds])}
        print(f"bench: predict {name} {results[name]['reviews_per_second']['median']:.0f} reviews/s", flush=True)
        del predictor
    return results


def imdb_models(params: dict) -> list[str]:
    from textclf.pipeline import layout

    return layout.resolve(params).models_of("imdb")


def leaderboard(dataset: str) -> dict:
    from textclf.pipeline import layout

    return json.loads(layout.leaderboard_files(dataset)["json"].read_text())


def markdown(results: dict) -> str:
    info = results["machine"]
    lines = [f"Measured {results['date']} on {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB "
             f"(TensorFlow {info['packages']['tensorflow']}, DVC {info['packages']['dvc']}).", ""]
    if results.get("host_speed"):
        speed = results["host_speed"]
        lines[-1:-1] = [f"Host speed before the full run (median of {speed['python_loop']['n']}): a pure-Python loop of "
                        f"10^7 additions {speed['python_loop']['median']:.2f} s, `from textclf.core import tf_runtime` "
                        f"{speed['tensorflow_import']['median']:.1f} s."]
    if results.get("full_repro"):
        stages = results["full_repro"]
        total = results.get("full_repro_seconds") or sum(row["seconds"] for row in stages)
        lines += [f"**Full `dvc repro`** (one run, every stage forced): {total / 60:.1f} min, peak RSS "
                  f"{max(row['peak_rss_mb'] for row in stages):,} MB. "
                  f"**No-op `dvc repro`**: {results['noop_repro']['seconds']['median']:.1f} s (median of "
                  f"{results['noop_repro']['seconds']['n']}).", ""]
        groups: dict[str, list] = {}
        for row in stages:
            groups.setdefault(row["stage"].split("@")[0], []).append(row)
        lines += ["| stage | runs | wall time | share | slowest | peak RSS |", "|---|---|---|---|---|---|"]
        for group, rows in sorted(groups.items(), key=lambda item: -sum(r["seconds"] for r in item[1])):
            seconds = sum(r["seconds"] for r in rows)
            slowest = max(rows, key=lambda r: r["seconds"])
            lines.append(f"| {group} | {len(rows)} | {seconds:.0f} s | {100 * seconds / total:.0f}% | "
                         f"`{slowest['stage']}` {slowest['seconds']:.0f} s | {max(r['peak_rss_mb'] for r in rows):,} MB |")
        lines.append("")
    peers = results["peers"]
    lines += ["| IMDB sentiment | test accuracy | train time | vs. peer: time ratio | vs. peer: accuracy |",
              "|---|---|---|---|---|"]
    for name, peer in peers["peers"].items():
        lines.append(f"| peer: {peer['description']} | {peer['accuracy']:.4f} | {peer['seconds']['median']:.0f} s "
                     f"({peer['seconds']['min']:.0f}-{peer['seconds']['max']:.0f}) | | |")
    reference = peers["peers"][peers["reference"]]
    for name, ours in results["ours"].items():
        lines.append(f"| ours: `{name}` | {ours['accuracy']:.4f} | {ours['train_seconds']:.0f} s | "
                     f"{ours['train_seconds'] / reference['seconds']['median']:.1f}x | "
                     f"{100 * (ours['accuracy'] - reference['accuracy']):+.2f} points |")
    lines += ["", f"Ratios against the stronger peer ({reference['description']}). A zoo model's time is its "
              "training; a self-trained model's and an ensemble's is every stage it needs after prepare (vectorizing, "
              "pretraining, its teacher's or members' training, its own fit), as the peers' time covers vectorizing "
              "and fitting.", ""]
    lines += ["| model | train examples/s | predict reviews/s (median, min-max) |", "|---|---|---|"]
    for name, row in results["predict"].items():
        train = results["training"].get(name, {}).get("examples_per_second")
        speed = row["reviews_per_second"]
        lines.append(f"| `{name}` | {f'{train:,}' if train else '-'} | {speed['median']:,.0f} "
                     f"({speed['min']:,.0f}-{speed['max']:,.0f}) |")
    return "\n".join(lines) + "\n"


def training_stages(params: dict, name: str) -> set[str]:
    """The stages model ``name`` needs after the data is prepared.

    A zoo model's: the vectorizing of its features, pretraining (when it starts
    from the pretrained module) and its training; a self-trained model's, those
    of its teacher too. An ensemble's: those of every member, and its own stage.
    """
    from textclf.pipeline import layout

    model = layout.resolve(params).model(name)
    if model.family == "ensemble":
        return {name}.union(*(training_stages(params, member) for member in model.block["members"]))
    needed = {f"vectorize@{model.features}", model.stage("train")}
    if str(model.hparams.get("handle", "")).startswith(f"{layout.HUB_MODULES}/"):
        needed.add("pretrain")
    if "teacher" in model.block:  # a self-trained model needs its teacher first
        needed |= training_stages(params, model.block["teacher"])
    return needed


def our_rows(params: dict, training: dict, stages: list[dict]) -> dict:
    """Every IMDB model's accuracy and the training time it needs.

    A zoo model's is its train time. A self-trained model's and an ensemble's is
    every stage it needs after the data is prepared (``training_stages``), from
    this run's stage times: the teacher's and the members' training included.
    """
    board = leaderboard("imdb")
    seconds_of = {row["stage"]: row["seconds"] for row in stages or []}
    from textclf.pipeline import layout

    built_on_others = {name for name, model in layout.resolve(params).models.items() if model.family in ("ensemble", "self_trained")}
    rows = {}
    for name in imdb_models(params):
        if name not in built_on_others:
            rows[name] = {"accuracy": board[name]["accuracy"], "train_seconds": training[name]["train_seconds"]}
            continue
        parts = {stage: seconds_of[stage] for stage in sorted(training_stages(params, name)) if stage in seconds_of}
        rows[name] = {"accuracy": board[name]["accuracy"], "train_seconds": round(sum(parts.values()), 1),
                      "stages": parts}
    return dict(sorted(rows.items(), key=lambda item: -item[1]["accuracy"]))


def update_readme(table: str, markers: tuple[str, str] = MARKERS) -> None:
    """Put ``table`` in README.md between the two markers."""
    text = README.read_text(encoding="utf-8")
    start, end = (text.find(marker) for marker in markers)
    if start < 0 or end < start:
        print(f"bench: README.md has no {markers[0]} ... {markers[1]} section; the table is in {RESULTS}")
        return
    README.write_text(text[: start + len(markers[0])] + "\n" + table + text[end:], encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="N of the median-of-N timings")
    parser.add_argument("--predict-reviews", type=int, default=5000, help="test reviews each export classifies")
    parser.add_argument("--skip-repro", action="store_true", help="keep the last full-run figures; measure the rest")
    args = parser.parse_args()
    params = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))
    previous = json.loads((RESULTS / "bench.json").read_text()) if (RESULTS / "bench.json").is_file() else {}

    results = {"date": time.strftime("%Y-%m-%d"), "machine": machine()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.skip_repro:
        results["full_repro"], results["full_repro_seconds"] = previous.get("full_repro"), previous.get("full_repro_seconds")
        results["host_speed"] = previous.get("host_speed")
    else:
        results["host_speed"] = host_speed(args.repeats)
        full_repro(results)  # saved stage by stage: if a later step fails, `--skip-repro` goes on from here
    results["noop_repro"] = noop_repro(args.repeats)
    results["training"] = training_throughput(params)
    results["ours"] = our_rows(params, results["training"], results["full_repro"])
    results["predict"] = predict_throughput(params, args.repeats, args.predict_reviews)
    peers = subprocess.run([sys.executable, "benchmarks/peers.py", "--repeats", str(args.repeats)], check=True,
                           capture_output=True, text=True)
    results["peers"] = json.loads(peers.stdout)
    (RESULTS / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    (RESULTS / "bench.md").write_text(table, encoding="utf-8")
    update_readme(table)
    print(table)


if __name__ == "__main__":
    main()
