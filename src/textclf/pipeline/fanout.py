"""Which stages each job of the fan-out workflow runs (`.github/workflows/experiments.yaml`).

The pipeline is split, from DVC's own stage graph, into jobs that can run on
separate machines and meet again through the DVC remote:

- units, one job each: a model (its train, evaluate and export stages, or an
  ensemble's own stage) or a transfer setup (its one stage, every training size);
- shared stages, run once by a first job before any unit: what the units read
  (fetch, prepare, vectorize, pretrain);
- final stages, run last by the job that writes the report: everything no unit
  owns and no unit needs (the leaderboards, the transfer analysis).

Units run in waves: a unit that reads another unit's outputs (an ensemble reads
its members' exports, a self-trained model its teacher's) runs in a wave after it. Every job runs
`dvc repro --pull --allow-missing <its stages>`: what an earlier job pushed is
pulled, not recomputed.

The DVC remote carries the cached outputs (models, features) and the run cache.
It does not carry outputs marked `cache: false` (metrics, plots, timings, which
git keeps) nor `dvc.lock`: each job collects those of its own stages, the
workflow hands them on as an artifact, and the last job gathers them into its
workspace, as if one machine had run `dvc repro`.

    python -m textclf.pipeline.fanout plan [--github-output]   # the jobs, as JSON (or as GITHUB_OUTPUT lines)
    python -m textclf.pipeline.fanout collect JOB DIR          # JOB's lock entries and uncached outputs into DIR/JOB
    python -m textclf.pipeline.fanout gather DIR               # every collected job back into the workspace
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import yaml

from textclf.core.errors import TextclfError, run_stage
from textclf.pipeline import layout

TRANSFER_STAGE = "transfer"
SHARED_JOB = "shared"
FINAL_JOB = "final"
LOCK = "dvc.lock"
COLLECTED_LOCK = "lock.json"  # a job's entries of dvc.lock
COLLECTED_FILES = "files"
# The wave jobs of .github/workflows/experiments.yaml: models, ensembles of them, models
# self-trained on an ensemble's labels, ensembles of those.
WAVES = 4


def unit_of(stage: str, params: dict) -> str | None:
    """The job that owns ``stage`` (its model, ensemble or transfer setup), or None for a shared or final stage."""
    name, _, key = stage.partition("@")
    models = layout.resolve(params).models
    if key in models:
        return key
    if not key and name in models:
        return name
    if name == TRANSFER_STAGE and key:
        return f"{TRANSFER_STAGE}-{key}"
    return None


def stage_graph(project: Path) -> dict[str, set[str]]:
    """Every stage of the project's pipeline and the stages it depends on, directly or not."""
    import networkx as nx
    from dvc.repo import Repo

    with Repo(str(project)) as repo:
        graph = repo.index.graph  # edges point from a stage to the stages it depends on
        return {stage.name: {upstream.name for upstream in nx.descendants(graph, stage)}
                for stage in graph.nodes}


def plan(graph: dict[str, set[str]], params: dict) -> dict:
    """The jobs: ``shared`` stages, ``waves`` of units (each a list of {job, stages}), ``final`` stages."""
    order = pipeline_order(graph)
    units: dict[str, list[str]] = {}
    for stage in order:
        unit = unit_of(stage, params)
        if unit is not None:
            units.setdefault(unit, []).append(stage)
    owner = {stage: unit for unit, stages in units.items() for stage in stages}
    needed = set().union(*(graph[stage] for stage in owner)) if owner else set()
    shared = [stage for stage in order if stage not in owner and stage in needed]
    final = [stage for stage in order if stage not in owner and stage not in needed]

    needs = {unit: {owner[up] for stage in stages for up in graph[stage] if owner.get(up, unit) != unit}
             for unit, stages in units.items()}
    depth: dict[str, int] = {}

    def wave_of(unit: str) -> int:
        """0 for a unit that needs no other, else one more than the deepest unit it needs (the graph is acyclic)."""
        if unit not in depth:
            depth[unit] = 1 + max((wave_of(up) for up in needs[unit]), default=-1)
        return depth[unit]

    for unit in units:
        if wave_of(unit) >= WAVES:
            deepest = max(needs[unit], key=wave_of)
            raise TextclfError(f"fan-out: '{unit}' needs '{deepest}', which is in the last of the workflow's {WAVES} waves")
    waves = [[{"job": unit, "stages": " ".join(units[unit])} for unit in units if depth[unit] == wave] for wave in range(WAVES)]
    return {"shared": " ".join(shared), "waves": waves, "final": " ".join(final)}


def pipeline_order(graph: dict[str, set[str]]) -> list[str]:
    """Every stage after the stages it depends on; ties in name order, so the plan is stable."""
    placed: list[str] = []
    remaining = dict(graph)
    while remaining:
        ready = sorted(stage for stage, upstream in remaining.items() if not upstream - set(placed))
        placed += ready
        for stage in ready:
            del remaining[stage]
    return placed


