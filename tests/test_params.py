import pytest

from textclf import params as p
from textclf.errors import TextclfError

SCHEMA = {"epochs": p.positive_int, "rate": p.positive_float, "flag": p.boolean, "limit": p.optional(p.positive_int)}
GOOD = {"train": {"epochs": 3, "rate": 0.1, "flag": True, "limit": None}}


def test_a_valid_block_is_returned():
    assert p.checked_block(GOOD, "train", SCHEMA) == GOOD["train"]


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"rate": 0.1, "flag": True, "limit": None}, "missing key 'train.epochs'"),
        ({**GOOD["train"], "epochs": -2}, "train.epochs must be a positive integer, got -2"),
        ({**GOOD["train"], "epochs": True}, "train.epochs must be a positive integer"),
        ({**GOOD["train"], "rate": "fast"}, "train.rate must be a number > 0"),
        ({**GOOD["train"], "limit": 0}, "train.limit must be a positive integer"),
        ({**GOOD["train"], "epohcs": 3}, "unknown key 'train.epohcs'"),
    ],
)
def test_bad_blocks_are_named(block, message):
    with pytest.raises(TextclfError, match=message):
        p.checked_block({"train": block}, "train", SCHEMA)


def test_nested_blocks_and_missing_blocks():
    assert p.checked_block({"models": {"m": {"epochs": 1}}}, "models.m", {"epochs": p.positive_int}) == {"epochs": 1}
    with pytest.raises(TextclfError, match="missing block 'models.other'"):
        p.checked_block({"models": {"m": {}}}, "models.other", {})


def test_read_params_errors(tmp_path):
    with pytest.raises(TextclfError, match="file not found"):
        p.read_params(tmp_path / "params.yaml")
    (tmp_path / "bad.yaml").write_text("train: [unclosed")
    with pytest.raises(TextclfError, match="not valid YAML"):
        p.read_params(tmp_path / "bad.yaml")


def test_choices_and_fractions():
    assert p.one_of("a", "b")("c") == "must be one of 'a', 'b'"
    assert p.fraction(1.0) and p.fraction(0) and not p.fraction(0.2)


def test_list_text_and_probability_checks():
    assert p.list_of(p.positive_int)([16, 8]) is None
    assert p.list_of(p.positive_int)([]) == "must be a non-empty list"
    assert p.list_of(p.positive_int)([16, 0]) == "items must be a positive integer"
    assert p.text("  ") == "must be a non-empty string" and p.text("imdb") is None
    assert p.probability(0) is None and p.probability(1) and p.probability(True)
    assert p.non_negative_float(float("inf")) and p.non_negative_float(0.0) is None
    assert p.positive_float(float("nan")) and p.positive_float(float("inf")) == "must be finite"
