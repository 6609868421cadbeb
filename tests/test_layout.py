"""params.yaml -> the pipeline's datasets, feature sets and models (textclf.pipeline.layout), checked before any stage runs."""

from __future__ import annotations

import pytest

from textclf.core.errors import TextclfError
from textclf.pipeline import layout

MINE = {"path": "data/mine.csv", "text_column": "text", "label_column": "label"}


def errors_of(params: dict) -> list[str]:
    """Every error params.yaml holds, as `textclf pipeline` prints them."""
    with pytest.raises(TextclfError) as raised:
        layout.resolve(params).check()
    return str(raised.value).splitlines()


def test_a_dataset_without_models_gets_the_default_models_on_default_features():
    pipeline = layout.resolve({"datasets": {"mine": MINE}})
    assert list(pipeline.models) == ["mine_ngram", "mine_bow_mean"]
    assert pipeline.features == {"mine_ngrams": {"kind": "ngrams", "dataset": "mine"},
                                 "mine_words": {"kind": "sequence", "dataset": "mine"}}
    ngram = pipeline.models["mine_ngram"]
    assert ngram.family == "zoo" and ngram.stage("evaluate") == "evaluate@mine_ngram"
    assert ngram.params_key == "datasets.mine"  # no block of its own: the dataset's block implies it
    assert ngram.hparams == {"seed": 42, "batch_size": 64, "epochs": 200, "learning_rate": 0.03, "patience": 10,
                             "class_weight": "balanced", "weighting": "tfidf", "l2": 1e-6, "dataset": "mine",
                             "architecture": "ngram", "features": "mine_ngrams"}


def test_a_model_block_states_only_what_differs_from_its_architecture():
    pipeline = layout.resolve({"datasets": {"mine": MINE},
                               "models": {"deep": {"dataset": "mine", "architecture": "bilstm", "epochs": 3}}})
    assert list(pipeline.models) == ["deep", "mine_ngram", "mine_bow_mean"]  # the defaults stay, as baselines
    deep = pipeline.models["deep"]
    assert deep.features == "mine_words" and deep.params_key == "models.deep"
    assert deep.hparams["epochs"] == 3 and deep.hparams["lstm_units"] == [64] and deep.hparams["learning_rate"] == 0.001


def test_a_dataset_may_do_without_the_default_models_or_replace_one():
    models = {"mine_ngram": {"dataset": "mine", "architecture": "ngram", "features": "bags"}}
    features = {"bags": {"kind": "ngrams", "dataset": "mine", "ngrams": 3}}
    pipeline = layout.resolve({"datasets": {"mine": MINE}, "features": features, "models": models})
    assert list(pipeline.models) == ["mine_ngram", "mine_bow_mean"] and pipeline.models["mine_ngram"].features == "bags"
    pipeline = layout.resolve({"datasets": {"mine": MINE | {"default_models": False}}, "features": features, "models": models})
    assert list(pipeline.models) == ["mine_ngram"] and "mine_ngrams" not in pipeline.features
    assert errors_of({"datasets": {"mine": MINE, "genres": MINE | {"default_models": False}},
                      "models": {"mine_ngram": {"dataset": "genres", "architecture": "ngram"}}}) == [
        "params.yaml: the default model 'mine_ngram' of dataset 'mine' clashes with a block of that name for another "
        "dataset: rename the block, or set datasets.mine.default_models: false"]


def test_families_decide_the_stages():
    pipeline = layout.resolve({
        "datasets": {"mine": MINE | {"default_models": False}},
        "models": {"a": {"dataset": "mine", "architecture": "ngram"},
                   "both": {"dataset": "mine", "architecture": "ensemble", "members": ["a", "hub"]},
                   "hub": {"dataset": "mine", "architecture": "hub_dnn", "handle": "https://tfhub.dev/google/nnlm-en-dim50/2"},
                   "student": {"dataset": "mine", "architecture": "ngram", "teacher": "both"}}})
    assert [(name, model.stage("train")) for name, model in pipeline.models.items()] == [
        ("a", "train@a"), ("hub", "train_hub@hub"), ("student", "train_self@student"), ("both", "both")]
    assert pipeline.models_of("mine") == ["a", "hub", "student", "both"]  # ensembles last, as the leaderboard lists them


@pytest.mark.parametrize("name", ["/some/dir", "a/b", "x;touch FILE", "has space", "../up", "-dash", ""])
def test_names_that_are_not_safe_paths_are_refused_in_every_block(name):
    for block, params in [("datasets", {"datasets": {name: MINE}}),
                          ("features", {"datasets": {"mine": MINE}, "features": {name: {"kind": "text", "dataset": "mine"}}}),
                          ("models", {"datasets": {"mine": MINE}, "models": {name: {"dataset": "mine", "architecture": "ngram"}}})]:
        assert f"params.yaml: {block}: name {name!r} is not allowed" in errors_of(params)[0]


