"""The `datacites` command line (Typer + Rich).

Exit codes scripts can rely on: 0 done, 1 a run, a check or an audit failed, 2 a user
error (a card, a name, a path, an option). A user error never shows a traceback;
``--debug`` shows it. Heavy modules (Dagster, pandas, the sample generator) are imported
inside the commands, so that ``--help`` answers at once.
"""

from __future__ import annotations

import hashlib
import os
import sys
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipelines import config
from pipelines.errors import DatacitesError

app = typer.Typer(
    name="datacites", no_args_is_help=True, rich_markup_mode="rich", add_completion=False,
    pretty_exceptions_enable=False,  # a bug's traceback stays plain, and never shows local values
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Demonstrators crossing public, private and anonymised personal data for French local authorities.\n\n"
         "Start with [bold]datacites demo[/bold]; a real territory: [bold]datacites territory new[/bold], "
         "[bold]datacites fetch[/bold], [bold]datacites run[/bold].")
territory_app = typer.Typer(no_args_is_help=True, help="Territory cards: create one from the official geography.")
app.add_typer(territory_app, name="territory")

_debug = False
EXIT_FAILED, EXIT_USER = 1, 2

TerritoryOption = Annotated[str, typer.Option("--territory", "-t", help="territory id (sources/territories/<id>.yaml)",
                                              show_default=True)]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"datacites {version('datacites')}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="print the version and exit")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="show the Python traceback of an error")] = False,
) -> None:
    global _debug
    _debug = debug


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    """A Rich table on a terminal; tab-separated lines with a header when piped."""
    if sys.stdout.isatty():
        from rich.table import Table

        table = Table(title=title, show_lines=False)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        _console().print(table)
    else:
        print("\t".join(columns))
        for row in rows:
            print("\t".join(row))


# --- sample territories -----------------------------------------------------------------

def _profiles() -> dict[str, object]:
    """The sample generator's profiles by the id of the territory each generates."""
    from pipelines.sample import PROFILES

    return {profile.territory_id: profile for profile in PROFILES.values()}


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


@app.command()
def sample(
    profile: Annotated[str, typer.Option(help="mainland (Lambert-93, EPSG:3035 grid) or overseas (Martinique-like, "
                                              "EPSG:5490)")] = "mainland",
    scale: Annotated[float, typer.Option(help="size multiplier; 1 = 4 communes, 40 IRIS (mainland)")] = 1.0,
    seed: Annotated[Optional[int], typer.Option(help="random seed (default: the profile's)")] = None,
    out: Annotated[Optional[Path], typer.Option(help="output folder (default: the profile's folder in sources/)")] = None,
) -> None:
    """Generate a FICTIONAL sample territory in the official formats.

    Example: [bold]datacites sample --profile overseas[/bold]
    """
    from pipelines.sample import PROFILES, get_profile
    from pipelines.sample.cli import sample_command

    if profile not in PROFILES:
        raise DatacitesError(f"--profile '{profile}': choose one of {', '.join(PROFILES)}")
    try:
        sample_command(scale, out, seed, profile=profile)
    except ValueError as error:
        raise DatacitesError(str(error)) from None
    folder = config.SOURCES_DIR / get_profile(profile).data_dir
    if out is None or Path(out).resolve() == folder.resolve():
        (folder / ".generator").write_text(generator_fingerprint())  # `run` will not redo it


# --- running ------------------------------------------------------------------------------

def _checked_territory(territory_id: str):
    import re

    from pipelines.catalogue import load_territory
    from pipelines.catalogue.models import IDENTIFIER

    if not re.fullmatch(IDENTIFIER, territory_id):
        raise DatacitesError(f"--territory '{territory_id}': a territory id is lowercase letters, digits and _ "
                             "(the name of its card sources/territories/<id>.yaml)")
    return load_territory(territory_id)


def _run_one(territory: str, demonstrators: list[str] | None, quiet: bool, prefix: str = "",
             force: bool = False) -> bool:
    """Run one territory in this process, showing each step as it ends."""
    from pipelines.progress import set_listener
    from pipelines.run import run_all

    ensure_sample(territory=territory)
    if _checked_territory(territory).fictional:
        from pipelines.privacy import ensure_sample_key

        ensure_sample_key()  # per-clone key, accepted only for fictional territories
    with _progress(quiet, prefix) as listener:
        set_listener(listener)
        try:
            result = run_all(territory, demonstrators=demonstrators, force=force)
            return result is None or result.success  # None: nothing had changed
        finally:
            set_listener(None)


