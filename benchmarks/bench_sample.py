"""Time the sample generator and report its peak memory at a given scale.

Usage::

    python benchmarks/bench_sample.py --scale 10
    python benchmarks/bench_sample.py --scale 834 --out /big/disk/sample   # ~10 M DPE rows

Prints the time of each step, the total, the peak resident memory of the process
and the size of every file. Output goes to ``benchmarks/_work/`` (ignored by git)
unless ``--out`` is given; ``--clean`` deletes it afterwards.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.sample import generate_sample  # noqa: E402


def peak_rss_mib() -> float:
    """Peak resident set size of this process, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--clean", action="store_true", help="delete the output afterwards")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "benchmarks" / "_work" / f"sample_scale_{args.scale:g}"
    start = time.perf_counter()
    summary = generate_sample(out, scale=args.scale, seed=args.seed)
    total = time.perf_counter() - start
    print(summary.describe())
    print("\nseconds per step:")
    for step, seconds in summary.seconds.items():
        print(f"  {step:<12} {seconds:>9.2f}")
    print(f"  {'wall total':<12} {total:>9.2f}")
    print(f"\npeak resident memory: {peak_rss_mib():,.0f} MiB")
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir())}
    print(f"files: {sum(sizes.values()) / 2**20:,.1f} MiB in {out}")
    for name, size in sizes.items():
        print(f"  {name:<32} {size / 2**20:>10.1f} MiB")
    if args.clean:
        shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
