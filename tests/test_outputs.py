import json
import os
import subprocess
import sys
import textwrap

import pytest

from textclf.core.outputs import staged_outputs, temporary_path, write_json


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


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped), as a killed stage leaves behind."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporaries_of_dead_processes_are_removed_on_the_next_run(tmp_path):
    target = tmp_path / "prepared"
    stale_dir = temporary_path(target, dead_pid())
    stale_dir.mkdir()
    (stale_dir / "train.parquet").write_text("half")
    live = temporary_path(target, os.getppid())  # a running process: maybe another stage at work
    live.mkdir()
    other = tmp_path / ".prepared_extra.tmp-1"  # another output's name: not ours to touch
    other.write_text("x")
    with staged_outputs(target) as (target_tmp,):
        target_tmp.mkdir()
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["prepared", live.name, other.name])


def test_an_interrupt_that_was_swallowed_still_stops_the_stage(tmp_path):
    """A KeyboardInterrupt raised inside __del__ is only printed by Python; the stage must still not finish."""
    program = textwrap.dedent(f"""
        import os, signal
        from textclf.core.errors import run_stage
        from textclf.core.outputs import staged_outputs

        class Stream:
            def __del__(self):
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C arrives while Python runs a finaliser

        def main():
            Stream()
            with staged_outputs({str(tmp_path / "records.parquet")!r}) as (records,):
                records.write_text("complete, but the user asked to stop")

        run_stage(main)
    """)
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.returncode == 130, result.stderr
    assert "Exception ignored in" in result.stderr  # the interrupt really was swallowed
    assert result.stderr.strip().splitlines()[-1] == "error: interrupted; no output was written"
    assert list(tmp_path.iterdir()) == []


def test_an_unexpected_exception_is_one_line_with_a_pointer_to_the_traceback():
    program = "from textclf.core.errors import run_stage\nrun_stage(lambda: {}['missing'])"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: unexpected KeyError: 'missing' (set TEXTCLF_DEBUG=1 to see the traceback, and please report it)"]
    debug = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                           env=os.environ | {"TEXTCLF_DEBUG": "1"})
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr


def test_each_problem_is_one_error_line_with_control_characters_as_escapes():
    program = ("from textclf.core.errors import run_stage\nfrom textclf.core.errors import TextclfError\n"
               "def main():\n    raise TextclfError('bad file name a\\x1b]0;x\\x07b\\nsecond line')\nrun_stage(main)")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.stderr.splitlines() == ["error: bad file name a\\x1b]0;x\\x07b", "error: second line"]


def test_a_full_disk_is_one_error_line_not_a_bug_report(tmp_path):
    program = ("import errno\nfrom textclf.core.errors import run_stage\nfrom textclf.core.outputs import staged_outputs\n"
               "def main():\n    with staged_outputs('out.json') as (tmp,):\n"
               "        tmp.write_text('half')\n"
               "        raise OSError(errno.ENOSPC, 'No space left on device', str(tmp))\nrun_stage(main)")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: no space left on the device writing ") and line.endswith("no output was written")
    assert sorted(path.name for path in tmp_path.iterdir()) == []  # the temporary is gone, and nothing was moved in