def job_stages(the_plan: dict, job: str) -> list[str]:
    """The stages ``job`` runs: ``shared``, ``final`` or a unit of any wave."""
    if job in (SHARED_JOB, FINAL_JOB):
        return the_plan[job].split()
    for wave in the_plan["waves"]:
        for unit in wave:
            if unit["job"] == job:
                return unit["stages"].split()
    known = [SHARED_JOB, *(unit["job"] for wave in the_plan["waves"] for unit in wave), FINAL_JOB]
    raise TextclfError(f"fan-out: no job '{job}' in the plan (jobs: {', '.join(known)})")


def uncached_outputs(project: Path, stages: list[str]) -> list[str]:
    """The outputs of ``stages`` that the DVC remote does not carry (``cache: false``), as declared."""
    from dvc.repo import Repo

    wanted = set(stages)
    with Repo(str(project)) as repo:
        return [out.def_path for stage in repo.index.stages if stage.name in wanted
                for out in stage.outs if not out.use_cache]


def read_lock(project: Path) -> dict:
    """The project's dvc.lock; an empty one where no stage has run yet."""
    path = project / LOCK
    lock = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    return lock or {"schema": "2.0", "stages": {}}


def collect(project: Path, stages: list[str], into: Path) -> None:
    """Copy the lock entries and the uncached outputs of ``stages`` into ``into`` (which must not exist)."""
    if into.exists():
        raise TextclfError(f"fan-out: {into} exists; collect into a new folder")
    lock = read_lock(project)["stages"]
    missing = [stage for stage in stages if stage not in lock]
    if missing:
        raise TextclfError(f"fan-out: {LOCK} has no entry for '{missing[0]}' (did `dvc repro` run it?)")
    (into / COLLECTED_FILES).mkdir(parents=True)
    for path in uncached_outputs(project, stages):
        source, target = project / path, into / COLLECTED_FILES / path
        if not source.exists():
            raise TextclfError(f"fan-out: output {path} of this job is missing")
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target)
    (into / COLLECTED_LOCK).write_text(json.dumps({stage: lock[stage] for stage in stages}, indent=1) + "\n")


def gather(project: Path, collected: Path) -> list[str]:
    """Put every job collected under ``collected`` back into the workspace; returns the stages gathered."""
    jobs = sorted(path.parent for path in collected.glob(f"*/{COLLECTED_LOCK}"))
    if not jobs:
        raise TextclfError(f"fan-out: nothing collected in {collected} (no */{COLLECTED_LOCK})")
    lock = read_lock(project)
    gathered = []
    for job in jobs:
        entries = json.loads((job / COLLECTED_LOCK).read_text())
        for path in sorted((job / COLLECTED_FILES).iterdir()):
            target = project / path.name
            shutil.copytree(path, target, dirs_exist_ok=True) if path.is_dir() else shutil.copy2(path, target)
        lock["stages"].update(entries)
        gathered += entries
    (project / LOCK).write_text(yaml.safe_dump(lock, sort_keys=False), encoding="utf-8")
    return gathered


def github_output(the_plan: dict) -> str:
    """The plan as `name=value` lines for $GITHUB_OUTPUT: stage lists as text, the waves as matrices."""
    lines = [f"{SHARED_JOB}={the_plan[SHARED_JOB]}", f"{FINAL_JOB}={the_plan[FINAL_JOB]}"]
    lines += [f"wave{number}={json.dumps(wave)}" for number, wave in enumerate(the_plan["waves"], 1)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=Path("."), help="the DVC project (default: here)")
    commands = parser.add_subparsers(dest="command", required=True)
    plan_parser = commands.add_parser("plan", help="print which stages each job runs")
    plan_parser.add_argument("--github-output", action="store_true", help="as name=value lines for $GITHUB_OUTPUT")
    collect_parser = commands.add_parser("collect", help="copy a job's lock entries and uncached outputs")
    collect_parser.add_argument("job", help=f"a unit, '{SHARED_JOB}' or '{FINAL_JOB}'")
    collect_parser.add_argument("into", type=Path, help="the folder that holds every job's collection")
    gather_parser = commands.add_parser("gather", help="put every collected job back into the workspace")
    gather_parser.add_argument("collected", type=Path, help="the folder collect wrote into")
    args = parser.parse_args()

    params_file = args.project / "params.yaml"
    if not params_file.is_file():
        raise TextclfError(f"{params_file} not found (--project must be a textclf project)")
    params = yaml.safe_load(params_file.read_text(encoding="utf-8")) or {}
    if args.command == "gather":
        print(f"fan-out: gathered {len(gather(args.project, args.collected))} stages from {args.collected}")
        return
    the_plan = plan(stage_graph(args.project), params)
    if args.command == "collect":
        collect(args.project, job_stages(the_plan, args.job), args.into / args.job)
    elif args.github_output:
        sys.stdout.write(github_output(the_plan))
    else:
        sys.stdout.write(json.dumps(the_plan, indent=2) + "\n")


if __name__ == "__main__":
    run_stage(main)
