"""travel_survey: persons and trips files read as one row per trip; errors never echo values."""

from __future__ import annotations

import pytest

from pipelines.connectors import get_connector
from pipelines.errors import SourceError

PERSONS = ("id_personne,id_menage,x_domicile_l93,y_domicile_l93,tranche_age,taille_menage\n"
           "P0101,M01,700100,6600200,25-34,2\n"
           "P0102,M01,700100,6600200,5-10,2\n"
           "P0201,M02,701500,6601000,65-74,1\n")
TRIPS = ("id_personne,id_deplacement,mode,motif,distance_km\n"
         "P0101,1,voiture,travail,12.5\n"
         "P0101,2,voiture,achats,3\n"
         "P0201,1,marche,loisirs,0.8\n")


def read(tmp_path, write, persons=PERSONS, trips=TRIPS, **options):
    write(tmp_path / "personnes.csv", persons)
    write(tmp_path / "deplacements.csv", trips)
    return get_connector("travel_survey")(tmp_path / "personnes.csv", working_crs="EPSG:2154",
                                          trips="deplacements.csv", **options)


def test_one_row_per_trip_with_the_home_of_its_person(tmp_path, write):
    frame = read(tmp_path, write)
    assert frame["id_personne"].tolist() == ["P0101", "P0101", "P0201"]
    assert frame["id_menage"].tolist() == ["M01", "M01", "M02"]
    assert frame["mode"].tolist() == ["voiture", "voiture", "marche"]
    assert frame["distance_km"].tolist() == [12.5, 3.0, 0.8]
    assert frame[["x", "y"]].values.tolist() == [[700100, 6600200]] * 2 + [[701500, 6601000]]
    assert frame["nb_deplacements"].tolist() == [1, 1, 1] and frame["taille_menage"].tolist() == [2, 2, 1]
    assert frame.attrs["crs"] == "EPSG:2154"
    assert (frame.attrs["persons"], frame.attrs["trips"], frame.attrs["persons_without_trips"]) == (3, 3, 1)


def test_home_reprojected_to_the_working_crs(tmp_path, write):
    write(tmp_path / "p.csv", PERSONS)
    write(tmp_path / "t.csv", TRIPS)
    frame = get_connector("travel_survey")(tmp_path / "p.csv", working_crs="EPSG:3035", trips="t.csv")
    assert frame.attrs["crs"] == "EPSG:3035" and 3.5e6 < frame["x"].iloc[0] < 4.5e6


@pytest.mark.parametrize("persons, trips, file, row, column, fragment, secret", [
    (PERSONS, TRIPS.replace("P0201,1,marche", "SECRET9,1,marche"), "deplacements.csv", 4, "id_personne",
     "refers to a person that the persons file does not list", "SECRET9"),
    (PERSONS.replace("P0201,M02", "P0102,M02"), TRIPS, "personnes.csv", 4, "id_personne",
     "listed twice", "P0102"),
    (PERSONS.replace("P0102,M01,700100", "P0102,M01,799999"), TRIPS, "personnes.csv", 3, "x_domicile_l93",
     "lives elsewhere", "799999"),
    (PERSONS, TRIPS.replace("P0101,2,voiture", "P0101,2,"), "deplacements.csv", 3,
     "mode", "mode is empty", None),
    (PERSONS, TRIPS.replace("P0201,1,marche", "P0101,1,marche"), "deplacements.csv", 4, "id_deplacement",
     "listed twice", None),
    (PERSONS.replace("700100,6600200,25-34", "700SECRET,6600200,25-34"), TRIPS, "personnes.csv", 2,
     "x_domicile_l93", "not a number", "700SECRET"),
    (PERSONS, TRIPS.replace("mode,", "moyen,"), "deplacements.csv", 1, "mode",
     "required column is missing", None),
])
def test_bad_inputs_name_file_row_and_column(tmp_path, write, check_error, persons, trips, file, row, column,
                                             fragment, secret):
    with pytest.raises(SourceError) as info:
        read(tmp_path, write, persons=persons, trips=trips)
    check_error(info.value, file=tmp_path / file, row=row, column=column, contains=(fragment,),
                secrets=(secret,) if secret else ())


def test_missing_trips_file(tmp_path, write, check_error):
    write(tmp_path / "personnes.csv", PERSONS)
    with pytest.raises(SourceError) as info:
        get_connector("travel_survey")(tmp_path / "personnes.csv", trips="absent.csv")
    check_error(info.value, file=tmp_path / "absent.csv")


def test_sample_survey_reads(tmp_path):
    from pipelines.sample import generate_sample

    generate_sample(tmp_path, scale=0.05)
    frame = get_connector("travel_survey")(tmp_path / "travel_survey_persons.csv")
    assert len(frame) > 0 and frame["mode"].isin(["voiture", "transports_collectifs", "velo", "marche", "autre"]).all()
    assert frame.groupby("id_menage")[["x", "y"]].nunique().max().max() == 1
