"""Privacy by construction: keyed pseudonyms, cell suppression, disclosure audit, publication.

Modules (one job each):

- :mod:`~pipelines.privacy.keys`: ``resolve_key``, ``ensure_sample_key``;
- :mod:`~pipelines.privacy.pseudonymise`: ``pseudonymise`` (HMAC-SHA256), ``check_method``;
- :mod:`~pipelines.privacy.rules`: secrecy rules and ``primary_suppression``;
- :mod:`~pipelines.privacy.bounds`: an attacker's LP bounds on hidden cells;
- :mod:`~pipelines.privacy.suppression`: ``secondary_suppression``, ``protect_hierarchy``;
- :mod:`~pipelines.privacy.anonymise`: ``anonymise`` (personal or private source -> aggregates);
- :mod:`~pipelines.privacy.audit`: ``audit_outputs``, ``main_audit`` (``datacites audit``);
- :mod:`~pipelines.privacy.publish`: ``publish`` (staging, audit, swap);
- :mod:`~pipelines.privacy.notes`: ``privacy_note`` for the report pages.

Names are imported lazily, so that ``import pipelines.privacy`` stays cheap for the CLI.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "resolve_key": "keys", "ensure_sample_key": "keys",
    "pseudonymise": "pseudonymise", "check_method": "pseudonymise",
    "SuppressionRule": "rules", "make_rule": "rules", "as_rule": "rules", "primary_suppression": "rules",
    "Relation": "bounds", "attacker_bounds": "bounds",
    "secondary_suppression": "suppression", "protect_hierarchy": "suppression", "hierarchy_cells": "suppression",
    "anonymise": "anonymise",
    "AnonymisationReport": "report", "summarise_table": "report",
    "Finding": "audit", "audit_outputs": "audit", "main_audit": "audit",
    "publish": "publish", "PublishResult": "publish", "recover": "publish",
    "privacy_note": "notes",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pipelines.privacy' has no attribute '{name}'")
    return getattr(importlib.import_module(f"pipelines.privacy.{_EXPORTS[name]}"), name)
