"""Loading `demonstrators/` with Dagster's own component loader."""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import sys
import warnings
from pathlib import Path
from types import ModuleType

import dagster as dg
from pydantic import ValidationError

from pipelines import config
from pipelines.errors import ConfigError, DatacitesError

PROJECT_DIR = config.PACKAGE_DIR.parent  # where pyproject.toml's [tool.dg] names `demonstrators`


def load_demonstrators(folder: Path | None = None) -> dg.Definitions:
    """Every demonstrator component of `folder` (default: the configured one).

    The clone's own `demonstrators/` is the project's defs module, loaded as `dg` loads
    it; another folder (a team's, a scratch copy) is imported as a package of its own
    and handed to the same loader.
    """
    folder = Path(folder or config.DEMONSTRATORS_DIR).resolve()
    try:
        with warnings.catch_warnings():
            # Dagster flags parts of its own loader as preview or beta: noise for our users.
            warnings.simplefilter("ignore", category=dg.PreviewWarning)
            warnings.simplefilter("ignore", category=dg.BetaWarning)
            return _load(folder)
    except DatacitesError:
        raise
    except Exception as exc:
        # Dagster wraps our errors in its own, whose message is a tree of the folder:
        # show the one that names the file and the fix.
        cause = _our_cause(exc)
        if cause is None:
            raise
        raise cause from None


def _load(folder: Path) -> dg.Definitions:
    if folder == (PROJECT_DIR / "demonstrators").resolve():
        return dg.load_from_defs_folder(path_within_project=PROJECT_DIR)
    module = _import_folder(folder)
    return dg.ComponentTree(defs_module=module, project_root=folder.parent, code_location_name="datacites").build_defs()


def _our_cause(exc: BaseException) -> DatacitesError | None:
    """Our error behind Dagster's, or its schema validation turned into one (with the
    file and line Dagster attaches to each field)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, DatacitesError):
            return exc
        if isinstance(exc, ValidationError):
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_input=False))
            return ConfigError(f"{problems}. Fix: correct the attribute in defs.yaml (`dg check defs` shows the lines)")
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _import_folder(folder: Path) -> ModuleType:
    """`folder` as a package named after its path, so two folders never share modules."""
    name = "datacites_demonstrators_" + hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = [str(folder)]
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    return module
