"""Print the officials' site's build time and size for a published outputs folder.

Usage::

    python benchmarks/bench_site.py                  # outputs/ of this clone
    python benchmarks/bench_site.py path/to/outputs --repeat 5
    python benchmarks/bench_site.py --fixture        # the tiny fixture of tests/report

The site is built into a temporary folder (``--site`` to choose one), so the
``outputs/site`` of a demo run is left alone.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.config import OUTPUTS_DIR  # noqa: E402
from pipelines.report.site import build_site, folder_size  # noqa: E402

FIXTURE = ROOT / "tests" / "report" / "conftest.py"


def write_fixture(folder: Path) -> Path:
    """Write the report tests' fixture (two demonstrators, six IRIS) under ``folder``."""
    spec = importlib.util.spec_from_file_location("report_fixture", FIXTURE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    outputs = folder / "outputs"
    module.write_outputs(outputs)
    return outputs


def measure(outputs: Path, site: Path, repeat: int) -> tuple[list[float], object]:
    """Build the site ``repeat`` times; return the wall-clock times and the last summary."""
    times, summary = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        summary = build_site(outputs, site)
        times.append(time.perf_counter() - start)
    return times, summary


def report(times: list[float], summary, outputs: Path) -> None:
    """Print the figures, one per line."""
    mb = 1e6
    site = summary.site_dir
    pages = sum(p.stat().st_size for p in summary.pages)
    print(f"outputs:            {outputs}")
    print(f"demonstrators:      {len(summary.demonstrators)} ({', '.join(summary.demonstrators)})")
    print(f"build time:         min {min(times):.3f} s, median {statistics.median(times):.3f} s "
          f"over {len(times)} run(s)")
    print(f"site size:          {summary.size_bytes / mb:.2f} MB in {sum(1 for p in site.rglob('*') if p.is_file())} files")
    print(f"  plotly.min.js:    {(site / 'assets' / 'plotly.min.js').stat().st_size / mb:.2f} MB (once)")
    print(f"  HTML pages:       {pages / mb:.3f} MB in {len(summary.pages)} pages "
          f"(largest {max(p.stat().st_size for p in summary.pages) / 1e3:.0f} kB)")
    print(f"  downloads:        {folder_size(site / 'downloads') / mb:.2f} MB")
    for warning in summary.warnings:
        print(f"warning: {warning}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outputs", nargs="?", type=Path, default=OUTPUTS_DIR)
    parser.add_argument("--site", type=Path, help="where to build (default: a temporary folder)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fixture", action="store_true", help="measure on the tests' tiny fixture")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_site_") as tmp:
        outputs = write_fixture(Path(tmp)) if args.fixture else args.outputs
        if not any(outputs.glob("*/demonstrator.json")):
            print(f"{outputs}: no */demonstrator.json; run `make demo` first, or pass --fixture.")
            return 1
        times, summary = measure(outputs, args.site or Path(tmp) / "site", args.repeat)
        report(times, summary, outputs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
