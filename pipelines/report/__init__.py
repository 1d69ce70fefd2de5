"""Report: figures (pure functions returning Plotly figures) and the officials' static site.

``build_site(outputs_dir, site_dir)`` writes the offline site from the published
``outputs/`` (see :mod:`pipelines.report.site`); ``build_comparisons(outputs_dir)`` the
pages comparing territories (:mod:`pipelines.report.comparison`);
``take_screenshots(site_dir, out_dir)`` photographs pages in headless Chromium when one
is installed.
"""

from pipelines.report.comparison import build_comparisons
from pipelines.report.figures import (
    make_choropleth_figure,
    make_crossing_figure,
    make_distribution_figure,
    make_ranking_figure,
    make_territories_distribution_figure,
)
from pipelines.report.formatting import format_fr
from pipelines.report.screenshots import take_screenshots
from pipelines.report.site import SiteSummary, build_site

__all__ = [
    "SiteSummary",
    "build_comparisons",
    "build_site",
    "format_fr",
    "make_choropleth_figure",
    "make_crossing_figure",
    "make_distribution_figure",
    "make_ranking_figure",
    "make_territories_distribution_figure",
    "take_screenshots",
]
