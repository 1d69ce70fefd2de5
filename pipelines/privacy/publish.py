"""Publish a folder only once it passes the disclosure audit, by swapping it into place.

The new content is built in a fresh staging folder beside the target (same filesystem,
so the swap is a rename, not a copy), audited, and then:

1. the published target is renamed to ``.<name>.publish-backup``;
2. the staging folder is renamed to the target;
3. the backup is deleted.

Between 1 and 2 (two renames, microseconds) the target does not exist. A crash there
leaves the backup and the staging folder: the next :func:`publish` (or
:func:`recover`) renames the backup back, so readers see the last audited publication,
and removes staging folders left by crashed runs (once an hour old, so as not to touch
a publication running in parallel). A crash after 2 leaves only a stale backup,
deleted next time. A failed build or audit leaves the target untouched, byte for byte.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pipelines.errors import PrivacyError
from pipelines.privacy.audit import Finding, audit_outputs

MAX_LISTED = 50
STALE_STAGING_SECONDS = 3600


@dataclass(frozen=True)
class PublishResult:
    """What was published: the target folder and the number of files in it."""

    target: Path
    files: int


def publish(build: Callable[[Path], None], target: str | Path, *,
            audit: Callable[[Path], list[Finding]] = audit_outputs) -> PublishResult:
    """Build into a staging folder, audit it, and swap it into `target` if clean.

    Parameters
    ----------
    build : callable
        ``build(staging_dir)`` writes everything to publish into the (empty) folder.
    target : str or Path
        Folder to replace, e.g. ``outputs/<demonstrator>``.
    audit : callable, default :func:`audit_outputs`
        Returns findings for a folder; any finding blocks the publication.

    Returns
    -------
    PublishResult

    Raises
    ------
    PrivacyError
        When the audit finds anything; the message lists the findings (table, zone, rule;
        no values) and `target` is left exactly as it was.
    """
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.publish-staging-", dir=target.parent))
    try:
        build(staging)
        _checkpoint("built")
        findings = audit(staging)
        if findings:
            raise PrivacyError(_refusal(target, findings))
        _checkpoint("audited")
        _swap(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return PublishResult(target, sum(1 for p in target.rglob("*") if p.is_file()))


def recover(target: str | Path) -> None:
    """Finish or undo a swap interrupted by a crash (see the module docstring)."""
    target = Path(target).absolute()
    backup = _backup(target)
    if backup.exists():
        if target.exists():
            shutil.rmtree(backup)        # crash after the swap: the backup is stale
        else:
            os.rename(backup, target)    # crash mid-swap: restore the last publication
    # Staging folders of crashed runs hold unaudited files: remove them, but only once they
    # are old enough not to belong to a publication running right now.
    for leftover in target.parent.glob(f".{target.name}.publish-staging-*"):
        if time.time() - leftover.stat().st_mtime > STALE_STAGING_SECONDS:
            shutil.rmtree(leftover, ignore_errors=True)


def _backup(target: Path) -> Path:
    return target.with_name(f".{target.name}.publish-backup")


def _swap(staging: Path, target: Path) -> None:
    backup = _backup(target)
    if target.exists():
        os.rename(target, backup)
        _checkpoint("set_aside")
    try:
        os.rename(staging, target)
    except BaseException:
        if backup.exists() and not target.exists():
            os.rename(backup, target)
        raise
    _checkpoint("swapped")
    if backup.exists():
        shutil.rmtree(backup)


KILL_ENV = "DATACITES_KILL_AT"


def _checkpoint(name: str) -> None:
    """Fault injection for the crash tests: SIGKILL this process at the named step of a
    publication when `DATACITES_KILL_AT` names it (never set outside tests)."""
    if os.environ.get(KILL_ENV) == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def clean_leftovers(folder: str | Path) -> list[Path]:
    """What killed publications left in `folder` (one territory's outputs): interrupted
    swaps finished or undone, staging folders removed at once. Only for a caller that
    holds the territory's lock, so no publication is running there."""
    folder = Path(folder)
    removed = []
    for backup in sorted(folder.glob(".*.publish-backup")):
        recover(folder / backup.name[1:-len(".publish-backup")])
        removed.append(backup)
    # Staging folders, and demonstrators the site set aside as no longer in the project
    # (`report.territories.set_aside_stale`: deleted once the site is built).
    for leftover in sorted([*folder.glob(".*.publish-staging-*"), *folder.glob(".*.stale-*")]):
        shutil.rmtree(leftover, ignore_errors=True)
        removed.append(leftover)
    return removed


def _refusal(target: Path, findings: list[Finding]) -> str:
    lines = [f"nothing was published to {target}: the disclosure audit found {len(findings)} problem(s); "
             "what was published before is unchanged."]
    lines += [f"  - {f}" for f in findings[:MAX_LISTED]]
    if len(findings) > MAX_LISTED:
        lines.append(f"  ... and {len(findings) - MAX_LISTED} more (run `datacites audit` on the build)")
    return "\n".join(lines)
