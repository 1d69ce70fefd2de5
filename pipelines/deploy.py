"""The code location of a distributed deployment: the graph of `pipelines/definitions.py`
(every territory a partition, the same assets, checks and sensors), its jobs run by an
executor that sends each step elsewhere.

- `celery_defs`: every step is a Celery task taken by a `dagster-celery` worker
  (Redis broker and result backend, `deploy/celery/`);
- `k8s_defs`: every step is a Kubernetes Job (`k8s_job_executor`, `deploy/k8s/`).

Each is built on first access only (`dagster ... -m pipelines.deploy -a celery_defs`):
importing this module loads no definitions. Workers load the same attribute to run a
step, so they need the same code, environment (`DATACITES_*`) and Dagster instance.
"""

from __future__ import annotations

import functools

import dagster as dg

#: the attributes a workspace or a worker may load, and the executor of each
EXECUTORS = {"celery_defs": "celery", "k8s_defs": "k8s"}


def executor(name: str) -> dg.ExecutorDefinition:
    """The executor named in `EXECUTORS`; its config comes from the run config."""
    if name == "celery":
        from dagster_celery import celery_executor

        return celery_executor
    if name == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    raise ValueError(f"no executor {name!r} (known: celery, k8s)")


@functools.cache
def distributed_definitions(name: str) -> dg.Definitions:
    """`build_definitions()` with `executor(name)` as the executor of every job."""
    from pipelines.assets.build import build_definitions

    return dg.Definitions.merge(build_definitions(), dg.Definitions(executor=executor(name)))


def __getattr__(attribute: str) -> dg.Definitions:
    if attribute in EXECUTORS:
        return distributed_definitions(EXECUTORS[attribute])
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")
