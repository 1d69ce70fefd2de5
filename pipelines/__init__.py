"""datacites: Dagster demonstrators crossing public, private and anonymised personal data."""
