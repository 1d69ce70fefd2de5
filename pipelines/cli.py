"""The `datacites` command line."""

from __future__ import annotations

import argparse
import hashlib
import sys
import warnings
from pathlib import Path

from pipelines import config
from pipelines.errors import DatacitesError


def _profiles() -> dict[str, object]:
    """The sample generator's profiles by the id of the territory each generates."""
    from pipelines.sample import PROFILES

    return {profile.territory_id: profile for profile in PROFILES.values()}


def cmd_sample(args) -> int:
    from pipelines.sample import get_profile
    from pipelines.sample.cli import main as sample_main

    argv = ["--profile", args.profile, "--scale", str(args.scale)]
    argv += (["--seed", str(args.seed)] if args.seed is not None else []) + (["--out", str(args.out)] if args.out else [])
    rc = sample_main(argv)
    folder = config.SOURCES_DIR / get_profile(args.profile).data_dir
    if rc == 0 and (args.out is None or Path(args.out).resolve() == folder.resolve()):
        (folder / ".generator").write_text(generator_fingerprint())  # `run` will not redo it
    return rc


def generator_fingerprint() -> str:
    """A hash of the sample generator's code: a sample made by other code is stale."""
    package = config.PACKAGE_DIR / "sample"
    digest = hashlib.sha256()
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_sample(scale: float = 1, territory: str = "sample") -> None:
    """Generate a fictional territory's files when missing or made by older generator code."""
    profile = _profiles().get(territory)
    if profile is None:
        return  # not a generated territory: its files are the user's
    folder = config.SOURCES_DIR / profile.data_dir
    stamp = folder / ".generator"
    fingerprint = generator_fingerprint()
    current = (folder / "territory.yaml").exists() and stamp.exists() and stamp.read_text() == fingerprint
    if not current:
        from pipelines.sample import generate_sample

        print(f"generating the fictional territory '{territory}' in {folder} ...", flush=True)
        generate_sample(folder, scale=scale, profile=profile.id)
        stamp.write_text(fingerprint)


def cmd_run(args) -> int:
    from pipelines.catalogue import load_territory
    from pipelines.run import run_all

    ensure_sample(territory=args.territory)
    if load_territory(args.territory).fictional:
        from pipelines.privacy import ensure_sample_key

        ensure_sample_key()  # per-clone key, accepted only for fictional territories
    chosen = getattr(args, "demonstrator", None)
    return 0 if run_all(args.territory, demonstrators=chosen).success else 1


def demo_territories(chosen: str | None) -> list[str]:
    """The territory asked for, or every generated fictional territory that has a card."""
    if chosen:
        return [chosen]
    from pipelines.catalogue import territory_ids

    return [t for t in _profiles() if t in territory_ids()]


def cmd_demo(args) -> int:
    rc = 0
    territories = demo_territories(args.territory)
    for territory in territories:
        print(f"territory '{territory}':", flush=True)
        rc = max(rc, cmd_run(argparse.Namespace(**{**vars(args), "territory": territory})))
    # Once every territory is published: a later one can add links to the earlier's pages.
    for territory in territories:
        site = config.OUTPUTS_DIR / territory / "site"
        if (site / "index.html").exists():
            from pipelines.report import take_screenshots

            shots = take_screenshots(site, config.OUTPUTS_DIR / territory / "screenshots")
            print(f"  {territory}: file://{site / 'index.html'}" + (f" ({len(shots)} screenshots)" if shots else ""))
    if (config.OUTPUTS_DIR / "index.html").exists():
        print(f"\nDemonstrator pages of every territory: {config.OUTPUTS_DIR / 'index.html'}\n"
              f"  open file://{config.OUTPUTS_DIR / 'index.html'}")
    return rc


def cmd_report(args) -> int:
    from pipelines.assets.build import demonstrator_ids
    from pipelines.components.loading import load_demonstrators
    from pipelines.report.territories import publish_territory_site

    folder = config.OUTPUTS_DIR / args.territory
    # the same audited swap as the `site` asset; demonstrators no longer in the project go
    built = publish_territory_site(args.territory, demonstrator_ids(load_demonstrators()))
    print(f"site written to {folder / 'site' / 'index.html'} ({built.pages} pages); "
          f"every territory: {built.index}")
    return 0


def cmd_audit(args) -> int:
    from pipelines.privacy import main_audit

    return main_audit([args.path] if args.path else [])


def cmd_check(args) -> int:
    from pipelines.assets.build import build_assets, check_territories

    valid, problems = check_territories()
    assets, checks = build_assets()
    print(f"{len(assets)} assets and {len(checks)} checks, partitioned by territory "
          f"({', '.join(valid)}); privacy rules hold")
    for problem in problems:
        print(f"datacites: territory left out: {problem}", file=sys.stderr)
    return 2 if problems else 0


def cmd_sources(args) -> int:
    from pipelines.catalogue import load_sources, load_territory, source_path

    territory = load_territory(args.territory)
    for card in load_sources().values():
        path = source_path(card, territory)
        state = "present" if path.exists() else "missing"
        print(f"{card.id:24} {card.sensitivity:9} {card.format:16} {state:8} {card.producer} — {card.licence}")
    return 0


def cmd_new(args) -> int:
    from pipelines.components.scaffold import scaffold_demonstrator

    target = scaffold_demonstrator(config.DEMONSTRATORS_DIR, args.name)
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
    run = sub.add_parser("run", parents=[territory], help="materialise every demonstrator, or those chosen")
    run.add_argument("--demonstrator", action="append", default=None, metavar="ID",
                     help="only this demonstrator (repeatable), with what it reads and the territory's site")
    run.set_defaults(func=cmd_run)
    demo = sub.add_parser("demo", help="generate the fictional territories if missing, run them, print where the "
                                       "pages are")
    demo.add_argument("--territory", default=None, help="one territory only (default: every fictional one)")
    demo.set_defaults(func=cmd_demo)
    sub.add_parser("report", parents=[territory],
                   help="rebuild outputs/<territory>/site from the published tables").set_defaults(func=cmd_report)
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
    # Dagster flags parts of its own API as beta or preview on every run: noise for users.
    warnings.filterwarnings("ignore", message=r".* is currently in (beta|preview)")
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except DatacitesError as exc:
        print(f"datacites: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
