import pytest

from textclf.core import params as p
from textclf.core.errors import TextclfError


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
