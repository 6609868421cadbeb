#!/usr/bin/env bash
# Run the whole pipeline on a slice of the real IMDB archive and check its accuracy.
#
# It works in a throwaway clone of HEAD and sets the slice with `dvc exp run -S`,
# so the committed params.yaml, dvc.lock and metrics are never touched.
#   ARCHIVE        the IMDB archive to read (default: ../shared/data/aclImdb_v1.tar.gz)
#   MOVIES         the movies metadata file (default: ../shared/data/movies_metadata_partial.csv)
#   LIMIT          reviews per (split, label) (default: 2500)
#   MIN_ACCURACY   fail if bow_mean or ngram scores below this test accuracy (default: 0.80)
#   RESULT         where to write the figures as JSON (default: smoke_result.json)
set -euo pipefail

root=$(git rev-parse --show-toplevel)
archive=$(realpath "${ARCHIVE:-$root/../shared/data/aclImdb_v1.tar.gz}")
movies=$(realpath "${MOVIES:-$root/../shared/data/movies_metadata_partial.csv}")
limit=${LIMIT:-2500}
min_accuracy=${MIN_ACCURACY:-0.80}
result=$(realpath -m "${RESULT:-$root/smoke_result.json}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git clone --quiet "$root" "$work/repo"
cd "$work/repo"
# dvc exp run records the experiment as a git commit, which needs an identity.
git config user.name "textclf smoke run"
git config user.email "smoke@localhost"

start=$(date +%s)
# One epoch is enough to prove the slow parts run (BiLSTMs, pretraining, the
# transfer cells); the figures checked below come from bow_mean and ngram.
TEXTCLF_SOURCE_IMDB="$archive" TEXTCLF_SOURCE_MOVIES_METADATA="$movies" dvc exp run --quiet \
  -S "datasets.imdb.limit_per_label=$limit" -S "datasets.imdb_ratings.limit_per_label=$limit" \
  -S models.bilstm.epochs=1 -S models.bilstm_stacked.epochs=1 -S pretrain.epochs=1 \
  -S pretrain.vocab_size=5000 -S models.hub_dnn.epochs=1 -S transfer.epochs=1 -S "transfer.sizes=[250]"
seconds=$(( $(date +%s) - start ))

python - "$min_accuracy" "$seconds" "$limit" "$result" <<'PY'
import json, sys

min_accuracy, seconds, limit, result = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
board = json.load(open("metrics/leaderboards/imdb.json"))
figures = {"limit_per_label": limit, "pipeline_seconds": seconds, "leaderboard": board}
json.dump(figures, open(result, "w"), indent=2, sort_keys=True)
print(f"smoke run: {limit} reviews per split and label, {seconds} s")
print("\n".join(f"  {name}: test accuracy {row['accuracy']:.4f}" for name, row in board.items()))
for name in ("bow_mean", "ngram"):
    if board[name]["accuracy"] < min_accuracy:
        sys.exit(f"error: smoke run accuracy of {name}, {board[name]['accuracy']:.4f}, is below {min_accuracy}")
PY
