"""Stage pretrain: skip-gram word vectors from unlabelled text, exported as TF Hub modules.

Only `pretrain.dataset`'s unlabelled texts (IMDB's 50,000 unsup reviews) and its train split's
texts are read: validation and test texts never shape the embeddings.
"""

import pandas as pd

from textclf.core import schema
from textclf.core.errors import TextclfError, run_stage
from textclf.core.outputs import staged_outputs, write_json
from textclf.core.tf_runtime import seed_everything
from textclf.models import hub_modules
from textclf.pipeline import layout


def main() -> None:
    settings = schema.block_of(layout.stage_layout().params, "pretrain", schema.Pretrain)
    texts = []
    for split in ("unsup", "train"):
        path = layout.prepared_split(settings["dataset"], split)
        if not path.is_file():
            raise TextclfError(f"{path} not found (run `dvc repro prepare@{settings['dataset']}`)")
        texts += pd.read_parquet(path, columns=["text"])["text"].tolist()

    seed_everything(settings["seed"])
    vocabulary, counts, vectors = hub_modules.train_word2vec(
        texts, settings["vocab_size"], settings["min_count"], settings["dim"], settings["window"], settings["subsample"],
        settings["negatives"], settings["epochs"], settings["learning_rate"], settings["seed"],
    )
    print(f"pretrain: {len(texts):,} texts, {len(vocabulary):,} words, {int(counts.sum()):,} word occurrences")
    vectors = hub_modules.centred(vectors)
    neighbours = hub_modules.nearest_neighbours(vocabulary, vectors, settings["neighbours"], k=8)
    random_vectors = hub_modules.random_twin(vectors, settings["seed"] + 1)
    random_neighbours = hub_modules.nearest_neighbours(vocabulary, random_vectors, settings["neighbours"], k=8)

    outputs = layout.PRETRAINED_MODULE, layout.RANDOM_MODULE, layout.PRETRAIN_REPORT, layout.PRETRAIN_NEIGHBOURS
    with staged_outputs(*outputs) as (pretrained_tmp, random_tmp, report_tmp, neighbours_tmp):
        hub_modules.export_module(pretrained_tmp, vocabulary, vectors, settings["oov_buckets"])
        hub_modules.export_module(random_tmp, vocabulary, random_vectors, settings["oov_buckets"])
        write_json(report_tmp, {
            "texts": len(texts), "vocabulary": len(vocabulary), "words": int(counts.sum()),
            "neighbours": {word: [n["word"] for n in found] for word, found in neighbours.items()},
        })
        neighbours_tmp.write_text(hub_modules.neighbours_markdown(neighbours, random_neighbours), encoding="utf-8")
    print(hub_modules.neighbours_markdown(neighbours, random_neighbours), end="")


if __name__ == "__main__":
    run_stage(main)
