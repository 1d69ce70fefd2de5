"""One asset per step of a demonstrator, each input declared once and checked at load.

A step is a pure function of the demonstrator's module: its inputs are the frames of
the assets `defs.yaml` names, by parameter name, plus the keyword-only `ctx`. The
names in `inputs:` must be exactly the function's parameters: a mismatch fails when
Definitions load, naming the file, the step, the parameter and the fix, instead of a
bare `TypeError` in the middle of a run.
"""


import inspect
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import dagster as dg
import geopandas as gpd

from pipelines.assets.partitions import run_territory, territory_partitions
from pipelines.assets.sensitivity import TAG, highest
from pipelines.assets.sources import describe
from pipelines.catalogue import Demonstrator, StepContext
from pipelines.catalogue.context import lacks_zoning
from pipelines.catalogue.models import Step
from pipelines.components.guard import no_file_access
from pipelines.errors import ConfigError, DatacitesError, StepError


def step_key(demo: Demonstrator, name: str) -> dg.AssetKey:
    return dg.AssetKey([demo.id, name])


def resolve_input(demo: Demonstrator, name: str, ref: str, known: dict[dg.AssetKey, str], yaml_path: Path) -> dg.AssetKey:
    """The asset a step input names: an earlier step, or a source asset."""
    key = step_key(demo, ref) if ref in demo.steps else dg.AssetKey(ref)
    if key not in known:
        sources = ", ".join(sorted(k.to_user_string() for k in known if len(k.path) == 1))
        raise ConfigError(f"{yaml_path}: step '{name}': input '{ref}' is neither an earlier step nor a source "
                          f"asset. Fix: name one of the steps above it or a source asset ({sources})")
    return key


def step_function(module: ModuleType, demo: Demonstrator, name: str, step: Step, yaml_path: Path) -> Callable:
    """The function a step calls, its parameters checked against the step's inputs."""
    module_file = Path(module.__file__).name
    fn = getattr(module, step.function, None)
    if not callable(fn):
        raise ConfigError(f"{yaml_path}: step '{name}' calls '{step.function}', which {module_file} does not "
                          f"define. Fix: define it in {module_file} or correct 'function:'")
    parameters = inspect.signature(fn).parameters
    where = f"{yaml_path}: step '{name}' ({module_file}, {step.function})"
    if "ctx" not in parameters or parameters["ctx"].kind is not inspect.Parameter.KEYWORD_ONLY:
        raise ConfigError(f"{where}: the function takes no keyword-only 'ctx'. Fix: add '*, ctx' to its parameters")
    accepted = {p for p, spec in parameters.items() if p != "ctx" and spec.kind in
                (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}
    required = {p for p in accepted if parameters[p].default is inspect.Parameter.empty}
    unknown, missing = sorted(set(step.inputs) - accepted), sorted(required - set(step.inputs))
    if unknown or missing:
        problems = [f"input '{p}' is not a parameter of {step.function}()" for p in unknown]
        problems += [f"parameter '{p}' has no input" for p in missing]
        raise ConfigError(f"{where}: {'; '.join(problems)} (its parameters: {', '.join(sorted(accepted)) or 'none'}). "
                          "Fix: make the keys of 'inputs:' in defs.yaml the function's parameter names")
    return fn


def step_assets(demo: Demonstrator, module: ModuleType, registry: dict, levels: dict[dg.AssetKey, str],
                yaml_path: Path) -> list[dg.AssetsDefinition]:
    """One asset per step, in the YAML's order, then the summary; `levels` gets theirs."""
    steps = list(demo.steps.items()) + ([("summary", demo.summary)] if demo.summary else [])
    built = []
    for name, step in steps:
        fn = step_function(module, demo, name, step, yaml_path)
        ins = {arg: resolve_input(demo, name, ref, levels, yaml_path) for arg, ref in step.inputs.items()}
        level = highest(levels[key] for key in ins.values())
        levels[step_key(demo, name)] = level
        where = f"{Path(module.__file__).name}, step '{name}' ({step.function})"
        built.append(_step_asset(demo, name, step, fn, registry, ins, level, where))
    return built


def step_context(demo: Demonstrator, registry: dict, context) -> StepContext:
    """The context of a step running for the territory of `context`'s partition."""
    run = run_territory(context)
    ctx = StepContext.build(demo, run.territory, run.sources, registry)
    required = demo.lacking(run.territory)
    if required:
        raise ConfigError(f"territory '{run.territory.id}' declares {required} absent, but demonstrator '{demo.id}' "
                          "needs them. Fix: bring that data, or list it under `optional:` (shared data) or "
                          "`alternatives:` (public data standing in) in the demonstrator's defs.yaml if its code can "
                          "do without it")
    return ctx


def code_error(exc: Exception, demo: Demonstrator, name: str, step: Step, fn: Callable, frames: dict) -> str:
    """The demonstrator, its file and line, the step, the error; for a missing column,
    the columns each input has. Column names only: never a value of the frames."""
    module_file = Path(inspect.getsourcefile(fn) or "?")
    line = next((frame.lineno for frame in reversed(traceback.extract_tb(exc.__traceback__))
                 if Path(frame.filename) == module_file), None)
    where = f"{module_file}" + (f", line {line}" if line else "")
    text = (f"demonstrator '{demo.id}', step '{name}' (function {step.function}), {where}: "
            f"{type(exc).__name__}: {exc}")
    if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str):
        column = exc.args[0]
        columns = {arg: list(frame.columns) for arg, frame in frames.items() if hasattr(frame, "columns")}
        holders = [arg for arg, names in columns.items() if column in names]
        if not holders:
            listed = "; ".join(f"'{arg}': {', '.join(map(str, names)) or 'none'}" for arg, names in columns.items())
            text += f". No input has a column '{column}'; the columns of each input are: {listed}"
    return text


def _step_asset(demo, name, step, fn, registry, ins, level, where) -> dg.AssetsDefinition:
    @dg.asset(key=step_key(demo, name), ins={arg: dg.AssetIn(key) for arg, key in ins.items()},
              group_name=demo.id, kinds=set(step.kinds), tags={TAG: level}, description=step.description,
              partitions_def=territory_partitions())
    def _step(context: dg.AssetExecutionContext, **frames):
        ctx = step_context(demo, registry, context)
        if lacks_zoning(ctx.territory, step.zoning):
            # no zones of that kind in this territory (e.g. no IRIS): the table is not published
            context.add_output_metadata({"skipped": f"territory has no {step.zoning} zoning", "rows": 0})
            return gpd.GeoDataFrame()
        try:
            with no_file_access(f"demonstrators/{demo.id}/{where}"):
                result = fn(**frames, ctx=ctx)
        except DatacitesError:
            raise
        except Exception as exc:  # a bug in the demonstrator's code: say where, and what it had
            raise StepError(code_error(exc, demo, name, step, fn, frames)) from exc
        if isinstance(result, dict):
            context.add_output_metadata({"keys": ", ".join(map(str, result)), "sensitivity": level})
        else:
            context.add_output_metadata(describe(result, level))
        return result

    return _step
