"""datatrove executors for the stages of a plan: local, Slurm or Ray, built from the same YAML.

Ray: `RayCluster` attaches to the cluster at `executor.address` / $RAY_ADDRESS, or starts a local instance bound to
127.0.0.1 (and stops it at the end). Each stage runs as Ray tasks through datatrove's RayPipelineExecutor, one
stage after the other, on actors kept for the whole run (curate/ray_actors.py); a task whose worker dies is retried
by datatrove (3 times), and a stage that still has unfinished tasks fails the run naming them (`StageFailed`), so
that a rerun resumes it.

Locally, every stage of a run shares one process pool. datatrove's LocalPipelineExecutor starts a Manager process
and a fresh pool of workers per stage, and each worker imports datatrove, pyarrow and the steps again: a few
seconds per worker that a multi-stage run (distributed dedup: 4-6 stages) paid again and again, more than the
work itself on small inputs. Here the pool's processes are forked from a forkserver that has already imported the
plan's modules, once per run (benchmarks/stage_overhead.py measures the difference).

A worker kept from stage to stage keeps what its tasks freed but the allocators did not give back (glibc's heap,
pyarrow's mimalloc pool): part of a global stage's share of every document stayed in the workers of every later
stage. After each task a worker gives back what it can (`release_memory`); what fragmentation pins stays, and grows
with the run's size. So when, after a global stage, a worker holds more than `RENEW_ABOVE_MB` beyond what the
workers held after their first stage, the next stages get fresh workers (`SharedPool.after_stage`): a large run
pays a second or two for them (the next segment loads its models again), a small run pays nothing (docs/scale.md,
"What the last segment's ×1.22 was" and "Fresh workers only where a run has grown them").
"""

from __future__ import annotations

import ctypes
import os
from functools import partial

import multiprocess
import pyarrow as pa
from datatrove.executor import LocalPipelineExecutor
from datatrove.utils.logging import logger
from datatrove.utils.stats import PipelineStats

from curate.config import ConfigError, PipelineConfig
from curate.errors import StageFailed


def release_memory() -> None:
    """Give back to the system what the last task freed and the allocators kept: pyarrow's memory pool (mimalloc)
    and glibc's heap. Under a millisecond (a full `gc.collect()` would cost ~100 ms a task: left to Python)."""
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): its allocator returns memory its own way
        pass


# What a worker may carry beyond its size after its first stage. Measured (2 tasks, anonymous memory): 400,000
# documents' exact and MinHash dedup leave 69 MB after the bucket stage; a few thousand documents, a few MB.
RENEW_ABOVE_MB = 64


def anonymous_memory(pid: int) -> int | None:
    """A process's anonymous resident memory in bytes (what it holds itself, not pages mapped from files); None where
    /proc does not say (not Linux, or the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class SharedPool:
    """A process pool (and the Manager datatrove's ranks queue needs) for all the stages of one local run."""

    def __init__(self, workers: int, preload: list[str], renew_above_mb: float | None = None):
        self.ctx = multiprocess.get_context("forkserver")
        self.ctx.set_forkserver_preload(sorted(set(preload)))  # only takes effect before the forkserver first starts
        self.workers = workers
        self.renew_above = (RENEW_ABOVE_MB if renew_above_mb is None else renew_above_mb) * 2**20
        self.settled: int | None = None  # the smallest worker after the first stage (bytes)
        self.manager = multiprocess.Manager()
        self.pool = self.ctx.Pool(workers)

    def worker_memory(self) -> dict[int, int]:
        """pid -> anonymous resident bytes of each worker (empty where /proc does not say)."""
        sizes = {p.pid: anonymous_memory(p.pid) for p in self.pool._pool}  # noqa: SLF001 (multiprocessing's own list)
        return {pid: n for pid, n in sizes.items() if n is not None}

    def after_stage(self, global_stage: bool) -> bool:
        """Called after each stage: the first one settles the workers' size (they have imported and loaded what
        their steps need); after a global stage, fresh workers if one holds more than `renew_above_mb` beyond that
        (the next stage gets them). Returns whether it renewed."""
        sizes = self.worker_memory()
        if self.settled is None:
            self.settled = min(sizes.values(), default=None)
            return False
        if not global_stage or not sizes or max(sizes.values()) - self.settled <= self.renew_above:
            return False
        logger.info(f"a worker holds {(max(sizes.values()) - self.settled) / 2**20:.0f} MB more than after its "
                    f"first stage: starting fresh workers")
        self.pool.close()
        self.pool.join()
        self.pool = self.ctx.Pool(self.workers)
        return True

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

    def _run_for_rank(self, *args, **kwargs):
        try:
            return super()._run_for_rank(*args, **kwargs)
        finally:  # the worker (or this process, one worker) runs the next task, maybe of another stage
            release_memory()

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


class RayCluster:
    """`with RayCluster(address)`: Ray initialised for the run (attached, or a local instance on 127.0.0.1)."""

    def __init__(self, address: str | None = None, workers: int | None = None):
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.workers = workers
        self.started = False

    def __enter__(self):
        try:
            import ray
        except ImportError:
            raise ConfigError("executor ray needs the `ray` package: pip install -e '.[ray]'") from None
        if not ray.is_initialized():
            env = {"env_vars": {k: os.environ[k] for k in ("HF_HUB_OFFLINE", "CURATE_VERBOSE", "PYTHONPATH")
                                if k in os.environ}}
            if self.address:
                ray.init(address=self.address, runtime_env=env, log_to_driver=False)
            else:  # a local instance: loopback only, no dashboard, a small object store (we pass paths, not data)
                ray.init(_node_ip_address="127.0.0.1", include_dashboard=False, num_cpus=self.workers,
                         object_store_memory=256 * 2**20, runtime_env=env, log_to_driver=False,
                         configure_logging=False)
                # datatrove warns that a local logging folder must be shared by all nodes: here there is one node
                logger.disable("datatrove.executor.ray")
            self.started = True
        from curate import ray_actors

        self.actors = ray_actors.install()  # datatrove's executor gets our actors, kept for the whole run
        return self

    def __exit__(self, *exc):
        from curate import ray_actors

        ray_actors.uninstall(self.actors)
        if self.started:
            import ray

            logger.enable("datatrove.executor.ray")
            ray.shutdown()


def run_stage(executor, stage) -> None:
    """Run one stage's executor and check that every task completed."""
    executor.run()
    missing = executor.get_incomplete_ranks(range(stage.tasks), skip_completed=True)
    if missing:
        raise StageFailed(f"stage {stage.name}: task(s) {', '.join(map(str, missing[:20]))} did not complete "
                          f"(their logs: {stage.logging_dir}/logs/); rerun the same command to resume")


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

    workers = ex.workers if ex.workers != -1 else ex.tasks
    # one job per worker (the retry unit is then the group; finished ranks are not run again): an actor runs one job
    # at a time, so more jobs than workers would only queue (curate/ray_actors.py keeps the actors between stages)
    options = {"tasks_per_job": max(1, -(-stage.tasks // workers))} | ex.options
    return RayPipelineExecutor(stage.pipeline, tasks=stage.tasks, workers=workers, logging_dir=stage.logging_dir,
                               **options)
