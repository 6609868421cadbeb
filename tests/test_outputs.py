import json

import pytest

from textclf.outputs import staged_outputs, write_json


def test_outputs_appear_only_on_success(tmp_path):
    target, folder = tmp_path / "out" / "result.json", tmp_path / "folder"
    with staged_outputs(target, folder) as (target_tmp, folder_tmp):
        write_json(target_tmp, {"b": 1, "a": 2})
        folder_tmp.mkdir()
        (folder_tmp / "x.txt").write_text("x")
        assert not target.exists()
    assert json.loads(target.read_text()) == {"a": 2, "b": 1}
    assert target.read_text() == '{\n  "a": 2,\n  "b": 1\n}\n'
    assert (folder / "x.txt").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "out"]


@pytest.mark.parametrize("interruption", [ValueError("boom"), KeyboardInterrupt()])
def test_failure_leaves_nothing_half_written(tmp_path, interruption):
    target = tmp_path / "result.json"
    with pytest.raises(type(interruption)):
        with staged_outputs(target) as (target_tmp,):
            target_tmp.write_text("{half")
            raise interruption
    assert list(tmp_path.iterdir()) == []


def test_an_output_the_stage_forgot_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="did not write its outputs"):
        with staged_outputs(tmp_path / "a.json", tmp_path / "b.json") as (a_tmp, _):
            a_tmp.write_text("{}")
    assert list(tmp_path.iterdir()) == []


def test_keras_suffix_is_kept_on_the_temporary(tmp_path):
    with staged_outputs(tmp_path / "model.keras") as (model_tmp,):
        assert model_tmp.suffix == ".keras"
        model_tmp.write_text("weights")
