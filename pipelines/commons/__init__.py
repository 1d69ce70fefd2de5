"""Helpers shared by several commands that need no Dagster at import time: the rules of a
demonstrator's name, and demonstrator bundles (`datacites export`, `datacites new --from
bundle.zip`)."""
