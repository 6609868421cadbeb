"""`textclf init`: a labelled file in, what it holds printed, its dataset block in params.yaml (comments kept)."""

from __future__ import annotations

import pytest
import yaml
from conftest import PROJECT_ROOT

from textclf import cli
from textclf.pipeline import layout

PARAMS = """\
# my project
datasets:
  # the first one
  old:
    path: data/old.csv
    text_column: text
    label_column: label
streaming: {shard_size: 5000, shuffle_buffer: 25000}
training: {distribution: default, precision: float32}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    for name in ("stages", "src"):
        (tmp_path / name).symlink_to(PROJECT_ROOT / name)
    (tmp_path / "params.yaml").write_text(PARAMS, encoding="utf-8")
    (tmp_path / "data").mkdir()
    rows = ["id,body,team", *(f"{i},about {team} number {i},{team}" for i, team in enumerate(["billing", "bugs"] * 6))]
    rows.append("99,about billing number 0,billing")  # a duplicate text
    (tmp_path / "data/tickets.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_init_prints_what_the_file_holds_and_adds_its_block(project, capsys):
    cli.main(["init", "tickets", "data/tickets.csv", "--label", "team"])
    out = capsys.readouterr().out.splitlines()
    assert out[:6] == [
        "data/tickets.csv: 13 labelled texts in column 'body', labels in column 'team'",
        "task: binary, 2 classes (read from the labels; state `task` or `classes` to fix them)",
        "  billing                         7",
        "  bugs                            6",
        "smallest class: 'bugs', 6 texts",
        "duplicate texts: 1",
    ]
    text = (project / "params.yaml").read_text()
    assert "# my project" in text and "# the first one" in text  # comments kept
    assert yaml.safe_load(text)["datasets"]["tickets"] == {"path": "data/tickets.csv", "text_column": "body",
                                                          "label_column": "team"}
    assert "tickets_ngram" in layout.load().models
    layout.check_current()  # dvc.yaml was written too


def test_init_makes_a_rare_class_the_second_and_ranks_by_its_f1(project, capsys):
    # 2 "urgent" of 12 (17%): accuracy would reward never answering it.
    rows = ["id,body,label", *(f"{i},ticket number {i},{'urgent' if i < 2 else 'routine'}" for i in range(12))]
    (project / "data/triage.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    cli.main(["init", "triage", "data/triage.csv"])
    out = capsys.readouterr().out.splitlines()
    assert "'urgent' is 17% of the texts: added metric f1 (of 'urgent')" in out[6]
    block = yaml.safe_load((project / "params.yaml").read_text())["datasets"]["triage"]
    assert block["metric"] == "f1" and block["classes"] == ["routine", "urgent"]
    # A class at a quarter or more is left to accuracy: the tickets above (6 of 13) got no such keys.
    cli.main(["init", "tickets", "data/tickets.csv", "--label", "team"])
    assert "metric" not in yaml.safe_load((project / "params.yaml").read_text())["datasets"]["tickets"]


@pytest.mark.parametrize(("args", "message"), [
    (["init", "tickets", "data/tickets.csv"], "cannot tell the label column (no column has a usual name; columns: id, body, "
                                              "team): pass --label COLUMN"),
    (["init", "old", "data/tickets.csv", "--label", "team"], "params.yaml already has a dataset 'old'"),
    (["init", "a/b", "data/tickets.csv"], "dataset name 'a/b' is not allowed"),
    (["init", "tickets", "data/tickets.csv", "--label", "desk"], "data/tickets.csv: no column 'desk' (columns: id, body, team)"),
])
def test_init_refuses_with_one_line_and_leaves_params_as_they_were(project, capsys, args, message):
    with pytest.raises(SystemExit) as stop:
        cli.main(args)
    assert stop.value.code == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {message}")
    assert (project / "params.yaml").read_text() == PARAMS and not (project / "dvc.yaml").exists()