class _progress:
    """A live display of the steps on a terminal; one line per finished step otherwise."""

    def __init__(self, quiet: bool, prefix: str):
        self.quiet, self.prefix, self.live = quiet, prefix, None

    def __enter__(self):
        if self.quiet:
            return None
        if sys.stdout.isatty():
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.live = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=_console(), transient=False)
            self.live.start()
            self.tasks = {}
        return self.show

    def show(self, event) -> None:
        step = event.step.replace("__", "/")
        took = f" ({event.seconds:.1f} s)" if event.seconds is not None else ""
        if self.live is not None:
            if event.kind == "start":
                self.tasks[event.step] = self.live.add_task(f"{self.prefix}{step}", total=1)
            else:
                task = self.tasks.pop(event.step, None)
                mark = "[green]✓[/green]" if event.kind == "done" else "[red]✗[/red]"
                if task is not None:
                    self.live.update(task, description=f"{mark} {self.prefix}{step}{took}", completed=1)
        elif event.kind != "start":
            print(f"{self.prefix}{'done' if event.kind == 'done' else 'failed'} {step}{took}", flush=True)

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.stop()


def _run_in_child(args: tuple) -> bool:
    territory, demonstrators, quiet, force = args
    warnings.filterwarnings("ignore", message=r".* is currently in (beta|preview)")
    try:
        return _run_one(territory, demonstrators, quiet, prefix=f"[{territory}] ", force=force)
    except DatacitesError as exc:
        print(f"datacites: {exc}", file=sys.stderr, flush=True)
        return False


def run_territories(territories: list[str], demonstrators: list[str] | None, jobs: int, quiet: bool,
                    force: bool = False) -> bool:
    """Every territory, one after the other or `jobs` at a time (one process each)."""
    for territory in territories:
        _checked_territory(territory)  # a wrong id fails before anything runs
    if jobs <= 1 or len(territories) == 1:
        results = [_run_one(t, demonstrators, quiet, prefix=f"[{t}] " if len(territories) > 1 else "", force=force)
                   for t in territories]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(_run_in_child, [(t, demonstrators, quiet, force) for t in territories]))
    return all(results)


@app.command()
def run(
    demonstrators: Annotated[Optional[list[str]], typer.Argument(
        help="demonstrators to run (default: all), with the sources they read and the territory's site",
        show_default=False)] = None,
    territory: Annotated[Optional[list[str]], typer.Option(
        "--territory", "-t", help="territory id, repeatable (default: sample)", show_default=False)] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="territories run at once")] = 1,
    demonstrator: Annotated[Optional[list[str]], typer.Option(hidden=True)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only failures and the result")] = False,
    force: Annotated[bool, typer.Option("--force", help="materialise everything chosen, changed or not")] = False,
) -> None:
    """Materialise the chosen demonstrators (all by default) for one or more territories.

    Only what changed since the last run is materialised (a new file, a card, the code):
    nothing at all when nothing changed.

    Examples:

      [bold]datacites run[/bold]  (every demonstrator, territory 'sample')

      [bold]datacites run mobility_access --territory lyon_8e[/bold]

      [bold]datacites run --territory sample --territory overseas_sample --jobs 2[/bold]
    """
    chosen = list(demonstrators or []) + list(demonstrator or [])
    territories = list(territory or [config.DEFAULT_TERRITORY])
    if not run_territories(territories, chosen or None, jobs, quiet, force):
        raise typer.Exit(EXIT_FAILED)


def demo_territories(chosen: str | None) -> list[str]:
    """The territory asked for, or every generated fictional territory that has a card."""
    if chosen:
        return [chosen]
    from pipelines.catalogue import territory_ids

    return [t for t in _profiles() if t in territory_ids()]


@app.command()
def demo(
    territory: Annotated[Optional[str], typer.Option("--territory", "-t",
                                                     help="one territory only (default: every fictional one)")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="also print each step as it ends")] = False,
) -> None:
    """Generate the fictional territories if missing, run them, print where the pages are."""
    territories = demo_territories(territory)
    ok = True
    for one in territories:
        print(f"territory '{one}':", flush=True)
        ok = _run_one(one, None, not verbose) and ok
    # Once every territory is published: a later one can add links to the earlier's pages.
    for one in territories:
        site = config.OUTPUTS_DIR / one / "site"
        if (site / "index.html").exists():
            from pipelines.report import take_screenshots

            shots = take_screenshots(site, config.OUTPUTS_DIR / one / "screenshots")
            print(f"  {one}: file://{site / 'index.html'}" + (f" ({len(shots)} screenshots)" if shots else ""))
    if (config.OUTPUTS_DIR / "index.html").exists():
        print(f"\nDemonstrator pages of every territory: {config.OUTPUTS_DIR / 'index.html'}\n"
              f"  open file://{config.OUTPUTS_DIR / 'index.html'}")
    if not ok:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def report(territory: TerritoryOption = config.DEFAULT_TERRITORY) -> None:
    """Rebuild outputs/<territory>/site from the published tables (audited, swapped in)."""
    from pipelines.assets.build import demonstrator_ids
    from pipelines.components.loading import load_demonstrators
    from pipelines.report.territories import publish_territory_site

    _checked_territory(territory)
    folder = config.OUTPUTS_DIR / territory
    built = publish_territory_site(territory, demonstrator_ids(load_demonstrators()))
    print(f"site written to {folder / 'site' / 'index.html'} ({built.pages} pages); every territory: {built.index}")


