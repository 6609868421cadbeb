"""The ``textclf`` console script: ``init``, ``pipeline``, ``predict``, ``report`` and ``experiments`` (also
``python -m textclf``).

Like every stage, it runs inside :func:`textclf.core.errors.run_stage`, so any
failure ends as one ``error:`` line and a non-zero exit, never a traceback
(``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

import textclf
from textclf.core.errors import DEBUG_ENV, TextclfError, run_stage
from textclf.core.terminal import visible


def _parser() -> argparse.ArgumentParser:
    from textclf.serving import predict

    parser = argparse.ArgumentParser(prog="textclf", description="Build the pipeline from params.yaml and use the "
                                     "text classifiers it trains.")
    parser.add_argument("--version", action="version", version=f"textclf {textclf.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    # Every command takes --debug.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help=f"show the traceback of an unexpected error (or set {DEBUG_ENV}=1)")
    init = commands.add_parser(
        "init", parents=[common], help="add a dataset block to params.yaml for a labelled CSV, TSV, JSONL or parquet file",
        description="Read a labelled file, print what it holds (rows, task, classes with counts, the smallest class, "
        "duplicates) and add its dataset block to params.yaml, keeping its comments; then write dvc.yaml. "
        "Example: textclf init tickets data/tickets.csv --text body --label team && dvc repro leaderboard@tickets",
    )
    init.add_argument("name", help="the dataset's name (letters, digits, '_' and '-')")
    init.add_argument("file", type=Path, help="the labelled file, inside the project")
    init.add_argument("--text", help="the column holding the texts (guessed from usual names when unambiguous)")
    init.add_argument("--label", help="the column holding the labels (guessed likewise)")
    init.add_argument("--label-delimiter", help="for a multi-label column: the separator inside a cell, e.g. '|'")
    init.add_argument("--encoding", default="utf-8", help="the file's text encoding (default utf-8)")
    pipeline = commands.add_parser(
        "pipeline", parents=[common], help="write dvc.yaml from params.yaml (after adding or changing a dataset or a model)",
        description="Write dvc.yaml from params.yaml: every dataset, feature set and model becomes its stages, "
        "metrics and charts. Example: textclf pipeline && dvc repro",
    )
    pipeline.add_argument("--check", action="store_true", help="only check that dvc.yaml is current (exit 1 if not)")
    ask = commands.add_parser(
        "predict", parents=[common], help="classify texts with a trained model",
        description="Classify texts with an exported model: the class (binary, multi-class) or the top labels "
        "(multi-label). Texts come from the command line, --file, or stdin (one per line).",
    )
    ask.add_argument("texts", nargs="*", help="texts to classify")
    ask.add_argument("--model", "-m", default="best",
                     help="a model name from params.yaml, 'best' (the top of --dataset's leaderboard, default), "
                     "or an exported model directory")
    ask.add_argument("--dataset", "-d", help="whose leaderboard 'best' means (default: the first dataset in params.yaml)")
    ask.add_argument("--top-k", "-k", type=int, default=3, help="multi-label models: how many labels to show (default 3)")
    ask.add_argument("--file", "-f", help="a .txt (one review per line), .csv or .jsonl file; '-' for stdin")
    ask.add_argument("--column", "-c", help="the .csv column or .jsonl field holding the review (default: text)")
    ask.add_argument("--input-format", choices=predict.INPUT_FORMATS, help="file format when the suffix does not say")
    ask.add_argument("--format", choices=("table", "jsonl"), default="table", help="output: a readable table or JSON lines")
    ask.add_argument("--batch-size", type=int, default=256, help="reviews per model call (default 256)")
    ask.add_argument("--max-chars", type=int, default=predict.MAX_CHARS,
                     help=f"longer reviews are cut to this many characters (default {predict.MAX_CHARS:,})")
    ask.add_argument("--project", type=Path, default=Path("."), help="the project directory (default: current)")
    report = commands.add_parser(
        "report", parents=[common], help="what the workspace changed against a git ref: is each change real?",
        description="Per dataset, each model's main metric at the ref and in the workspace, the change with its "
        "confidence interval and whether it is beyond noise (tested on the same test texts), and the rank change. "
        "Without --out it prints this summary; with --out it writes a pull-request report that fits a comment "
        "(summary first, then params, changed plots and the metric tables). "
        "Examples: textclf report --ref main; textclf report --ref main --json; "
        "textclf report --ref origin/main --out report.md",
    )
    report.add_argument("--ref", default="HEAD", help="the git ref to compare with (default: HEAD)")
    report.add_argument("--out", type=Path, help="write the markdown report here; images (and the uncut report, "
                        "full.md) go to a folder of the same name")
    report.add_argument("--json", action="store_true", help="print the summary as JSON (for scripts)")
    report.add_argument("--level", type=float, default=0.95, help="confidence level of the tests (default 0.95)")
    report.add_argument("--draws", type=int, default=1000, help="bootstrap resamples per test (default 1000)")
    report.add_argument("--full-link", help="where readers find the uncut report (e.g. the CI run's artifact URL)")
    report.add_argument("--limit", type=int, default=65_536,
                        help="most characters of the markdown report (default 65,536: GitHub's comment limit)")
    report.add_argument("--project", type=Path, default=Path("."), help="the project directory (default: current)")
    grid = commands.add_parser(
        "experiments", parents=[common], help="a grid of experiments: the params that vary, each dataset's best model",
        description="The workspace, HEAD and HEAD's experiments (`dvc exp run -S ...`) side by side: the params whose "
        "values differ between them, and per dataset the best model and its main metric, sorted by the first "
        "dataset's. Example: dvc exp run -S models.ngram.l2=1e-5 && textclf experiments",
    )
    grid.add_argument("--all-commits", action="store_true", help="every commit's run too, not only HEAD's")
    grid.add_argument("--json", action="store_true", help="print the grid as JSON records (for scripts)")
    grid.add_argument("--project", type=Path, default=Path("."), help="the project directory (default: current)")
    return parser


def _init(args: argparse.Namespace) -> None:
    from textclf.data import onboarding

    for line in onboarding.init(args.name, args.file, args.text, args.label, args.label_delimiter, args.encoding).splitlines():
        print(visible(line))


def _pipeline(args: argparse.Namespace) -> None:
    from textclf.pipeline import layout

    layout.main(["--check"] if args.check else [])


def _report(args: argparse.Namespace) -> None:
    import json

    from textclf.reporting import report

    if not 0 < args.level < 1 or args.draws < 1 or args.limit < 1000:
        raise TextclfError("--level must be between 0 and 1, --draws positive and --limit at least 1000")
    if args.out is not None:
        path = report.build(args.project, args.ref, args.out, args.draws, args.level, args.limit, args.full_link)
        print(f"report: wrote {visible(str(path))} ({len(path.read_text(encoding='utf-8')):,} characters)")
        return
    changes = report.compared(args.project, args.ref, args.draws, args.level)
    if args.json:
        print(json.dumps({"ref": args.ref, "level": args.level, "datasets": [found.as_json() for found in changes]},
                         indent=2))
    else:
        # Model and dataset names are params.yaml keys, but the ref is the user's: each line made safe on its own.
        print("\n".join(visible(line) for line in report.summary_text(changes, args.ref, args.level).splitlines()))


def _experiments(args: argparse.Namespace) -> None:
    from textclf.reporting import experiments

    table = experiments.grid(args.project, experiments.exp_show(args.project, *(["--all-commits"] if args.all_commits
                                                                                else [])))
    if args.json:
        print(table.to_json(orient="records", indent=2))
    else:
        print("\n".join(visible(line) for line in table.to_string(index=False, na_rep="-", float_format="{:.4f}".format)
                        .splitlines()))


def _predict(args: argparse.Namespace) -> None:
    from textclf.serving import predict

    if args.batch_size < 1 or args.max_chars < 1 or args.top_k < 1:
        raise TextclfError("--batch-size, --max-chars and --top-k must be positive")
    file = args.file
    if file is None and not args.texts:
        if sys.stdin.isatty():
            raise TextclfError("no review to classify: give texts, --file PATH, or pipe lines to stdin")
        file = "-"
    if file is not None and args.texts:
        raise TextclfError("give reviews either as arguments or with --file, not both")
    name, path = predict.model_path(args.model, args.project, args.dataset)
    inputs = predict.read_inputs(args.texts, file, args.column, sys.stdin.buffer, args.input_format, args.max_chars)
    for warning in inputs.warnings:
        print(f"warning: {visible(warning)}", file=sys.stderr)

    from textclf.serving.exports import (
        Predictor,  # TensorFlow loads only once the input is known to be good
    )

    predictor = Predictor(path)
    probabilities = predict.classify(predictor, inputs.texts, args.batch_size, progress=f"predict ({name})")
    predictions = [predictor.task.prediction(row, args.top_k) for row in probabilities]
    if args.format == "table":
        result = predict.table(inputs.numbers, inputs.texts, predictions, predictor.task)
    else:
        result = predict.json_lines(inputs.numbers, inputs.texts, predictions, name)
    try:
        sys.stdout.write(result)
        sys.stdout.flush()
    except BrokenPipeError:  # `textclf predict ... | head`: the reader left early, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush finds no pipe


def main(argv: Sequence[str] | None = None) -> None:
    # A person reading predictions should not see TensorFlow's C++ notices (even
    # its harmless "E" lines about CPU features); TF_CPP_MIN_LOG_LEVEL=0 shows them.
    if not textclf.LOG_LEVEL_CHOSEN:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    args = _parser().parse_args(argv)
    if args.debug:
        os.environ[DEBUG_ENV] = "1"
    run_stage(lambda: {"init": _init, "pipeline": _pipeline, "predict": _predict, "report": _report,
                       "experiments": _experiments}[args.command](args))
