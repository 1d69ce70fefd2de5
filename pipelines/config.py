"""Paths and constants of the project, in one place.

Every path can be moved with an environment variable so that tests and other
territories can run against a scratch folder without touching the clone.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = Path(os.environ.get("DATACITES_ROOT", PACKAGE_DIR.parent)).resolve()

SOURCES_DIR = Path(os.environ.get("DATACITES_SOURCES_DIR", PROJECT_ROOT / "sources"))
TERRITORIES_DIR = SOURCES_DIR / "territories"
SAMPLE_DIR = SOURCES_DIR / "sample"  # the sample territory's data_dir (sources/territories/sample.yaml)
CACHE_DIR = SOURCES_DIR / "cache"
DEMONSTRATORS_DIR = Path(os.environ.get("DATACITES_DEMONSTRATORS_DIR", PROJECT_ROOT / "demonstrators"))
OUTPUTS_DIR = Path(os.environ.get("DATACITES_OUTPUTS_DIR", PROJECT_ROOT / "outputs"))
SITE_DIR = OUTPUTS_DIR / "site"

# Working state that must never be published: the asset store (Parquet of record,
# including staged personal data), Dagster's home and the per-clone sample key.
STATE_DIR = Path(os.environ.get("DATACITES_STATE_DIR", PROJECT_ROOT / ".datacites"))
STORE_DIR = STATE_DIR / "store"
DAGSTER_HOME_DIR = STATE_DIR / "dagster"
SAMPLE_KEY_FILE = STATE_DIR / "pseudonymisation.key"

DEFAULT_TERRITORY = os.environ.get("DATACITES_TERRITORY", "sample")

PSEUDONYMISATION_KEY_ENV = "DATACITES_PSEUDONYMISATION_KEY"

# Statistical-secrecy thresholds (INSEE and the law). Configurable only upward.
MIN_HOUSEHOLDS = 11          # household, tax and social data
MIN_DELIVERY_POINTS = 10     # residential energy (CNIL / Code de l'énergie practice)
MIN_BUSINESS_UNITS = 3       # business data
MAX_DOMINANCE_SHARE = 0.85   # one unit holding this share or more of a cell's total

SENSITIVITY_LEVELS = ("public", "aggregated", "private", "personal")

COMMUNE_CODE_PATTERN = r"^(\d{5}|2[AB]\d{3})$"
IRIS_CODE_PATTERN = r"^(\d{5}|2[AB]\d{3})\d{4}$"

GRID_RESOLUTION_M = 200
