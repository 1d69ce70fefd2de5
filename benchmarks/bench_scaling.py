"""Time and peak memory of `datacites run --force` for 1, 4 and 16 sample territories,
one after the other (`--jobs 1`) and in parallel (`--jobs 2`, one process per territory).

    .venv/bin/python benchmarks/bench_scaling.py [--sizes 1 4 16] [--jobs 1 2] [--quick]

In a scratch project: the sample territory is generated once, and each benchmark
territory `bench_NN` is a copy of its card (`sources/territories/sample.yaml`) with its
own id and name, reading the same files (`data_dir: sample`): every territory runs the
whole pipeline (its own store, staging, publication and site), the cost of the files'
generation aside. Before each measurement `outputs/` is emptied, so that a size does not
publish beside the territories of the previous one (the comparison pages grow with them).

Memory: "max process" is the peak RSS of the largest process of the run (the kernel's
ru_maxrss of the run and its reaped children, from wait4); "sum" the largest total of
the process tree, sampled every 0.2 s from /proc, in proportional set size (PSS: a page
shared by processes counts once in the total; RSS where /proc has no smaps_rollup). The
load average before each measurement is printed beside it: on a busy machine the times
say little. Never asserted: figures only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from tests_support import BIN, run_cli, scratch_project  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_EVERY = 0.2


def make_territories(root: Path, count: int) -> list[str]:
    """`bench_01` ... : copies of the sample card under their own id, on the sample's files."""
    card = (root / "sources" / "territories" / "sample.yaml").read_text(encoding="utf-8")
    ids = []
    for number in range(1, count + 1):
        territory = f"bench_{number:02d}"
        text = card.replace("\nid: sample\n", f"\nid: {territory}\n").replace(
            "Fictiville (territoire fictif)", f"Fictiville {number} (territoire fictif)")
        assert f"id: {territory}" in text and "data_dir: sample" in text, "sample.yaml changed: adapt the copy"
        (root / "sources" / "territories" / f"{territory}.yaml").write_text(text, encoding="utf-8")
        ids.append(territory)
    return ids


def memory(pid: int) -> int:
    """Proportional set size of a process in bytes (shared pages split between the
    processes sharing them: a `tail` Dagster forks does not count its parent twice), or its
    RSS where the kernel gives no smaps_rollup; 0 for a process gone meanwhile."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm", encoding="utf-8") as handle:
            return int(handle.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


def tree_memory(root_pid: int) -> int:
    """Total memory in bytes of `root_pid` and its descendants (see `memory`)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        todo += parents.get(pid, [])
        total += memory(pid)
    return total


def measure(args: list[str], env: dict, root: Path) -> tuple[float, float, float]:
    """Wall seconds, peak RSS of the largest process (MB) and peak total of the tree (MB)."""
    start = time.perf_counter()
    process = subprocess.Popen([str(BIN / "datacites"), *args], env=env, cwd=root,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_sum = 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        peak_sum = max(peak_sum, tree_memory(process.pid))
        time.sleep(SAMPLE_EVERY)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode("utf-8", "replace")
    if process.returncode != 0:
        sys.exit(f"datacites {' '.join(args)} failed ({process.returncode}):\n{errors[-4000:]}")
    return wall, usage.ru_maxrss / 1024, peak_sum / 2**20  # ru_maxrss is in KiB on Linux


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16], help="numbers of territories")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="--jobs values (1: sequential)")
    parser.add_argument("--quick", action="store_true", help="1 and 2 territories only")
    options = parser.parse_args(argv)
    sizes = [1, 2] if options.quick else options.sizes
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        env = scratch_project(root)
        run_cli(["sample"], env, root)
        territories = make_territories(root, max(sizes))
        run_cli(["run", "-q", "-t", territories[0]], env, root)  # warm-up: Dagster's storage, the store
        for size in sizes:
            chosen = [arg for t in territories[:size] for arg in ("-t", t)]
            for jobs in sorted({min(j, size) for j in options.jobs}):
                shutil.rmtree(root / "outputs", ignore_errors=True)
                load = os.getloadavg()[0]
                wall, largest, total = measure(["run", "-q", "--force", "--jobs", str(jobs), *chosen], env, root)
                mode = "sequential" if jobs == 1 else f"--jobs {jobs}"
                rows.append((size, mode, wall, wall / size, largest, total, load))
                print(f"  {size:>2} territories, {mode}: {wall:.1f} s", file=sys.stderr, flush=True)
    print(f"sample territories (every demonstrator, --force), {os.cpu_count()} cores")
    print(f"{'territories':>11} | {'mode':<10} | {'wall s':>7} | {'s per territory':>15} | "
          f"{'peak RSS MB (max process)':>25} | {'sum RSS MB (PSS)':>16} | {'load before':>11}")
    for size, mode, wall, per, largest, total, load in rows:
        print(f"{size:>11} | {mode:<10} | {wall:7.1f} | {per:15.1f} | {largest:25.0f} | {total:16.0f} | {load:11.1f}")


if __name__ == "__main__":
    main()