@app.command()
def audit(path: Annotated[Optional[Path], typer.Argument(help="folder of outputs (default: outputs/)")] = None) -> None:
    """Disclosure audit of a folder of outputs; exit 1 on a finding."""
    from pipelines.privacy import main_audit

    rc = main_audit([str(path)] if path else [])
    if rc:
        raise typer.Exit(rc)


# --- looking -----------------------------------------------------------------------------

@app.command()
def check() -> None:
    """Validate every card, territory and demonstrator at once, then build the definitions.

    Lists every problem with its file, line and field (exit 2); then the files each
    territory lacks, as notes (`run` needs them, the definitions do not).

    Example: [bold]datacites check[/bold]
    """
    from pipelines.assets.build import build_definitions
    from pipelines.catalogue.validate import check_project
    from pipelines.components.build import check_indicators

    report = check_project(indicators=check_indicators, build=build_definitions)
    for problem in report.problems:
        print(f"datacites: {problem}", file=sys.stderr)
    for warning in report.warnings:
        print(f"note: {warning}")
    if report.problems:
        print(f"{len(report.problems)} problem(s); nothing was run", file=sys.stderr)
        raise typer.Exit(EXIT_USER)
    defs = report.definitions
    print(f"{len(defs.assets or [])} assets and {len(defs.asset_checks or [])} checks, partitioned by territory "
          f"({', '.join(report.territories)}); privacy rules hold")


@app.command()
def sources(territory: TerritoryOption = config.DEFAULT_TERRITORY) -> None:
    """List the source cards, the file each expects for the territory, and its state.

    Example: [bold]datacites sources --territory lyon_8e[/bold]
    """
    from pipelines.catalogue import territory_sources
    from pipelines.catalogue.validate import source_files

    chosen = _checked_territory(territory)
    rows = []
    for item in source_files(chosen, territory_sources(chosen)):
        card, path = item.card, item.path
        shown = path.relative_to(config.SOURCES_DIR) if path.is_relative_to(config.SOURCES_DIR) else path
        rows.append([card.id, card.sensitivity, card.format, item.state, f"sources/{shown}", card.producer,
                     card.licence])
    _table(f"Sources of territory '{territory}'",
           ["source", "sensitivity", "format", "state", "expected file", "producer", "licence"], rows)


@app.command("list")
def list_() -> None:
    """Territories, demonstrators, and what each territory has published."""
    import json

    from pipelines.assets.build import demonstrator_ids
    from pipelines.catalogue import load_territory, territory_ids
    from pipelines.components.loading import load_demonstrators

    rows = []
    for territory_id in territory_ids():
        try:
            territory = load_territory(territory_id)
            name, kind = territory.name, "fictional" if territory.fictional else "real"
        except DatacitesError:
            name, kind = "(card invalid: datacites check)", "?"
        published = []
        for doc in sorted((config.OUTPUTS_DIR / territory_id).glob("*/demonstrator.json")):
            data = json.loads(doc.read_text(encoding="utf-8"))
            published.append(f"{data['id']} ({str(data.get('generated_at', ''))[:10]})")
        rows.append([territory_id, name, kind, ", ".join(published) or "nothing yet"])
    _table("Territories", ["territory", "name", "kind", "published"], rows)
    import yaml

    demos = []
    for demo_id in demonstrator_ids(load_demonstrators()):
        data = yaml.safe_load((config.DEMONSTRATORS_DIR / demo_id / "defs.yaml").read_text(encoding="utf-8"))
        card = data.get("attributes", {})
        demos.append([demo_id, str(card.get("title", "")), str(card.get("theme", "")),
                      "draft" if card.get("draft") else "on the site", ", ".join(card.get("sources", []))])
    _table("Demonstrators", ["demonstrator", "title", "theme", "state", "sources"], demos)


