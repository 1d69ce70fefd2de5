"""The sample territory's files read through the same connectors as real downloads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipelines.connectors import get_connector
from pipelines.connectors.dvf import mutations
from pipelines.sample import generate_sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    return folder, generate_sample(folder)


def read(folder: Path, connector: str, name: str, **options):
    return get_connector(connector)(folder / name, working_crs="EPSG:2154", **options)


def test_zonings_share_the_territory_codes(sample):
    folder, summary = sample
    communes_declared = {c["code"] for c in yaml.safe_load((folder / "territory.yaml").read_text(
        encoding="utf-8"))["communes"]}
    communes = read(folder, "communes", "communes.gpkg")
    iris = read(folder, "iris", "contours_iris.gpkg")
    assert set(communes["code_commune"]) == communes_declared and len(communes) == summary.communes
    assert len(iris) == summary.iris and set(iris["code_commune"]) == communes_declared
    assert communes.crs.to_epsg() == iris.crs.to_epsg() == 2154
    cells = read(folder, "filosofi_grid", "filosofi_200m.gpkg")
    assert len(cells) == summary.grid_cells and cells.crs.to_epsg() == 3035
    assert cells["ind"].sum() == pytest.approx(summary.inhabitants, rel=0.01)
    per_iris = read(folder, "filosofi_zones", "filosofi_iris.csv")
    assert set(per_iris["code_iris"]) <= set(iris["code_iris"])


def test_points_sources_match_the_generator_counts(sample):
    folder, summary = sample
    dpe = read(folder, "dpe", "dpe_logements_existants.csv")
    assert len(dpe) == summary.dpe_rows and dpe["etiquette_dpe"].isin(list("ABCDEFG")).all()
    dvf = read(folder, "dvf", "dvf.csv")
    assert len(mutations(dvf)) == summary.dvf_mutations
    assert len(dvf) + dvf.attrs["duplicate_rows"] == summary.dvf_rows
    rpls = read(folder, "rpls", "rpls.csv")
    assert len(rpls) == summary.rpls_buildings and rpls["nb_logements"].sum() == summary.social_dwellings
    assert len(read(folder, "lovac", "lovac.csv")) == summary.lovac_communes
    meters = read(folder, "point_csv", "smart_meter_readings.csv",
                  columns={"numero_compteur": "text", "mois": "month", "conso_kwh": "float"},
                  x="x_l93", y="y_l93", crs="EPSG:2154")
    assert len(meters) == summary.meter_rows
    assert meters["numero_compteur"].str.fullmatch(r"\d{14}").all()


def test_gtfs_sample_has_departures_on_its_typical_weekday(sample):
    folder, summary = sample
    stops = read(folder, "gtfs", "gtfs_bus.zip")
    assert 0 < len(stops) <= summary.gtfs_stops
    assert stops["departures"].sum() > summary.gtfs_trips  # every trip leaves several stops
