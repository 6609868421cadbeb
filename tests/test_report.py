"""The pull-request report keeps only the plots whose data changed, and renders Vega-Lite offline.

It replaces only a report it wrote, and only whole: a refused, failed or
interrupted run leaves every file as it was.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import init_repository, working_copy

from textclf.core.errors import TextclfError
from textclf.reporting import report


def vega(rows):
    return [{"type": "vega", "revisions": sorted({r["rev"] for r in rows}),
             "content": {"mark": "line", "data": {"values": rows},
                         "encoding": {"x": {"field": "epoch", "type": "quantitative"},
                                      "y": {"field": "loss", "type": "quantitative"}, "color": {"field": "rev"}}}}]


def test_only_changed_plots_are_kept(tmp_path):
    same = [{"epoch": 1, "loss": 0.5, "rev": "main"}, {"epoch": 1, "loss": 0.5, "rev": "workspace"}]
    moved = [{"epoch": 1, "loss": 0.5, "rev": "main"}, {"epoch": 1, "loss": 0.4, "rev": "workspace"}]
    new = [{"epoch": 1, "loss": 0.4, "rev": "workspace"}]
    (tmp_path / "a.png").write_bytes(b"\x89PNG one")
    (tmp_path / "b.png").write_bytes(b"\x89PNG one")
    (tmp_path / "c.png").write_bytes(b"\x89PNG two")
    plots = {
        "same": vega(same), "moved": vega(moved), "new": vega(new),
        "image same": [{"type": "image", "revisions": ["main"], "url": str(tmp_path / "a.png")},
                       {"type": "image", "revisions": ["workspace"], "url": str(tmp_path / "b.png")}],
        "image moved": [{"type": "image", "revisions": ["main"], "url": str(tmp_path / "a.png")},
                        {"type": "image", "revisions": ["workspace"], "url": str(tmp_path / "c.png")}],
    }
    changed, unchanged = report.changed_plots(plots, "main")
    assert [name for name, _ in changed] == ["moved", "new", "image moved"]
    assert unchanged == ["same", "image same"]
    assert changed[2][1]["urls"] == {"main": str(tmp_path / "a.png"), "workspace": str(tmp_path / "c.png")}


def test_vega_lite_renders_to_png_without_a_browser():
    png = report.render_vega_lite(vega([{"epoch": 1, "loss": 0.5, "rev": "main"}, {"epoch": 2, "loss": 0.3, "rev": "main"}])[0]["content"])
    assert png.startswith(b"\x89PNG") and len(png) > 1000


# A real git + DVC project, small enough to build in a second or two: one stage
# writes a metric into metrics/ and a plot CSV from the param lr.
TRAIN = """\
import json, os
lr = float(open("params.yaml").read().split(":")[1])
os.makedirs("metrics", exist_ok=True)
json.dump({"score": round(1 - lr, 4)}, open("metrics/scores.json", "w"))
open("curve.csv", "w").write("step,loss\\n" + "".join(f"{step},{lr * step}\\n" for step in range(3)))
"""
DVC_YAML = """\
stages:
  train:
    cmd: '"{python}" src/train.py'
    deps: [src/train.py]
    params: [lr]
    outs:
      - curve.csv:
          cache: false
    metrics:
      - metrics/scores.json:
          cache: false
plots:
  - curve.csv:
      x: step
      y: loss
