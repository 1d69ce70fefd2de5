"""The `datacites` command line."""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from pathlib import Path

from pipelines import config
from pipelines.errors import DatacitesError


def cmd_sample(args) -> int:
    from pipelines.sample.cli import main as sample_main

    argv = ["--scale", str(args.scale), "--seed", str(args.seed)] + (["--out", str(args.out)] if args.out else [])
    rc = sample_main(argv)
    if rc == 0 and (args.out is None or Path(args.out).resolve() == config.SAMPLE_DIR.resolve()):
        (config.SAMPLE_DIR / ".generator").write_text(generator_fingerprint())  # `run` will not redo it
    return rc


def generator_fingerprint() -> str:
    """A hash of the sample generator's code: a sample made by other code is stale."""
    package = config.PACKAGE_DIR / "sample"
    digest = hashlib.sha256()
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_sample(scale: float = 1) -> None:
    """Generate the sample territory when its files are missing or were made by older code."""
    stamp = config.SAMPLE_DIR / ".generator"
    fingerprint = generator_fingerprint()
    current = (config.SAMPLE_DIR / "territory.yaml").exists() and stamp.exists() and stamp.read_text() == fingerprint
    if not current:
        from pipelines.sample import generate_sample

        print(f"generating the sample territory in {config.SAMPLE_DIR} ...", flush=True)
        generate_sample(config.SAMPLE_DIR, scale=scale)
        stamp.write_text(fingerprint)


def cmd_run(args) -> int:
    from pipelines.catalogue import load_territory
    from pipelines.run import run_all

    if args.territory == "sample":
        ensure_sample()
    if load_territory(args.territory).fictional:
        from pipelines.privacy import ensure_sample_key

        ensure_sample_key()  # per-clone key, accepted only for fictional territories
    return 0 if run_all(args.territory).success else 1


def cmd_demo(args) -> int:
    rc = cmd_run(args)
    index = config.SITE_DIR / "index.html"
    if rc == 0 and index.exists():
        from pipelines.report import take_screenshots

        shots = take_screenshots(config.SITE_DIR, config.OUTPUTS_DIR / "screenshots")
        print(f"\nDemonstrator pages: {index}\n  open file://{index}")
        if shots:
            print(f"  screenshots: {config.OUTPUTS_DIR / 'screenshots'} ({len(shots)} pages)")
    return rc


def cmd_report(args) -> int:
    from pipelines.privacy.publish import publish
    from pipelines.report import build_site

    built = []  # the same audited swap as the pipeline's `site` asset
    publish(lambda folder: built.append(build_site(config.OUTPUTS_DIR, folder)), config.SITE_DIR)
    print(f"site written to {config.SITE_DIR / 'index.html'} ({len(built[0].pages)} pages)")
    return 0


def cmd_audit(args) -> int:
    from pipelines.privacy import main_audit

    return main_audit([args.path] if args.path else [])


def cmd_check(args) -> int:
    from pipelines.assets.build import build_assets

    assets, checks = build_assets(args.territory)
    print(f"territory '{args.territory}': {len(assets)} assets and {len(checks)} checks; privacy rules hold")
    return 0


def cmd_sources(args) -> int:
    from pipelines.catalogue import load_sources, load_territory, source_path

    territory = load_territory(args.territory)
    for card in load_sources().values():
        path = source_path(card, territory)
        state = "present" if path.exists() else "missing"
        print(f"{card.id:24} {card.sensitivity:9} {card.format:16} {state:8} {card.producer} — {card.licence}")
    return 0


def cmd_new(args) -> int:
    # The name is checked before it becomes a path: "../x" must not escape demonstrators/.
    if not re.fullmatch(r"[a-z][a-z0-9_]*", args.name):
        raise DatacitesError(f"demonstrator name '{args.name}': use lowercase letters, digits and _ "
                             "(for example energy_lyon)")
    from pipelines.components.scaffold import scaffold_demonstrator

    target = scaffold_demonstrator(config.DEMONSTRATORS_DIR / args.name)
    print(f"new demonstrator in {target}: edit defs.yaml, indicators.yaml and demonstrator.py, "
          "then `datacites check`")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="datacites", description="Demonstrators crossing public, private and personal data.")
    sub = p.add_subparsers(dest="command", required=True)
    territory = argparse.ArgumentParser(add_help=False)
    territory.add_argument("--territory", default=config.DEFAULT_TERRITORY, help="territory id (sources/territories/<id>.yaml)")
    from pipelines.sample.cli import add_arguments

    add_arguments(sub.add_parser("sample", help="generate the fictional sample territory")).set_defaults(func=cmd_sample)
    sub.add_parser("run", parents=[territory], help="materialise every demonstrator").set_defaults(func=cmd_run)
    sub.add_parser("demo", parents=[territory],
                   help="sample if missing, run, print where the pages are").set_defaults(func=cmd_demo)
    sub.add_parser("report", help="rebuild outputs/site from the published tables").set_defaults(func=cmd_report)
    a = sub.add_parser("audit", help="disclosure audit of a folder of outputs; exit 1 on a finding")
    a.add_argument("path", nargs="?", default=None)
    a.set_defaults(func=cmd_audit)
    sub.add_parser("check", parents=[territory], help="load every card and verify the privacy rules").set_defaults(func=cmd_check)
    sub.add_parser("sources", parents=[territory], help="list the source cards and their files").set_defaults(func=cmd_sources)
    n = sub.add_parser("new", help="copy demonstrators/_template to a new demonstrator")
    n.add_argument("name")
    n.set_defaults(func=cmd_new)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except DatacitesError as exc:
        print(f"datacites: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
