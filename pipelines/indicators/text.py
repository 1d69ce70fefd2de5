"""French sentences built from indicator values, for headlines and comparisons.

Numbers go through the report's `format_fr`, so the pages and these sentences agree.
"""

from __future__ import annotations

import math

from pipelines.indicators.registry import Indicator
from pipelines.report.formatting import format_fr, parse_fr


def headline(indicator: Indicator, value: float) -> dict:
    """A headline figure: the value for the whole territory with a one-line explanation."""
    return {"indicator": indicator.id, "label": indicator.title, "value": value, "unit": indicator.unit,
            "text": format_fr(value, indicator.unit),
            "explanation": indicator.plain or f"{indicator.definition} Valeur pour l'ensemble du territoire."}


def crossing_sentence(indicator: Indicator, *, public_only: float, with_shared: float, label: str) -> dict:
    """Compare an indicator from public data alone with its value once shared data is added."""
    if any(math.isnan(v) for v in (public_only, with_shared)) or public_only == 0:
        sentence = "La comparaison n'est pas disponible : trop peu de zones publiables."
    else:
        gap = with_shared / public_only - 1
        if indicator.kind == "count":
            more = "de plus" if gap >= 0 else "de moins"
            # difference of the rounded figures, so that the sentence adds up as read
            shown = [parse_fr(format_fr(v, indicator.unit)) for v in (with_shared, public_only)]
            difference = abs(shown[0] - shown[1])
            change = f"soit {format_fr(difference, indicator.unit)} {more} ({format_fr(abs(gap), '%')})"
        else:
            change = f"soit une valeur {'inférieure' if gap < 0 else 'supérieure'} de {format_fr(abs(gap), '%')}"
        sentence = (f"Les données publiques seules donnent {format_fr(public_only, indicator.unit)} ; "
                    f"avec les données partagées, on obtient {format_fr(with_shared, indicator.unit)}, {change}.")
    return {"indicator": indicator.id, "label": label, "public_only": public_only, "with_shared": with_shared,
            "unit": indicator.unit, "sentence": sentence}
