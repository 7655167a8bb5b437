"""Ray, for real: a local Ray instance (127.0.0.1) runs the same pipelines as the local executor, stage by stage,
with the same result; a worker that dies is retried, a task that keeps dying fails the run naming it, and the
rerun resumes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_outcome
from curate.errors import StageFailed
from curate.runner import run

ray = pytest.importorskip("ray")
# one worker runs them all under pytest-xdist (pyproject's `--dist loadgroup`): the instance starts once (~30 s)
pytestmark = pytest.mark.xdist_group("ray")
REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def ray_instance():
    """One local instance for the module (a run attaches to an initialised Ray and leaves it running)."""
    os.environ["PYTHONPATH"] = os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]).strip(os.pathsep)
    ray.init(_node_ip_address="127.0.0.1", include_dashboard=False, num_cpus=2, object_store_memory=256 * 2**20,
             runtime_env={"env_vars": {"PYTHONPATH": os.environ["PYTHONPATH"], "HF_HUB_OFFLINE": "1"}},
             log_to_driver=False)
    yield
    ray.shutdown()


def test_demo_on_ray_equals_the_local_run(ray_instance, demo_run, tmp_path):
    state, m = run(str(REPO / "pipelines" / "demo.yaml"), output=str(tmp_path / "ray"), executor="ray",
                   progress=False)
    assert state == "new"
    assert run_outcome(tmp_path / "ray") == run_outcome(demo_run)


def multi_stage(tmp_path: Path, die_marker: Path, always: bool = False) -> str:
    """Distributed exact and MinHash dedup: five stages, each task a Ray task; a step that kills its worker."""
    p = tmp_path / "p.yaml"
    p.write_text(f"""name: multi
inputs: [{{name: web, paths: ['{REPO}/pipelines/demo_data/web_en.jsonl.gz', '{REPO}/pipelines/demo_data/web_ko.jsonl'],
          license: CC-BY-4.0}}]
steps:
  - {{type: die_once, marker: '{die_marker}', always: {str(always).lower()}}}
  - {{type: length, min_chars: 200}}
  - {{type: dedup_exact, mode: distributed, bucket_tasks: 2}}
  - {{type: dedup_minhash, mode: distributed, threshold: 0.7, bucket_tasks: 3}}