def test_every_problem_is_named_at_once_one_line_each():
    assert errors_of({"datasets": {"mine": MINE}, "models": {
        "a": {"dataset": "mine", "architecture": "ngram", "lerning_rate": 0.1},
        "b": {"dataset": "other", "architecture": "ngram"},
        "c": {"dataset": "mine", "architecture": "transformer"},
        "d": {"dataset": "mine", "architecture": "ensemble", "members": ["a"]},
        "e": {"dataset": "mine", "architecture": "hub_dnn"},
        "f": {"dataset": "mine", "architecture": "ngram", "epochs": 0},
    }}) == [
        "params.yaml: models.a: unknown key 'lerning_rate' (did you mean 'learning_rate'?)",
        "params.yaml: models.b.dataset: 'other' is not a dataset of params.yaml (known: mine)",
        "params.yaml: models.c.architecture must be one of 'bow_mean', 'bilstm', 'ngram', 'cnn', 'hub_dnn', 'ensemble', "
        "got 'transformer'",
        "params.yaml: models.e: missing key 'handle'",
        "params.yaml: models.f.epochs must be a positive integer, got 0",
        "params.yaml: models.d: 'a' is not valid: params.yaml: models.a: unknown key 'lerning_rate' "
        "(did you mean 'learning_rate'?)",
        "params.yaml: models.d.members must name two or more different models, got ['a']",
    ]


def test_features_must_be_of_the_kind_and_dataset_the_model_reads():
    params = {"datasets": {"mine": MINE, "other": MINE},
              "features": {"bags": {"kind": "ngrams", "dataset": "other"}, "words": {"kind": "sequence", "dataset": "mine"}}}
    assert errors_of(params | {"models": {"m": {"dataset": "mine", "architecture": "ngram", "features": "bags"}}}) == [
        "params.yaml: models.m.features 'bags' are fitted on dataset 'other', not on the model's dataset 'mine'"]
    assert errors_of(params | {"models": {"m": {"dataset": "mine", "architecture": "ngram", "features": "words"}}}) == [
        "params.yaml: models.m.features: 'words' holds 'sequence' features; a ngram model reads 'ngrams'"]
    assert errors_of(params | {"models": {"m": {"dataset": "mine", "architecture": "ngram", "features": "bag"}}})[0].startswith(
        "params.yaml: models.m.features: unknown feature set 'bag' (did you mean 'bags'?)")


def test_teachers_and_members_are_other_models_of_the_same_dataset():
    models = {"a": {"dataset": "mine", "architecture": "ngram"}, "g": {"dataset": "other", "architecture": "ngram"},
              "s": {"dataset": "mine", "architecture": "ngram", "teacher": "g"},
              "e": {"dataset": "mine", "architecture": "ensemble", "members": ["a", "nope"]},
              "t": {"dataset": "mine", "architecture": "cnn", "teacher": "a"}}
    assert errors_of({"datasets": {"mine": MINE, "other": MINE}, "models": models}) == [
        "params.yaml: models.s: 'g' is a model of dataset 'other', not of 'mine'",
        "params.yaml: models.e: 'nope' is not another model of params.yaml",
        "params.yaml: models.t: a cnn student would need its module as a dep of train_self; self-train a bow_mean, bilstm "
        "or ngram model",
    ]


def test_an_ensemble_cannot_take_the_name_of_a_stage_group():
    models = {"a": {"dataset": "mine", "architecture": "ngram"}, "b": {"dataset": "mine", "architecture": "bow_mean"},
              "train": {"dataset": "mine", "architecture": "ensemble", "members": ["a", "b"]}}
    assert "'train' is a stage of the pipeline already" in errors_of({"datasets": {"mine": MINE}, "models": models})[0]


def test_the_old_model_blocks_say_where_their_models_went():
    assert errors_of({"datasets": {"mine": MINE}, "hub_models": {}}) == [
        "params.yaml: 'hub_models' is now part of 'models' (move its blocks there)"]


def test_only_the_sources_a_dataset_reads_are_fetched():
    params = {"sources": {"imdb": {"format": "imdb_archive", "url": "x", "fingerprint": None}}, "datasets": {"mine": MINE}}
    stages = layout.render(layout.resolve(params))["stages"]
    assert "fetch" not in stages and "pretrain" not in stages and "transfer" not in stages
    assert set(stages) == {"pipeline", "prepare", "vectorize", "train", "evaluate", "export", "leaderboard"}


def test_a_bad_block_stops_its_own_stages_and_what_reads_it_not_another_datasets():
    params = {"datasets": {"mine": MINE, "other": MINE}, "models": {
        "good": {"dataset": "other", "architecture": "ngram"},
        "bad": {"dataset": "mine", "architecture": "ngram", "epochs": 0},
        "blend": {"dataset": "mine", "architecture": "ensemble", "members": ["bad", "mine_ngram"]},
    }}
    pipeline = layout.resolve(params)
    assert "good" in pipeline.models and pipeline.model("good").dataset == "other"
    assert "bad" not in pipeline.models and "blend" not in pipeline.models and "mine_ngram" in pipeline.models
    with pytest.raises(TextclfError, match="^params.yaml: models.bad.epochs must be a positive integer, got 0$"):
        pipeline.model("bad")
    with pytest.raises(TextclfError, match="^params.yaml: models.blend: 'bad' is not valid: params.yaml: models.bad.epochs"):
        pipeline.model("blend")
    assert "train@bad" not in str(layout.render(pipeline)) and "train" in layout.render(pipeline)["stages"]
    assert len(errors_of(params)) == 2  # the pipeline stage and `textclf pipeline` say both


def test_a_problem_with_the_files_shape_stops_everything_at_once():
    with pytest.raises(TextclfError) as raised:
        layout.resolve({"datasets": {"a b": MINE}, "models": [1], "ensembles": {}})
    assert str(raised.value).splitlines() == [
        "params.yaml: datasets: name 'a b' is not allowed (names become paths and stage names: letters, digits, '_' and "
        "'-', starting with a letter or digit)",
        "params.yaml: 'models' must be a mapping of names to blocks, got list",
        "params.yaml: 'ensembles' is now part of 'models' (move its blocks there)",
    ]