@app.command()
def catalogue(
    territory: TerritoryOption = config.DEFAULT_TERRITORY,
    base_url: Annotated[Optional[str], typer.Option(help="address where outputs/<territory>/ is served (default: "
                                                         "its file:// address)", show_default=False)] = None,
    siret: Annotated[str, typer.Option(help="the local authority's SIRET, for the SCDL catalogue")] = "",
) -> None:
    """Write outputs/<territory>/catalogue/ (DCAT-AP JSON-LD and Turtle, SCDL CSV) and show what a harvester sees.

    Read from the published folders only; checked against the project's DCAT-AP shapes first.

    Example: [bold]datacites catalogue -t sample --base-url https://data.example.fr/sample/[/bold]
    """
    import re

    from pipelines.catalogue.models import IDENTIFIER
    from pipelines.commons.dcat import CatalogueError, build_catalogue, harvester_view, validate_catalogue

    if not re.fullmatch(IDENTIFIER, territory):
        raise DatacitesError(f"--territory '{territory}': a territory id is lowercase letters, digits and _")
    folder = config.OUTPUTS_DIR / territory
    try:
        graph = build_catalogue(folder, base_url)
    except CatalogueError as error:
        print(f"datacites: {error}", file=sys.stderr)
        raise typer.Exit(EXIT_USER) from None
    problems = validate_catalogue(graph)
    if problems:
        for problem in problems:
            print(f"datacites: catalogue: {problem}", file=sys.stderr)
        print(f"{len(problems)} problem(s) against the DCAT-AP shapes; nothing was written", file=sys.stderr)
        raise typer.Exit(EXIT_FAILED)
    from pipelines.commons.dcat import write_catalogue

    written = write_catalogue(folder, base_url, siret=siret)
    lines = harvester_view(graph)
    print(f"{len(lines)} dataset(s) published for territory '{territory}' (dataset: title | licence | distributions)")
    for line in lines:
        print(f"  {line}")
    print("catalogue written: " + ", ".join(str(path) for path in written.values()))
    if not siret:
        print("note: the SCDL catalogue requires COLL_SIRET and PRODUCTEUR_SIRET: pass --siret")


# --- creating ----------------------------------------------------------------------------

@app.command()
def new(
    name: Annotated[str, typer.Argument(help="the new demonstrator's id: lowercase letters, digits and _")],
    from_: Annotated[str, typer.Option("--from", help="demonstrator to copy, _template for an empty one, or a bundle "
                                                      "(.zip) written by `datacites export`")] = "_template",
    territory: Annotated[Optional[str], typer.Option("--territory", "-t",
                                                     help="check the copy can run for this territory")] = None,
    accept_code: Annotated[bool, typer.Option("--accept-code", help="import a bundle whose Python code you have "
                                                                    "read (shown without this flag)")] = False,
) -> None:
    """Create a demonstrator: a copy of another or of a bundle (renamed, marked draft), or of the template.

    Examples:

      [bold]datacites new energy_lyon --from energy_precarity --territory lyon_8e[/bold]

      [bold]datacites new mobility_lyon --from mobility_access.zip[/bold]  (shows the bundle's code, writes nothing)

      [bold]datacites new mobility_lyon --from mobility_access.zip --accept-code[/bold]
    """
    if from_.endswith(".zip") or Path(from_).is_file():
        _new_from_bundle(name, Path(from_), territory, accept_code)
        return
    if accept_code:
        raise DatacitesError("--accept-code is for a bundle (--from path/to/bundle.zip); leave it out")
    from pipelines.components.scaffold import clone_demonstrator, scaffold_demonstrator

    if from_ == "_template":
        target = scaffold_demonstrator(config.DEMONSTRATORS_DIR, name)
    else:
        target = clone_demonstrator(config.DEMONSTRATORS_DIR, from_, name,
                                    territory=_checked_territory(territory) if territory else None)
    run_hint = f"datacites run {name}" + (f" --territory {territory}" if territory else "")
    print(f"new demonstrator in {target} (draft: true keeps it off the officials' site)\n"
          f"next: edit defs.yaml, indicators.yaml and its module, then `datacites check` and `{run_hint}`")


def _new_from_bundle(name: str, bundle: Path, territory: str | None, accept_code: bool) -> None:
    """`new NAME --from bundle.zip`: the bundle checked and shown; imported with --accept-code."""
    from pipelines.commons.bundle import import_bundle

    result = import_bundle(bundle, name, accept_code=accept_code,
                           territory=_checked_territory(territory) if territory else None)
    if not result.accepted:
        print(result.preview())
        return
    run_hint = f"datacites run {name}" + (f" --territory {territory}" if territory else "")
    print(f"{result.summary()}\nnext: `datacites check` and `{run_hint}`")


