"""Building on a cluster: a sharded build's jobs as Ray tasks, one a shard, each indexing in its
own process on a core of its own (the cluster runs as many at once as it has cores).

A task is never run again: a worker lost during a build (its process killed, its node gone)
fails the build with a message saying so, and since only a finished build replaces the index's
manifest, the index stays as it was and searches go on reading it. The documents folder and the
index must be on a filesystem every node sees, at the same path: a node that cannot see them
fails the build saying so.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from search.cluster.connection import ClusterError, connect, one_line
from search.errors import KensakuError
from search.index.build import BUILD_PROCESSES_VARIABLE
from search.index.sharding import JobRunner, ShardJob, ShardResult, build_shard
from search.ingest.reporting import Progress


def cluster_runner(address: str) -> JobRunner:
    """A JobRunner that runs each job as a task of the cluster at `address`."""

    def run(jobs: list[ShardJob], progress: Progress | None = None) -> list[ShardResult]:
        if not jobs:
            return []
        return _run(connect(address), jobs, progress)

    return run


def _run(ray: Any, jobs: list[ShardJob], progress: Progress | None) -> list[ShardResult]:
    task = ray.remote(build_shard).options(
        num_cpus=1,
        max_retries=0,
        retry_exceptions=False,
        scheduling_strategy="SPREAD",
        runtime_env={"env_vars": {BUILD_PROCESSES_VARIABLE: "1"}},
    )
    references = {task.remote(_absolute(job)): job for job in jobs}
    total = sum(len(job.documents) for job in jobs)
    done = 0
    results = {}
    pending = list(references)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        reference = ready[0]
        job = references[reference]
        try:
            results[reference] = ray.get(reference)
        except BaseException as error:
            for other in pending:
                ray.cancel(other, force=True)
            raise _failure(ray, job, error) from None
        done += len(job.documents)
        if progress and job.documents:
            progress(done, total, job.documents[-1])
    return [results[reference] for reference in references]


def _absolute(job: ShardJob) -> ShardJob:
    """The job with its paths absolute: a task runs in its worker's working directory, not in
    the one a relative `--index` or `--docs` was given from."""
    return dataclasses.replace(
        job,
        index_dir=Path(job.index_dir).absolute(),
        docs_dir=Path(job.docs_dir).absolute(),
        documents=[
            dataclasses.replace(document, path=os.path.abspath(document.path))
            for document in job.documents
        ],
    )


def _failure(ray: Any, job: ShardJob, error: BaseException) -> BaseException:
    """What a failed task means to the user: its own error, or a worker lost."""
    exceptions = ray.exceptions
    if isinstance(error, exceptions.RayTaskError):
        cause = getattr(error, "cause", None)
        if isinstance(cause, KensakuError):
            return cause
        return ClusterError(
            f"building {job.name} failed ({one_line(cause or error)}); the index is as it was"
        )
    if isinstance(error, exceptions.RayError):
        return ClusterError(
            f"a worker was lost while building {job.name} ({one_line(error)}): the build "
            "failed, and the index is as it was; run `kensaku index` again"
        )
    return error
