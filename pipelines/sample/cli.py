"""Command-line face of the generator:
``datacites sample [--profile mainland|overseas] [--scale S] [--out DIR] [--seed N]``.

The project's CLI wires its ``sample`` sub-command to :func:`sample_command` (or adds
:func:`add_arguments` to its own parser); ``python -m pipelines.sample`` runs it alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .generator import SampleSummary, generate_sample
from .profiles import PROFILES, get_profile
from .territory import MAX_SCALE


def sample_command(scale: float = 1.0, out: Path | str | None = None, seed: int | None = None,
                   *, profile: str = "mainland", quiet: bool = False) -> SampleSummary:
    """Generate a sample territory into ``out`` and print a summary.

    Parameters
    ----------
    scale : float, default 1
    out : Path or str, optional
        Output folder; default the profile's data folder under ``sources/``
        (``config.SAMPLE_DIR`` for the mainland, ``sources/overseas_sample`` overseas).
    seed : int, optional
        Default: the profile's (20261128 for the mainland).
    profile : {"mainland", "overseas"}, default "mainland"
    quiet : bool
        Do not print the summary.

    Returns
    -------
    SampleSummary
    """
    chosen = get_profile(profile)
    if out is None:
        from pipelines import config
        out = config.SAMPLE_DIR if chosen.id == "mainland" else config.SOURCES_DIR / chosen.data_dir
    summary = generate_sample(Path(out), scale=scale, seed=seed, profile=chosen)
    if not quiet:
        print(summary.describe())
    return summary


def _seed(text: str) -> int | None:
    """An integer seed; ``None`` (what a caller forwarding an unset seed writes) means
    the profile's own."""
    if text.strip() in ("", "None"):
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be an integer, got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--profile``, ``--scale``, ``--out`` and ``--seed`` to a parser (or sub-parser)."""
    parser.add_argument("--profile", choices=tuple(PROFILES), default="mainland",
                        help="which fictional territory: mainland (Lambert-93, EPSG:3035 grid) or "
                             "overseas (modelled on Martinique: EPSG:5490 for coordinates and grid)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help=f"size multiplier in (0, {MAX_SCALE:g}]; 1 = 4 communes, 40 IRIS, 28,000 households "
                             "(mainland) or 3 communes, 24 IRIS, 17,000 households (overseas)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: sources/sample, or sources/overseas_sample for overseas)")
    parser.add_argument("--seed", type=_seed, default=None,
                        help="random seed, same seed same bytes (default: the profile's, "
                             + ", ".join(f"{p.seed} {p.id}" for p in PROFILES.values()) + ")")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, generate, print the summary; return the exit code."""
    parser = add_arguments(argparse.ArgumentParser(
        prog="datacites sample", description="Generate a FICTIONAL sample territory in official formats."))
    args = parser.parse_args(argv)
    try:
        sample_command(args.scale, args.out, args.seed, profile=args.profile)
    except ValueError as error:
        print(f"datacites sample: {error}", file=sys.stderr)
        return 2
    return 0