"""
TEXTCLF = Path(sys.executable).parent / "textclf"


def git(project: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)


def dvc(project: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "dvc", *args], cwd=project, check=True, capture_output=True)


def set_learning_rate(project: Path, lr: float) -> None:
    (project / "params.yaml").write_text(f"lr: {lr}\n")
    dvc(project, "repro", "-q")


@pytest.fixture(scope="module")
def built_project(tmp_path_factory):
    """The project run at lr 0.1 and committed, then rerun at lr 0.2 in the workspace (not committed)."""
    project = tmp_path_factory.mktemp("built")
    init_repository(project)
    (project / "src").mkdir()
    (project / "src/train.py").write_text(TRAIN)
    (project / "dvc.yaml").write_text(DVC_YAML.format(python=sys.executable))
    set_learning_rate(project, 0.1)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "lr 0.1")
    set_learning_rate(project, 0.2)
    return project


@pytest.fixture
def project(built_project, tmp_path, monkeypatch):
    """A copy of the built project for one test to write reports into, as the current directory."""
    return working_copy(built_project, tmp_path, monkeypatch)


def files_under(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def temporaries(folder: Path) -> list[str]:
    return [path.name for path in folder.iterdir() if path.name.startswith(".report-report.tmp-")]


@pytest.mark.parametrize("out", ["metrics.md", "src.md"])
def test_out_whose_image_folder_is_a_project_folder_is_refused_and_deletes_nothing(project, out):
    folder = Path(out).with_suffix("")
    before = files_under(project / folder)
    with pytest.raises(TextclfError, match=rf"^the images of --out {out} would go to {folder}/, which exists and was not written"):
        report.build(project, "HEAD", Path(out))
    assert files_under(project / folder) == before
    assert not (project / out).exists() and temporaries(project) == []


def test_out_file_not_written_by_the_report_is_refused(project):
    (project / "notes.md").write_text("# My notes\n")
    with pytest.raises(TextclfError, match=r"^notes.md exists and was not written by textclf report; pick another --out or remove it$"):
        report.build(project, "HEAD", Path("notes.md"))
    assert (project / "notes.md").read_text() == "# My notes\n"
    assert not (project / "notes").exists()


@pytest.mark.parametrize("out, message", [
    ("report", r"^--out report must name a markdown file ending in \.md$"),
    ("report.txt", r"^--out report\.txt must name a markdown file ending in \.md$"),
    ("..md", r"^--out \.\.md must name a markdown file ending in \.md$"),
    (".", r"^--out \. must name a markdown file ending in \.md$"),
    ("somedir/", r"^--out somedir must name a markdown file ending in \.md$"),
    ("folder.md", r"^--out folder\.md is a directory, not a markdown file$"),
])
def test_out_that_is_not_a_markdown_file_is_refused(project, out, message):
    (project / "somedir").mkdir()
    (project / "folder.md").mkdir()
    before = files_under(project)
    with pytest.raises(TextclfError, match=message):
        report.build(project, "HEAD", Path(out))
    assert files_under(project) == before


def test_project_must_be_an_existing_dvc_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TextclfError, match=r"^--project \S*nonexistent is not a directory$"):
        report.build(tmp_path / "nonexistent", "HEAD", Path("report.md"))
    with pytest.raises(TextclfError, match=r"^--project \S+ has no dvc\.yaml; it must be a DVC project$"):
        report.build(tmp_path, "HEAD", Path("report.md"))
    assert list(tmp_path.iterdir()) == []


def test_a_report_shows_what_changed_and_the_next_one_replaces_it(project):
    assert report.build(project, "HEAD", Path("report.md")) == Path("report.md")
    text = (project / "report.md").read_text()
    assert text.startswith("<!-- textclf report -->\n")
    assert "| metrics/scores.json | score | 0.9000 | 0.8000 | -0.1 |" in text
    assert "| params.yaml | lr      | 0.1    | 0.2" in text
    assert "### curve.csv" in text and "![curve.csv](report/curve-csv.png)" in text
    assert (project / "report/curve-csv.png").read_bytes().startswith(b"\x89PNG")
    git(project, "commit", "-q", "-am", "lr 0.2")
    report.build(project, "HEAD", Path("report.md"))
    assert "No plot changed." in (project / "report.md").read_text()
    assert sorted(files_under(project / "report")) == [".textclf-report", "full.md"]  # the old images are gone
    assert temporaries(project) == []


def test_a_failed_report_leaves_the_previous_one_whole(project):
    report.build(project, "HEAD", Path("report.md"))
    markdown, images = (project / "report.md").read_text(), files_under(project / "report")
    with pytest.raises(TextclfError, match="unknown Git revision 'no-such-ref'"):
        report.build(project, "no-such-ref", Path("report.md"))
    assert (project / "report.md").read_text() == markdown
    assert files_under(project / "report") == images
    assert temporaries(project) == []


def test_an_interrupted_report_leaves_the_previous_one_whole(project):
    report.build(project, "HEAD", Path("report.md"))
    markdown, images = (project / "report.md").read_text(), files_under(project / "report")
    (project / "params.yaml").write_text("lr: 0.3\n")  # the next report would differ
    running = subprocess.Popen([str(TEXTCLF), "report", "--out", "report.md"], cwd=project, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not temporaries(project) and running.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert temporaries(project), "the report finished (or never started) before it could be interrupted"
    running.send_signal(signal.SIGINT)
    assert running.wait(timeout=30) != 0, running.stderr.read()
    assert (project / "report.md").read_text() == markdown
    assert files_under(project / "report") == images
    assert temporaries(project) == []


def test_temporaries_of_dead_runs_are_removed_and_those_of_live_runs_kept(project):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = project / f".report-report.tmp-{finished.stdout.strip()}"
    live = project / f".report-report.tmp-{os.getppid()}"
    for temporary in (dead, live):
        (temporary / "new").mkdir(parents=True)
    report.build(project, "HEAD", Path("report.md"))
    assert temporaries(project) == [live.name]


def test_nothing_changed_says_so_instead_of_an_empty_table(project):
    git(project, "commit", "-q", "-am", "lr 0.2")
    text = report.build(project, "HEAD", Path("report.md")).read_text()
    assert "<details><summary>Metrics that changed</summary>\n\nNone.\n" in text
    assert "## Params that changed\n\nNo param changed.\n" in text
    assert "No plot changed." in text
    assert "| metrics/scores.json | score | 0.8000 | 0.8000 |" in text.split("<summary>Every metric")[1]  # still listed


@pytest.mark.parametrize("args, error", [
    (["--out", "metrics.md"], "error: the images of --out metrics.md would go to metrics/, which exists and was not written by "
                              "textclf report; pick another --out"),
    (["--out", "."], "error: --out . must name a markdown file ending in .md"),
    (["--project", "/nonexistent"], "error: --project /nonexistent is not a directory"),
])
def test_the_console_script_prints_one_error_line(project, args, error):
    result = subprocess.run([str(TEXTCLF), "report", *args], cwd=project, capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (1, error + "\n")
    assert (project / "metrics/scores.json").exists()
