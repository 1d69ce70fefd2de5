"""The Dagster code location: `dagster dev -w workspace.yaml` loads `defs`."""

from pipelines.assets.build import build_definitions

defs = build_definitions()
