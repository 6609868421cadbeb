"""params.yaml's schema: each block over its defaults, every problem at once in one line, and the JSON Schema file."""

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from textclf.core import schema
from textclf.core.errors import TextclfError

ROOT = Path(__file__).resolve().parents[1]


def problems(cls, block, where="x"):
    with pytest.raises(TextclfError) as raised:
        schema.validated(cls, block, where)
    return str(raised.value).splitlines()


def test_a_block_comes_back_over_its_defaults_unchanged():
    checked = schema.validated(schema.NgramModel, {"dataset": "d", "architecture": "ngram", "l2": 1}, "models.m")
    assert checked == {"features": None, "teacher": None, "seed": 42, "batch_size": 64, "epochs": 200,
                       "learning_rate": 0.03, "patience": 10, "class_weight": "balanced", "weighting": "tfidf", "l2": 1,
                       "dataset": "d", "architecture": "ngram"}
    assert type(checked["l2"]) is int  # no coercion: the value params.yaml states is the value the stage sees


@pytest.mark.parametrize(("block", "line"), [
    ({"architecture": "ngram"}, "params.yaml: models.m: missing key 'dataset'"),
    ({"dataset": "d", "architecture": "ngram", "epohcs": 3}, "params.yaml: models.m: unknown key 'epohcs' (did you mean 'epochs'?)"),
    ({"dataset": "d", "architecture": "ngram", "epochs": "3"}, "params.yaml: models.m.epochs must be a positive integer, got '3'"),
    ({"dataset": "d", "architecture": "ngram", "epochs": True}, "params.yaml: models.m.epochs must be a positive integer, got True"),
    ({"dataset": "d", "architecture": "ngram", "learning_rate": float("inf")},
     "params.yaml: models.m.learning_rate must be finite, got inf"),
    ({"dataset": "d", "architecture": "ngram", "weighting": "idf"},
     "params.yaml: models.m.weighting must be one of 'tfidf', 'naive_bayes', 'none', got 'idf'"),
    ({"dataset": "", "architecture": "ngram"}, "params.yaml: models.m.dataset must be a non-empty string, got ''"),
])
def test_each_problem_is_one_line_naming_the_key(block, line):
    assert problems(schema.NgramModel, block, "models.m") == [line]


def test_a_block_that_is_not_a_mapping_is_one_line():
    # Every problem of a block at once: tests/test_data.py checks it on a dataset block.
    assert problems(schema.Streaming, [5000], "streaming") == ["params.yaml: streaming must be a mapping of settings, got [5000]"]


def test_a_whole_file_names_nested_keys_without_pydantic_s_union_tags():
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    assert schema.validated(schema.Params, params, "")["models"]["bilstm"]["lstm_units"] == [64]
    params["modles"] = {}
    params["models"]["m"] = {"dataset": "imdb", "architecture": "lstm"}
    params["features"]["words_20k"]["max_tokns"] = 3
    params["transfer"]["setups"]["random_frozen"]["trainable"] = "no"
    params["transfer"]["setups"]["bow_mean"]["patience"] = -1
    assert problems(schema.Params, params, "") == [
        "params.yaml: features.words_20k: unknown key 'max_tokns' (did you mean 'max_tokens'?)",
        "params.yaml: models.m.architecture must be one of 'bow_mean', 'bilstm', 'ngram', 'cnn', 'hub_dnn', 'ensemble', "
        "got 'lstm' (did you mean 'bilstm'?)",
        "params.yaml: transfer.setups.random_frozen.trainable must be true or false, got 'no'",
        "params.yaml: transfer.setups.bow_mean.patience must be an integer >= 0, got -1",
        "params.yaml: unknown key 'modles' (did you mean 'models'?)",
    ]


def test_a_block_of_defaults_only_may_be_left_out_and_one_with_required_keys_may_not():
    assert schema.block_of({}, "training", schema.Training) == {"distribution": "default", "precision": "float32"}
    with pytest.raises(TextclfError, match=r"^params.yaml: missing block 'pretrain'$"):
        schema.block_of({}, "pretrain", schema.Pretrain)


def test_classes_are_checked_item_by_item():
    for value, message in [([], "must be a non-empty list"), (["a", ""], "items must be non-empty strings or integers"),
                           (["a", True], "items must be non-empty strings or integers"),
                           ([" a", "b"], "items must not start or end with spaces (a label is read without them)"),
                           (["1", 1], "must not repeat a class")]:
        assert schema.check_classes(value) == message
    assert schema.check_classes(["neg", "pos"]) is None and schema.check_classes([1, 2, 3]) is None


def test_the_json_schema_file_is_what_the_schema_renders_and_check_says_when_it_is_not(tmp_path):
    assert (ROOT / schema.JSON_SCHEMA).read_text(encoding="utf-8") == schema.render_json_schema()
    (tmp_path / schema.JSON_SCHEMA).write_text("{}\n", encoding="utf-8")
    check = [sys.executable, "-m", "textclf.core.schema", "--check"]
    assert subprocess.run(check, cwd=tmp_path, capture_output=True).returncode == 1
    assert subprocess.run([sys.executable, "-m", "textclf.core.schema"], cwd=tmp_path, capture_output=True).returncode == 0
    assert subprocess.run(check, cwd=tmp_path, capture_output=True).returncode == 0
    assert (ROOT / "params.yaml").read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=params.schema.json\n")


def test_an_independent_json_schema_validator_agrees_with_the_schema():
    """What an editor sees: the committed params.yaml is valid; a typo, a bad value or a missing key is not."""
    validator = jsonschema.Draft202012Validator(json.loads((ROOT / schema.JSON_SCHEMA).read_text(encoding="utf-8")))
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    assert list(validator.iter_errors(params)) == []
    for broken in ({"models": {"m": {"dataset": "d", "architecture": "ngram", "epochs": 0}}},
                   {"models": {"m": {"dataset": "d", "architecture": "ngram", "epohcs": 3}}},
                   {"datasets": {"d": {"path": "x.csv", "text_column": "t"}}},
                   {"datasets": {"d": {"reader": "imdb", "path": "x", "classes": ["a", "a"]}}},
                   {"features": {"f": {"kind": "chars", "dataset": "d"}}},
                   {"modles": {}}):
        assert list(validator.iter_errors(broken)), broken
        with pytest.raises(TextclfError):
            schema.validated(schema.Params, broken, "")
