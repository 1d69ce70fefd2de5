"""Cold, warm and one-source-changed runs of the sample territory, in a scratch project,
beside what a user would otherwise do (rerun everything: `--force`), with the ratios.

    .venv/bin/python benchmarks/bench_reruns.py

Never asserted: `tests/test_reruns.py` checks *what* reruns; this prints how long.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from tests_support import run_cli, scratch_project  # noqa: E402


def timed(args: list[str], env: dict, root: Path) -> float:
    start = time.perf_counter()
    run_cli(args, env, root)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        env = scratch_project(root)
        run_cli(["sample"], env, root)
        cold = timed(["run", "-q"], env, root)
        warm = timed(["run", "-q"], env, root)
        with open(root / "sources" / "sample" / "lovac.csv", "a", encoding="utf-8") as handle:
            handle.write("\n")  # the same data, a new file
        changed = timed(["run", "-q"], env, root)
        forced = timed(["run", "-q", "--force"], env, root)
    print("sample territory, every demonstrator (s)")
    print(f"  cold (empty store)           {cold:6.1f}")
    print(f"  warm (nothing changed)       {warm:6.1f}   {forced / warm:5.1f}x faster than rerunning everything")
    print(f"  one source changed (LOVAC)   {changed:6.1f}   {forced / changed:5.1f}x faster than rerunning everything")
    print(f"  everything again (--force)   {forced:6.1f}")


if __name__ == "__main__":
    main()
