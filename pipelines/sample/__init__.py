"""Generator of the embedded FICTIONAL sample territory, in the official file formats.

>>> from pipelines.sample import generate_sample  # doctest: +SKIP
>>> generate_sample(Path("sources/sample"), scale=1)  # doctest: +SKIP
>>> generate_sample(Path("sources/overseas_sample"), profile="overseas")  # doctest: +SKIP

Module map: ``profiles`` (which territory: CRSs, place, shape, codes, names) ->
``territory`` (outline, centres, districts) -> ``grid`` (inhabited 200 m
cells and their profiles) -> ``zoning`` (IRIS, communes) -> one writer module per
family of files (``geography``, ``filosofi``, ``dpe``, ``dvf``, ``gtfs``, ``housing``,
``private``, ``personal``), on top of ``writers`` (reproducible CSV, GPKG, ZIP).
"""

from .cli import main, sample_command
from .generator import SAMPLE_FILES, SampleSummary, generate_sample
from .names import FICTIONAL_DEPARTEMENTS, MAX_COMMUNES, commune_codes
from .profiles import MAINLAND, OVERSEAS, PROFILES, SampleProfile, get_profile
from .territory import DEFAULT_SEED, Targets

__all__ = [
    "generate_sample", "SampleSummary", "SAMPLE_FILES", "DEFAULT_SEED", "Targets",
    "FICTIONAL_DEPARTEMENTS", "MAX_COMMUNES", "commune_codes", "sample_command", "main",
    "SampleProfile", "MAINLAND", "OVERSEAS", "PROFILES", "get_profile",
]
