"""The Kubernetes variant without a cluster: deploy/k8s/dagster.yaml passes Dagster's own
validation of an instance, its run launcher's and run coordinator's config pass the
schemas of their classes, deploy/k8s/run_config.yaml passes the schema of
`k8s_job_executor` and the run config of the job of `pipelines.deploy:k8s_defs` (the
Celery one likewise), and every variable these files read is documented."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from pipelines.config import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
FILES = [DEPLOY / "dagster.yaml", DEPLOY / "k8s" / "dagster.yaml", DEPLOY / "k8s" / "run_config.yaml",
         DEPLOY / "celery" / "run_config.yaml"]


def _variables(path) -> set[str]:
    """Names of the variables a deploy file reads: `{env: NAME}` and `NAME=value` it sets."""
    text = path.read_text(encoding="utf-8")
    return set(re.findall(r"\{env: ([A-Z0-9_]+)\}", text)) | set(re.findall(r"- ([A-Z][A-Z0-9_]+)=", text))


@pytest.fixture
def variables(monkeypatch):
    """Every variable of the deploy files set, as the pods' ConfigMap and Secret would."""
    values = {name: f"value-of-{name.lower()}" for path in FILES for name in _variables(path)}
    values |= {"DATACITES_PG_PORT": "5432", "DATACITES_MAX_RUNS": "4"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def _process(config_type, value):
    from dagster._config import process_config

    done = process_config(config_type, value)
    assert done.success, [error.message for error in done.errors]
    return done.value


def test_the_k8s_instance_passes_dagsters_validation(variables, tmp_path):
    from dagster._core.instance.config import dagster_instance_config
    from dagster._serdes.config_class import class_from_code_pointer

    shutil.copy(DEPLOY / "k8s" / "dagster.yaml", tmp_path / "dagster.yaml")
    instance, custom = dagster_instance_config(str(tmp_path))
    assert custom is None
    assert set(instance["storage"]) == {"postgres"}

    launcher = instance["run_launcher"]
    launcher_class = class_from_code_pointer(launcher["module"], launcher["class"])
    assert launcher_class.__name__ == "K8sRunLauncher"
    config = _process(launcher_class.config_type(), launcher["config"])
    assert config["job_namespace"] == variables["DATACITES_K8S_NAMESPACE"]
    assert config["instance_config_map"] == variables["DATACITES_K8S_INSTANCE_CONFIG_MAP"]
    assert config["job_image"] == variables["DATACITES_IMAGE"]
    # every pod sees the same store and outputs: the steps exchange frames through them
    assert [m["mount_path"] for m in config["volume_mounts"]] == ["/srv/datacites"]
    assert {v.split("=")[0] for v in config["env_vars"]} == {
        "DATACITES_SOURCES_DIR", "DATACITES_STATE_DIR", "DATACITES_OUTPUTS_DIR"}
    assert all(v.split("=")[1].startswith("/srv/datacites/") for v in config["env_vars"])



@pytest.mark.parametrize("instance_file", [DEPLOY / "dagster.yaml", DEPLOY / "k8s" / "dagster.yaml"])
def test_the_run_coordinator_loads_with_one_run_per_territory(variables, tmp_path, instance_file):
    """The class the daemon loads (the module path is the one Dagster imports: a wrong one
    passes the instance schema and fails only when the daemon starts)."""
    from dagster._core.instance.config import dagster_instance_config
    from dagster._serdes.config_class import class_from_code_pointer

    shutil.copy(instance_file, tmp_path / "dagster.yaml")
    coordinator = dagster_instance_config(str(tmp_path))[0]["run_coordinator"]
    coordinator_class = class_from_code_pointer(coordinator["module"], coordinator["class"])
    assert coordinator_class.__name__ == "QueuedRunCoordinator"
    config = _process(coordinator_class.config_type(), coordinator["config"])
    assert config["max_concurrent_runs"] == 4
    assert config["tag_concurrency_limits"] == [
        {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]


def test_the_step_executor_configs_pass_their_schemas(variables):
    from dagster_celery import celery_executor
    from dagster_k8s import k8s_job_executor

    k8s = yaml.safe_load((DEPLOY / "k8s" / "run_config.yaml").read_text(encoding="utf-8"))
    _process(k8s_job_executor.config_schema.config_type, k8s["execution"]["config"])
    celery = yaml.safe_load((DEPLOY / "celery" / "run_config.yaml").read_text(encoding="utf-8"))
    _process(celery_executor.config_schema.config_type, celery["execution"]["config"])


@pytest.mark.parametrize(("attribute", "executor", "run_config"), [
    ("k8s_defs", "k8s", DEPLOY / "k8s" / "run_config.yaml"),
    ("celery_defs", "celery", DEPLOY / "celery" / "run_config.yaml"),
])
def test_the_distributed_code_locations_accept_their_run_config(variables, attribute, executor, run_config):
    """What a code server loads (`-m pipelines.deploy -a ATTRIBUTE`): the project's graph,
    every job on the executor, the run config accepted for a territory's run."""
    import dagster as dg

    import pipelines.deploy

    defs = getattr(pipelines.deploy, attribute)
    job = defs.resolve_job_def("all_demonstrators")
    assert job.executor_def.name == executor
    assert job.partitions_def is not None
    dg.validate_run_config(job, yaml.safe_load(run_config.read_text(encoding="utf-8")))


def test_every_variable_of_the_deploy_files_is_documented():
    documented = (PROJECT_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    names = sorted({name for path in FILES for name in _variables(path)})
    assert "DATACITES_K8S_NAMESPACE" in names and "DATACITES_CELERY_BROKER" in names
    assert [name for name in names if f"`{name}`" not in documented] == []
