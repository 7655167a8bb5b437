"""The Ray actors that run a plan's tasks, kept from one stage to the next.

datatrove's RayPipelineExecutor starts a new actor (in a placement group) for every job of every stage and lets it
die at the end of the job: a new process that imports datatrove, pyarrow and the steps before its first document.
On one machine that is 10-40 s per stage, more than the work of a small stage, and a distributed-dedup plan has
five or six stages. Here the actors of a run are kept in a pool: a stage takes idle actors (same resource options)
and gives them back when its job is done, so only the first stage pays the start-ups, as with the local executor's
shared pool (curate/executors.py).

An actor kept from stage to stage also keeps what a global stage's share of every document left in its allocators
(the 1M-document Ray run: 841 MB after the bucket stage, 1,140 MB after clustering, in the same actor). The local
pool's rule applies (curate/executors.py, `RENEW_ABOVE_MB`): after the first stage the actors' size is noted; after a
global stage an actor holding more than that beyond it is killed, and the next stage starts a fresh one in its place
(`ActorPool.after_stage`).

What does not change: an actor runs one job at a time; a job whose actor dies (killed, out of memory, a crash in a
library) is resubmitted by datatrove on a new actor, and the dead one never returns to the pool; a job that fails
with an error of its own is not retried (datatrove's rule) and its actor, alive, goes back. Tasks that span several
nodes (`nodes_per_task` > 1) keep datatrove's placement groups and fresh actors.
"""

from __future__ import annotations

import os
from collections import defaultdict
from concurrent.futures import Future

from datatrove.utils.logging import logger
from datatrove.utils.stats import PipelineStats


def rank_worker_cls():
    """datatrove's Ray actor, running its ranks in the actor process itself. datatrove's runs them in a
    multiprocess Pool inside the actor: when the pool process dies (the OOM killer, a segfault in a library), the
    pool replaces it and waits forever for the lost task, so the stage hangs instead of being retried. Here the
    actor dies with the task, Ray reports the actor's death, and datatrove resubmits the rank."""
    from datatrove.executor.ray import RankWorker

    from curate.executors import anonymous_memory, release_memory

    class InProcessRankWorker(RankWorker):
        def anonymous_memory(self) -> int | None:
            return anonymous_memory(os.getpid())

        def run_for_rank(self, executor_ref, ranks, node_ips, node_idx):
            os.environ["RAY_NODELIST"] = ",".join(node_ips or [self.get_node_ip()])
            os.environ["RAY_NODEID"] = str(node_idx)
            node_rank = -1 if executor_ref.nodes_per_task == 1 else node_idx
            stats = PipelineStats()
            for rank_id, rank in enumerate(ranks, start=0 if executor_ref.log_first else 1):
                # a group resubmitted after its actor died: the ranks it had finished stay finished
                if not executor_ref.is_rank_completed(rank):
                    try:
                        stats += executor_ref._run_for_rank(rank, rank_id, node_rank=node_rank)
                    finally:  # the actor is kept for the next stage's jobs
                        release_memory()
            return stats

    return InProcessRankWorker


