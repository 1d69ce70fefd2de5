"""The rules a demonstrator's id follows (its folder is imported as a Python package)."""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from pipelines.errors import ConfigError

NAME = re.compile(r"^[a-z][a-z0-9_]*$")

# Names a demonstrator cannot take: Python keywords and builtins' modules (its folder is
# imported as a package), and the asset groups and folders of the framework.
RESERVED = set(keyword.kwlist) | {"site", "report", "sources", "comparison", "template", "test", "tests",
                                  "pipelines", "demonstrators", "dagster"}


def check_id(name: str, what: str = "demonstrator name") -> str:
    """`name` if it is a valid demonstrator id, else `ConfigError` saying what to use."""
    if not isinstance(name, str) or not NAME.fullmatch(name) or len(name) > 48:
        raise ConfigError(f"{what} '{name}': use lowercase letters, digits and _, starting with a letter, "
                          "at most 48 characters (for example energy_lyon)")
    if name in RESERVED:
        raise ConfigError(f"{what} '{name}' is reserved (a Python keyword or a name of the framework); "
                          "choose another, for example energy_lyon")
    return name


def check_name(folder: Path, name: str) -> Path:
    """The folder a new demonstrator `name` gets; the name is checked before it becomes a
    path ("../x" must not escape the demonstrators' folder)."""
    check_id(name)
    root = Path(folder).resolve()
    target = (root / name).resolve()
    if target.parent != root:
        raise ConfigError(f"demonstrator name '{name}' would leave {root}; choose a plain name")
    if target.exists() and any(target.iterdir()):
        raise ConfigError(f"{target} already exists; choose another name")
    return target
