"""The Slurm jobs of a run folder: which ones `curate run` submitted, and whether any is still in the queue.

datatrove's SlurmPipelineExecutor submits each stage as an sbatch job array (chained by `--dependency`) and
returns; the jobs then write into the run folder long after `curate run`, and its run-folder lock, are gone. A
second `curate run` on that folder must not take their unfinished tasks for crashed ones: resuming deletes the
outputs of unfinished tasks and submits them again, so a task would run twice at once and its shards be deleted
under it; `--force` would delete the whole folder under running jobs. So the runner records the ids of the jobs it
submitted (RUN/logs/slurm_jobs.json) and asks `squeue` about them before it cleans or deletes anything.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

from curate.config import ConfigError
from curate.manifest import utcnow
from curate.util import atomic_write_json, read_json


@dataclass
class QueuedJob:
    job_id: str  # the id sbatch printed (an array's id; its tasks show as <id>_<index>)
    task: str  # %i: "12_3", or "12_[4-13]" for tasks still pending together
    state: str  # PENDING, RUNNING, COMPLETING...
    reason: str  # why it is pending (Dependency, Resources, DependencyNeverSatisfied...)


class SlurmJobs:
    """The job ids recorded for one run folder."""

    def __init__(self, run_root: str):
        self.path = os.path.join(run_root, "logs", "slurm_jobs.json")

    def record(self, executors: list) -> None:
        """The ids of the jobs the executors just submitted (stages with nothing left to run submit none). Called
        also when a submission failed halfway: the jobs already in the queue must be known to the next run."""
        ids = [str(ex.job_id) for ex in executors if ex.job_id not in (None, -1)]
        atomic_write_json(self.path, {"job_ids": ids, "submitted_at": utcnow()})

    def ids(self) -> list[str]:
        return read_json(self.path)["job_ids"] if os.path.exists(self.path) else []

    def queued(self) -> list[QueuedJob]:
        """The recorded jobs that Slurm still holds (pending, running, completing). Asking the whole queue, not
        `squeue -j IDS`: that fails outright once one of the ids has left the controller's memory."""
        ids = set(self.ids())
        if not ids:
            return []
        try:
            out = subprocess.run(["squeue", "-h", "-o", "%F|%i|%T|%r"], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise ConfigError(f"{self.path}: this run submitted Slurm jobs {', '.join(sorted(ids))} and squeue cannot "
                              f"say whether they are still running ({e}); nothing was touched") from None
        if out.returncode != 0:
            raise ConfigError(f"{self.path}: this run submitted Slurm jobs {', '.join(sorted(ids))} and squeue "
                              f"failed ({out.stderr.strip()}); nothing was touched")
        jobs = [QueuedJob(*line.split("|", 3)) for line in out.stdout.splitlines() if line.count("|") == 3]
        return [j for j in jobs if j.job_id in ids]

    def still_queued(self, force: bool = False) -> bool:
        """True while jobs of the run are queued or running (the caller must leave the folder alone). An error when
        waiting cannot help (a failed stage left the stages after it waiting forever) or when --force would delete
        the folder under the jobs."""
        jobs = self.queued()
        if not jobs:
            return False
        ids = sorted({j.job_id for j in jobs}, key=int)
        # a stage failed: the one after it can never start, nor can any later one (they wait on it); Slurm cancels
        # them with DependencyParameters=kill_invalid_depend, otherwise they wait forever
        if any(j.reason == "DependencyNeverSatisfied" for j in jobs):
            raise ConfigError(f"Slurm jobs {', '.join(ids)} of this run wait on a stage that failed (see the "
                              f"slurm_logs/ folders under {os.path.dirname(self.path)}); cancel them "
                              f"(scancel {' '.join(ids)}) and run again to resume")
        if force:
            raise ConfigError(f"--force would delete the run folder under Slurm jobs {', '.join(ids)} of this run, "
                              f"still queued or running; wait for them or cancel them (scancel {' '.join(ids)})")
        return True
