"""Identifier detectors: what they catch, what they leave alone, and that they never echo."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.privacy.identifiers import find_identifiers, numeric_identifiers, redact


def kinds(text: str) -> set[str]:
    return {kind for kind, _ in find_identifiers(text)}


@pytest.mark.parametrize("text, kind", [
    ("numero_compteur,conso\n14012345678901,350.5", "meter_number"),
    ('{"hovertext": "PDL 04263918226541"}', "meter_number"),
    ("1 85 05 78 006 084 36", "nir"),
    ("185057800608436", "nir"),
    ("2850578006084", "nir"),
    ("jean.dupont@example.fr", "email"),
    ("06 12 34 56 78", "phone"),
    ("06.12.34.56.78", "phone"),
    ("+33 6 12 34 56 78", "phone"),
    ("+33 (0)6 12 34 56 78", "phone"),
    ("export_14012345678901.csv", "meter_number"),
    # a keyed pseudonym (HMAC-SHA256), an unkeyed SHA-256 and an MD5 of a meter number
    ("statut,a4f0e1c29b7d3e8f5a6b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f", "digest"),
    ("9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08", "digest"),
    ('"hovertext": "e99a18c428cb38d5f260853678922e03"', "digest"),
    ("12 rue des Lilas, 69008 Lyon", "address"),
    ("3 bis Avenue Jean Jaurès", "address"),
    ("statut: logement au 104, boulevard de la Croix-Rousse", "address"),
    ("5 place d'Arsonval", "address"),
])
def test_identifiers_are_found(text, kind):
    assert kind in kinds(text)


@pytest.mark.parametrize("text", [
    "000010101", "00001", "CRS3035RES200mN2625200E3462200", "3.14159265358979", "0.0612345678",
    "1234567.891", "x=700000.5,y=6600000.25", "00000000000000", "0123456789abcdef", "2024-01-15",
    "12345678901234.5", "@media screen", "ratio 0.85",
    "#1f77b4", "plotly 1f77b4ae-12ab-45cd-89ef-0123456789ab", "à moins de 400 m d'un arrêt", "Lyon 8e Arrondissement",
    "27 IRIS, 6,8 km²", "de 5,0 % (Bourg) à 35,0 % (Centre)", "2 rues piétonnes",
])
def test_ordinary_values_are_left_alone(text):
    assert kinds(text) == set()


def test_numbers_stored_as_numbers():
    assert numeric_identifiers(np.array([14012345678901.0, 2.5, 11.0])) == {"meter_number"}
    assert numeric_identifiers([30, 55, 145, np.nan]) == set()


def test_offsets_not_values_are_reported_and_redaction_masks():
    text = "a 14012345678901 b"
    assert list(find_identifiers(text)) == [("meter_number", 2)]
    assert redact(text) == "a [identifiant] b"


def test_plotly_bundle_holds_no_identifier_but_its_licence_email():
    import plotly.offline  # the scan's speed: benchmarks/bench_hot_paths.py

    found = kinds(plotly.offline.get_plotlyjs())
    # only its licence banner and a build hash, skipped by the audit by content
    assert found <= {"email", "digest"}