output: {{dir: {tmp_path / 'out'}}}
executor: {{tasks: 2}}
""")
    return str(p)


def test_multi_stage_on_ray_equals_local_and_survives_a_killed_worker(ray_instance, tmp_path, monkeypatch):
    from curate.steps import STEP_TYPES

    monkeypatch.setitem(STEP_TYPES, "die_once", "steps_for_tests:DieOnce")
    data = tmp_path / "data"
    data.mkdir()
    # a document that makes the step kill its worker, once: Ray retries the task and the run completes
    local = multi_stage(tmp_path, tmp_path / "never")
    (tmp_path / "never").touch()  # the local run: nobody dies
    run(local, output=str(tmp_path / "local"), progress=False)
    on_ray = multi_stage(tmp_path, tmp_path / "died_once")
    gz = REPO / "pipelines" / "demo_data" / "web_en.jsonl.gz"
    assert b"die" in __import__("gzip").decompress(gz.read_bytes())  # the demo text mentions it ("studied", "died")
    state, m = run(on_ray, output=str(tmp_path / "ray"), executor="ray", progress=False)
    assert (tmp_path / "died_once").exists(), "the step never killed its worker"
    assert run_outcome(tmp_path / "ray") == run_outcome(tmp_path / "local")
    assert m["documents_in"] == m["documents_kept"] + sum(m["removed"].values())


def test_a_task_that_keeps_dying_fails_the_run_naming_it_and_the_rerun_resumes(ray_instance, tmp_path,
                                                                               monkeypatch):
    from curate.steps import STEP_TYPES

    monkeypatch.setitem(STEP_TYPES, "die_once", "steps_for_tests:DieOnce")
    p = multi_stage(tmp_path, tmp_path / "marker", always=True)
    with pytest.raises(StageFailed, match=r"stage segment_0: task\(s\) 0 did not complete"):
        run(p, output=str(tmp_path / "out"), executor="ray", progress=False)
    assert not (tmp_path / "out" / "manifest.json").exists()
    # the cause is fixed (here: the step stops dying); the same command resumes the run
    (tmp_path / "marker").touch()
    state, m = run(p, output=str(tmp_path / "out"), executor="ray", progress=False)
    assert state == "resume"
    assert m["documents_in"] == m["documents_kept"] + sum(m["removed"].values())


def pids_of_first_and_last_segment(tmp_path: Path, monkeypatch) -> tuple[list[str], list[str]]:
    """The multi-stage pipeline with a step that records its process in the first segment and one in the last (four
    stages later), run locally and on Ray: the same result, and the pids of the Ray run's (first, last) segment."""
    from curate.steps import STEP_TYPES

    monkeypatch.setitem(STEP_TYPES, "die_once", "steps_for_tests:DieOnce")
    monkeypatch.setitem(STEP_TYPES, "record_pid", "steps_for_tests:RecordPid")
    (tmp_path / "never").touch()
    p = Path(multi_stage(tmp_path, tmp_path / "never"))
    first, last = tmp_path / "first", tmp_path / "last"
    text = p.read_text().replace("steps:\n", f"steps:\n  - {{type: record_pid, path: '{first}'}}\n")
    p.write_text(text.replace("output:", f"  - {{type: record_pid, name: record_pid_last, path: '{last}'}}\noutput:"))
    run(str(p), output=str(tmp_path / "local"), progress=False)
    first.unlink(), last.unlink()
    run(str(p), output=str(tmp_path / "ray"), executor="ray", progress=False)
    assert run_outcome(tmp_path / "ray") == run_outcome(tmp_path / "local")
    return first.read_text().split(), last.read_text().split()


def test_the_stages_of_a_run_share_their_actors(ray_instance, tmp_path, monkeypatch):
    """Five stages, two tasks each: the two actors that run the first stage run the last one too (datatrove starts
    a new actor, a new process, for every job of every stage; curate/ray_actors.py keeps them for the run), and the
    result is the local run's."""
    first_pids, last_pids = pids_of_first_and_last_segment(tmp_path, monkeypatch)
    assert len(first_pids) == len(last_pids) == 2  # one line per task
    assert os.getpid() not in map(int, first_pids)  # run by actors, not by the driver
    assert set(last_pids) == set(first_pids) and len(set(first_pids)) == 2


def test_actors_grown_by_a_global_stage_are_replaced(ray_instance, tmp_path, monkeypatch):
    """The local pool's renewal rule on Ray: with the allowance at 0 MB, every actor that a global stage left larger
    than the actors were after the first stage is replaced, so the last segment runs on fresh actors; the result is
    the local run's. (At the default 64 MB a demo-sized run keeps its actors: the test above.)"""
    import curate.executors
    from curate import ray_actors

    monkeypatch.setattr(curate.executors, "RENEW_ABOVE_MB", 0)
    pools = []
    install = ray_actors.install
    monkeypatch.setattr(ray_actors, "install", lambda: pools.append(install()) or pools[-1])
    first_pids, last_pids = pids_of_first_and_last_segment(tmp_path, monkeypatch)
    (pool,) = pools
    assert pool.renewed >= 1 and pool.started == 2 + pool.renewed
    assert set(last_pids) != set(first_pids)


def test_without_ray_the_error_says_how_to_install_it(tmp_path):
    code = ("import sys; sys.modules['ray'] = None\n"
            "from click.testing import CliRunner\nfrom curate.cli import cli\n"
            f"r = CliRunner().invoke(cli, ['run', '{REPO}/pipelines/demo.yaml', '-o', '{tmp_path}/x', "
            "'--executor', 'ray', '--no-progress'])\nprint(r.output)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300).stdout
    assert "executor ray needs the `ray` package: pip install -e '.[ray]'" in out
