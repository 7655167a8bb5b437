"""datatrove executors for the stages of a plan: local, Slurm or Ray, built from the same YAML.

Locally, every stage of a run shares one process pool. datatrove's LocalPipelineExecutor starts a Manager process
and a fresh pool of workers per stage, and each worker imports datatrove, pyarrow and the steps again: a few
seconds per worker that a multi-stage run (distributed dedup: 4-6 stages) paid again and again, more than the
work itself on small inputs. Here the pool's processes are forked from a forkserver that has already imported the
plan's modules, once per run (benchmarks/stage_overhead.py measures the difference).
"""

from __future__ import annotations

from functools import partial

import multiprocess
from datatrove.executor import LocalPipelineExecutor
from datatrove.utils.logging import logger
from datatrove.utils.stats import PipelineStats

from curate.config import PipelineConfig


class SharedPool:
    """A process pool (and the Manager datatrove's ranks queue needs) for all the stages of one local run."""

    def __init__(self, workers: int, preload: list[str]):
        ctx = multiprocess.get_context("forkserver")
        ctx.set_forkserver_preload(sorted(set(preload)))  # only takes effect before the forkserver first starts
        self.workers = workers
        self.manager = multiprocess.Manager()
        self.pool = ctx.Pool(workers)

    def close(self) -> None:
        self.pool.close()
        self.pool.join()
        self.manager.shutdown()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            self.pool.terminate()
            self.manager.shutdown()
        else:
            self.close()


class PooledLocalExecutor(LocalPipelineExecutor):
    """datatrove's local executor, running its tasks in a `SharedPool` (tasks of a stage run in parallel on up to
    the pool's workers; completions, logs and stats exactly as datatrove writes them)."""

    def __init__(self, *args, shared: SharedPool | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.shared = shared

    def __getstate__(self):  # the executor travels to the workers; the pool does not
        state = self.__dict__.copy()
        state["shared"] = None
        return state

    def run(self):
        if self.shared is None or self.workers == 1:
            return super().run()
        self._launched = True
        ranks = self.get_incomplete_ranks(range(self.local_rank_offset, self.local_rank_offset + self.local_tasks))
        if not ranks:
            logger.info(f"Not doing anything as all {self.local_tasks} tasks have already been completed.")
            return None
        self.save_executor_as_json()
        mg = self.shared.manager
        ranks_q = mg.Queue()
        for i in range(self.shared.workers):
            ranks_q.put(i)
        # the proxies must live in this process until the tasks are done: a proxy dropped here deletes its object
        # in the manager before a worker can use it
        completed, lock = mg.Value("i", self.local_tasks - len(ranks)), mg.Lock()
        stats = list(self.shared.pool.imap_unordered(
            partial(self._launch_run_for_rank, ranks_q=ranks_q, completed=completed, completed_lock=lock), ranks))
        stats = sum(stats, start=PipelineStats())
        with self.logging_dir.open("stats.json", "wt") as statsfile:
            stats.save_to_disk(statsfile)
        return stats


def make_executor(cfg: PipelineConfig, stage, depends=None, shared: SharedPool | None = None):
    """datatrove's executor for one stage. `depends`: the executor of the previous stage (Slurm/Ray start a stage
    only when the one before it has finished; locally, stages simply run one after the other)."""
    ex = cfg.executor
    if ex.type == "local":
        workers = ex.workers if ex.workers != -1 else ex.tasks  # -1: as many as the pipeline has tasks
        return PooledLocalExecutor(stage.pipeline, tasks=stage.tasks, workers=min(workers, stage.tasks),
                                   logging_dir=stage.logging_dir, shared=shared, **ex.options)
    if ex.type == "slurm":
        from datatrove.executor import SlurmPipelineExecutor

        options = {"job_name": f"{cfg.name}.{stage.name}"} | ex.options  # squeue tells the stages apart
        return SlurmPipelineExecutor(stage.pipeline, tasks=stage.tasks, logging_dir=stage.logging_dir,
                                     depends=depends, **options)
    from datatrove.executor import RayPipelineExecutor

    return RayPipelineExecutor(stage.pipeline, tasks=stage.tasks, logging_dir=stage.logging_dir, depends=depends,
                               **ex.options)
