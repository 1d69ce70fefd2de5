"""Fetching a territory's public national files: download, check, cut (docs/fetch.md).

`fetch_territory` is what `datacites fetch --territory ID [SOURCE ...]` runs.
"""

from pipelines.fetch.download import FetchError, NotFound, mirrored
from pipelines.fetch.territory import FetchResult, describe, fetch_territory, resolve_download, territory_cache_dir

__all__ = ["FetchError", "FetchResult", "NotFound", "describe", "fetch_territory", "mirrored", "resolve_download",
           "territory_cache_dir"]