@app.command()
def export(
    name: Annotated[str, typer.Argument(help="the demonstrator to export")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="the zip to write (default: NAME.zip here)",
                                                show_default=False)] = None,
    with_outputs: Annotated[bool, typer.Option("--with-outputs", help="add what it published for --territory")] = False,
    territory: Annotated[Optional[str], typer.Option("--territory", "-t",
                                                     help="territory whose published outputs to add")] = None,
) -> None:
    """Write a demonstrator as a shareable bundle: its folder, its source cards (never data), a README.

    Another project imports it with [bold]datacites new NAME --from bundle.zip[/bold].

    Example: [bold]datacites export mobility_access --out mobility_access.zip[/bold]
    """
    from pipelines.commons.bundle import export_bundle

    if territory is not None:
        _checked_territory(territory)
    path = export_bundle(name, out or Path(f"{name}.zip"), with_outputs=with_outputs, territory=territory)
    print(f"bundle written to {path} ({path.stat().st_size} bytes)\n"
          f"import it elsewhere: `datacites new NEW_NAME --from {path.name}` shows its code, then add --accept-code")


@territory_app.command("new")
def territory_new(
    territory_id: Annotated[str, typer.Argument(metavar="ID", help="the territory's id (its card's file name)")],
    epci: Annotated[Optional[str], typer.Option(help="SIREN of an EPCI: its member communes")] = None,
    communes: Annotated[Optional[list[str]], typer.Option("--communes", "--commune",
                                                          help="INSEE code of a commune, repeatable")] = None,
    name: Annotated[Optional[str], typer.Option(help="the territory's name (default: the EPCI's or commune's)")] = None,
    arrondissements: Annotated[bool, typer.Option(help="list Paris, Lyon and Marseille by arrondissement")] = False,
    cog: Annotated[Optional[Path], typer.Option(help="folder of the INSEE COG files (communes.json, epci.json, "
                                                     "departements.json)")] = None,
) -> None:
    """Write sources/territories/ID.yaml from the official code list (INSEE COG).

    Examples:

      [bold]datacites territory new rennes --epci 243500139 --cog path/to/cog2026[/bold]

      [bold]datacites territory new lyon8 --communes 69388[/bold]
    """
    from pipelines.onboarding import write_territory_card

    folder = cog or config.CACHE_DIR / "cog"
    path = write_territory_card(folder, config.TERRITORIES_DIR, territory_id, epci=epci,
                                communes=list(communes) if communes else None, name=name,
                                arrondissements=arrondissements)
    print(f"territory card written to {path}\n"
          f"next: `datacites sources --territory {territory_id}` shows the files it expects; "
          f"`datacites fetch --territory {territory_id}` brings the national ones")


@app.command()
def fetch(
    territory: TerritoryOption = config.DEFAULT_TERRITORY,
    source: Annotated[Optional[list[str]], typer.Argument(help="sources to fetch (default: every one with an "
                                                               "address)", show_default=False)] = None,
    mirror: Annotated[Optional[str], typer.Option(help="base URL replacing the producers' hosts (a regional "
                                                       "mirror)")] = None,
    force: Annotated[bool, typer.Option(help="download again even what the cache holds")] = False,
) -> None:
    """Download the national open files a territory needs into sources/cache/<territory>/, cut to it.

    Checksummed and resumable; the addresses live in the source cards (`download:`).
    """
    from pipelines.fetch import describe, fetch_territory

    chosen = _checked_territory(territory)
    results = fetch_territory(territory, list(source) if source else None, mirror=mirror, force=force,
                              progress=sys.stderr.isatty())
    for result in results:
        print(describe(result, config.SOURCES_DIR))
    if chosen.data_dir != f"cache/{territory}":
        print(f"note: territory '{territory}' reads its files from sources/{chosen.data_dir}; to use the fetched "
              f"ones, set `data_dir: cache/{territory}` in its card")


# --- entry point ---------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """Run the command line; return its exit code (user errors: 2, no traceback)."""
    # Dagster flags parts of its own API as beta or preview on every run: noise for users.
    warnings.filterwarnings("ignore", message=r".* is currently in (beta|preview)")
    try:
        app(args=argv, prog_name="datacites")  # usage errors: Typer's message and suggestion, exit 2
        return 0
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else EXIT_USER)
    except DatacitesError as exc:
        if _debug:
            raise
        print(f"datacites: {exc}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print("datacites: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `datacites sources | head`: the reader left, nothing to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
