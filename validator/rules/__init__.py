"""The lint rules, one module each, and their registry (stable codes: docs/DESIGN.md §3).

Each module holds a ``RULE``; ``RULES`` maps codes to rules in code order. New rules take the
next free code; no code ever changes meaning.
"""

from __future__ import annotations

import typing as t

from validator.rules import (
    ma001_unknown_message,
    ma002_unknown_table,
    ma003_unsupported_pair,
    ma004_message_not_available,
    ma005_table_not_available,
    ma006_invalid_operation,
    ma007_stale_metadata,
    ma008_unresolved_reference,
    ma009_unused_suppression,
    ma010_ownership_dependent,
    ma011_table_not_in_offline_profile,
    ma012_message_not_offline_in_mobile,
    ma013_related_table_outside_profile,
    ma014_reference_without_record,
)
from validator.rules.base import Context, Resolution, Rule, Severity

_MODULES = (
    ma001_unknown_message,
    ma002_unknown_table,
    ma003_unsupported_pair,
    ma004_message_not_available,
    ma005_table_not_available,
    ma006_invalid_operation,
    ma007_stale_metadata,
    ma008_unresolved_reference,
    ma009_unused_suppression,
    ma010_ownership_dependent,
    ma011_table_not_in_offline_profile,
    ma012_message_not_offline_in_mobile,
    ma013_related_table_outside_profile,
    ma014_reference_without_record,
)
RULES: t.Mapping[str, Rule] = {m.RULE.id: m.RULE for m in _MODULES}


__all__ = ["RULES", "Context", "Resolution", "Rule", "Severity"]