class ActorPool:
    """Idle actors of a run, by the resource options they were started with."""

    def __init__(self, renew_above_mb: float | None = None):
        from curate.executors import RENEW_ABOVE_MB

        self.idle: dict[str, list] = defaultdict(list)
        self.started = 0  # actors started in this run (benchmarks and tests read it)
        self.renewed = 0  # actors replaced after a global stage (`after_stage`)
        self.renew_above = (RENEW_ABOVE_MB if renew_above_mb is None else renew_above_mb) * 2**20
        self.settled: int | None = None  # the smallest actor after the first stage (bytes)
        self._worker_cls = None

    @staticmethod
    def _key(options: dict) -> str:
        return repr(sorted(options.items()))

    def take(self, options: dict):
        idle = self.idle[self._key(options)]
        if idle:
            return idle.pop()
        import ray

        if self._worker_cls is None:
            self._worker_cls = ray.remote(rank_worker_cls())
        self.started += 1
        return self._worker_cls.options(**options).remote()

    def give_back(self, options: dict, actor) -> None:
        self.idle[self._key(options)].append(actor)

    def after_stage(self, global_stage: bool) -> int:
        """Called after each stage, when every actor is idle: the first stage settles the actors' size; after a
        global stage, an actor holding more than `renew_above` beyond it is killed (the next stage starts a fresh
        one in its place). Returns how many were killed. An actor that does not answer is left as it is."""
        import ray

        actors = [(key, a) for key, idle in self.idle.items() for a in idle]
        if not actors or (self.settled is not None and not global_stage):
            return 0
        try:
            sizes = ray.get([a.anonymous_memory.remote() for _, a in actors], timeout=60)
        except Exception as e:  # noqa: BLE001 (a dead or unreachable actor: datatrove replaces it when it runs a job)
            logger.debug(f"could not read the actors' memory: {e}")
            return 0
        known = [n for n in sizes if n is not None]
        if self.settled is None:
            self.settled = min(known, default=None)
            return 0
        grown = [(key, a, n) for (key, a), n in zip(actors, sizes)
                 if n is not None and n - self.settled > self.renew_above]
        for key, actor, n in grown:
            logger.info(f"an actor holds {(n - self.settled) / 2**20:.0f} MB more than after its first stage: "
                        f"replacing it")
            self.idle[key].remove(actor)
            ray.kill(actor)
        self.renewed += len(grown)
        return len(grown)

    def close(self) -> None:
        import ray

        for actor in (a for actors in self.idle.values() for a in actors):
            try:
                ray.kill(actor)
            except Exception as e:  # already gone with its node
                logger.debug(f"could not kill an idle actor: {e}")
        self.idle.clear()


def pooled_task_manager_cls(pool: ActorPool):
    """datatrove's RayTaskManager, taking single-node jobs' actors from `pool` instead of starting them."""
    from datatrove.executor.ray import RayTaskManager, TaskGroup

    class PooledRayTaskManager(RayTaskManager):
        def submit_task(self, executor_ref, ranks_to_submit, remote_options):
            if self.nodes_per_task != 1:
                return super().submit_task(executor_ref, ranks_to_submit, remote_options)
            actor = pool.take(remote_options)
            task = actor.run_for_rank.remote(executor_ref, ranks_to_submit, None, 0)
            group = TaskGroup(tasks=[task], workers=[actor], placement_group=None, ranks=ranks_to_submit)
            group.options = remote_options
            self.task_to_group[task] = group
            self.timeout_manager.add_task(task)
            submitted: Future = Future()
            submitted.set_result([task])
            return submitted

        def task_done(self, task):
            group = self.task_to_group.get(task)
            if group is None or group.placement_group is not None:
                return super().task_done(task)
            import ray
            from ray.exceptions import ObjectLostError, RayActorError, TaskCancelledError, WorkerCrashedError

            del self.task_to_group[task]
            self.timeout_manager.remove_task(task)
            (actor,) = group.workers
            try:
                ray.get(task)
            except (WorkerCrashedError, TaskCancelledError, ObjectLostError, RayActorError) as e:
                logger.warning(f"ranks {group.ranks}: their actor died ({type(e).__name__}); resubmitting")
                return False, group.ranks  # the actor is gone: not given back
            except Exception as e:
                logger.debug(f"ranks {group.ranks} failed with {type(e).__name__}: {e}")
                pool.give_back(group.options, actor)
                return False, None
            pool.give_back(group.options, actor)
            return True, None

        def kill_task_group(self, task):
            group = self.task_to_group.get(task)
            if group is None or group.placement_group is not None:
                return super().kill_task_group(task)
            import ray

            ray.kill(group.workers[0])  # a timed-out or abandoned job ends with its actor, which does not come back
            del self.task_to_group[task]
            self.timeout_manager.task_start_times.pop(task, None)

    return PooledRayTaskManager


def install() -> ActorPool:
    """Make datatrove's RayPipelineExecutor run on a pool of kept actors (until `uninstall`)."""
    import datatrove.executor.ray as datatrove_ray

    pool = ActorPool()
    pool.replaced = (datatrove_ray.RankWorker, datatrove_ray.RayTaskManager)
    datatrove_ray.RankWorker = rank_worker_cls()  # what multi-node jobs (placement groups) still start
    datatrove_ray.RayTaskManager = pooled_task_manager_cls(pool)
    return pool


def uninstall(pool: ActorPool) -> None:
    import datatrove.executor.ray as datatrove_ray

    datatrove_ray.RankWorker, datatrove_ray.RayTaskManager = pool.replaced
    pool.close()
